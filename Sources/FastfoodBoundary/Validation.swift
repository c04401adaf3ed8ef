import CFastfood

/// Argument checks shared by the exported functions. Each throws the documented status with a
/// sentence naming the argument, its value and what was expected.
enum Validate {
    static func nonNull<P>(_ pointer: P?, _ name: StaticString) throws(BoundaryError) -> P {
        guard let pointer else { throw .nullPointer(name) }
        return pointer
    }

    static func flags(_ flags: UInt32, allowed: UInt32, _ name: StaticString) throws(BoundaryError) {
        let unknown = flags & ~allowed
        guard unknown == 0 else {
            throw .invalidArgument("\(name) has unknown bits 0x\(String(unknown, radix: 16)) (allowed mask 0x\(String(allowed, radix: 16)))")
        }
    }

    /// A row-major matrix of `rows` rows of `width` elements with row stride `stride`: the stride
    /// covers the row, and the whole extent, (rows - 1) * stride + width elements of `T`, is
    /// addressable. Returns nothing: the pointer itself is checked separately.
    static func matrix<T>(
        _ type: T.Type, rows: Int, width: Int, stride: Int, name: StaticString, strideName: StaticString,
        widthName: StaticString
    ) throws(BoundaryError) {
        guard stride >= 0 else {
            throw .sizeOverflow("\(strideName) (\(unsigned(stride))) is larger than any addressable array")
        }
        guard stride >= width else {
            throw .invalidArgument("\(strideName) (\(stride)) is smaller than \(widthName) (\(width)); a row stride must be at least the row length")
        }
        let (span, o1) = (rows - 1).multipliedReportingOverflow(by: stride)
        let (elements, o2) = span.addingReportingOverflow(width)
        let (_, o3) = elements.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !(o1 || o2 || o3) else {
            throw .sizeOverflow("\(name) would span (\(rows) - 1) * \(strideName) (\(stride)) + \(width) elements, more than an address space holds")
        }
    }

    /// A count of rows (`name`: the argument): any value below 2^63 is acceptable.
    static func rowCount(_ rows: Int, _ name: StaticString = "batch") throws(BoundaryError) {
        guard rows >= 0 else {
            throw .sizeOverflow("\(name) (\(unsigned(rows))) is larger than any addressable array")
        }
    }
}
