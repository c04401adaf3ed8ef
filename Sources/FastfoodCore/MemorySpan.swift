/// The bytes a matrix argument covers: `rows` rows of `width` bytes, `stride` bytes apart
/// (stride >= width), from `start`. The boundary uses it to refuse outputs that share memory
/// with inputs or with each other (other than the documented exact in-place uses): such calls
/// used to give wrong results without an error.
///
/// Arithmetic wraps instead of trapping: the boundary has checked that each extent fits in an
/// Int, and a user-space address plus such an extent does not wrap. Inlinable: every call of the
/// library makes a few, and an unspecialised generic call across modules costs more than the check.
public struct MemorySpan: Sendable {
    public let start: UInt
    public let rows: UInt
    public let stride: UInt
    public let width: UInt

    /// rows x width elements of T, row stride `stride` elements (rows >= 1, stride >= width).
    @inlinable
    public init<T>(_ base: UnsafePointer<T>, rows: Int, width: Int, stride: Int) {
        let size = UInt(MemoryLayout<T>.stride)
        self.init(start: UInt(bitPattern: base), rows: UInt(bitPattern: rows), stride: UInt(bitPattern: stride) &* size,
                  width: UInt(bitPattern: width) &* size)
    }

    /// `count` contiguous elements of T.
    @inlinable
    public init<T>(_ base: UnsafePointer<T>, count: Int) {
        self.init(base, rows: 1, width: count, stride: count)
    }

    /// `count` contiguous bytes.
    @inlinable
    public init(_ base: UnsafeRawPointer, bytes count: Int) {
        self.init(start: UInt(bitPattern: base), rows: 1, stride: UInt(bitPattern: count), width: UInt(bitPattern: count))
    }

    @inlinable
    public init(start: UInt, rows: UInt, stride: UInt, width: UInt) {
        (self.start, self.rows, self.stride, self.width) = (start, rows, stride, width)
    }

    /// One past the last byte of the last row.
    @inlinable
    var end: UInt { start &+ (rows &- 1) &* stride &+ width }

    /// Whether the two spans are the same rows: the same start and, with more than one row, the
    /// same stride (the widths may differ: an exact in-place call's rows start at the same
    /// addresses, and each stride covers both widths, so row r of one meets only row r of the other).
    @inlinable
    public func isSameRows(as other: MemorySpan) -> Bool {
        start == other.start && rows == other.rows && (rows == 1 || stride == other.stride)
    }

    /// Whether any byte is in both spans: the gaps between strided rows are not part of a span,
    /// so two matrices interleaved in one buffer (rows of x and y side by side) do not overlap.
    /// Spans whose extents are apart (nearly every call) take a few instructions inline.
    @inlinable @inline(__always)
    public func overlaps(_ other: MemorySpan) -> Bool {
        // (An empty span's end may be anything: rowsMeet answers false for it.)
        guard start < other.end && other.start < end else { return false }
        return rowsMeet(other)
    }

    /// overlaps() for spans whose extents meet.
    @usableFromInline
    func rowsMeet(_ other: MemorySpan) -> Bool {
        guard rows > 0, width > 0, other.rows > 0, other.width > 0 else { return false }
        // Both row lists are sorted and disjoint within themselves (stride >= width): walk them
        // together from the first row that can reach the other span, always advancing the row
        // that ends first, until two rows meet or a list runs out.
        var i = firstRow(reaching: other.start), j = other.firstRow(reaching: start)
        while i < rows && j < other.rows {
            let low = start &+ i &* stride, otherLow = other.start &+ j &* other.stride
            let high = low &+ width, otherHigh = otherLow &+ other.width
            if low < otherHigh && otherLow < high { return true }
            if high <= otherHigh { i &+= 1 } else { j &+= 1 }
        }
        return false
    }

    /// The first row that ends after `address` (the rows before it end at or before it).
    private func firstRow(reaching address: UInt) -> UInt {
        guard address > start, rows > 1, stride > 0 else { return 0 }
        // Row k starts at or before address for k <= (address - start) / stride; the rows
        // before that one end before it starts (width <= stride).
        return min((address &- start) / stride, rows &- 1)
    }
}
