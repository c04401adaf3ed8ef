import FastfoodThreadLocal
import Glibc

/// An error sentence written without heap memory.
///
/// The library must report failures even when every malloc fails, and a Swift String built by
/// interpolation allocates (the runtime aborts the process when that fails). An ErrorMessage is
/// written as it is built, straight into the calling thread's fixed buffer
/// (fastfood_internal_pending_message), by string interpolation whose literal pieces are static
/// strings and whose values are formatted in place. Write messages exactly as Strings:
///
///     throw .invalidArgument("ldx (\(ldx)) is smaller than in_features (\(width))")
///
/// The value itself is a token: `description` reads the calling thread's most recent message
/// (building another message on the same thread replaces it). Text past the buffer's capacity
/// is cut.
public struct ErrorMessage: ExpressibleByStringInterpolation, CustomStringConvertible, Sendable, Equatable {
    public typealias StringLiteralType = StaticString

    public init(stringLiteral literal: StaticString) {
        var writer = StringInterpolation(literalCapacity: 0, interpolationCount: 0)
        writer.appendLiteral(literal)
    }

    public init(stringInterpolation: StringInterpolation) {}

    /// The calling thread's most recent message (allocates a String: not for the failure path).
    public var description: String { String(cString: ErrorMessage.buffer) }

    /// The calling thread's message buffer, NUL-terminated.
    public static var buffer: UnsafeMutablePointer<CChar> { fastfood_internal_pending_message() }

    public struct StringInterpolation: StringInterpolationProtocol {
        private let buffer = ErrorMessage.buffer
        private var length = 0
        private let capacity = Int(FASTFOOD_MESSAGE_CAPACITY) - 1

        public init(literalCapacity: Int, interpolationCount: Int) { buffer[0] = 0 }

        private mutating func byte(_ b: UInt8) {
            guard length < capacity else { return }
            buffer[length] = CChar(bitPattern: b)
            length += 1
            buffer[length] = 0
        }

        private mutating func bytes(_ start: UnsafePointer<UInt8>, _ count: Int) {
            for i in 0 ..< count { byte(start[i]) }
        }

        public mutating func appendLiteral(_ literal: StaticString) {
            literal.withUTF8Buffer { bytes($0.baseAddress!, $0.count) }
        }

        public mutating func appendInterpolation(_ text: StaticString) { appendLiteral(text) }

        /// Strings that exist already (argument names): their bytes, read in place.
        public mutating func appendInterpolation(_ text: String) {
            var copy = text
            copy.withUTF8 { bytes($0.baseAddress!, $0.count) }
        }

        public mutating func appendInterpolation(_ value: Int) {
            if value < 0 {
                byte(0x2d)
                appendInterpolation(UInt64(0) &- UInt64(bitPattern: Int64(value)))
            } else {
                appendInterpolation(UInt64(value))
            }
        }

        public mutating func appendInterpolation(_ value: UInt) { appendInterpolation(UInt64(value)) }
        public mutating func appendInterpolation(_ value: UInt32) { appendInterpolation(UInt64(value)) }

        public mutating func appendInterpolation(_ value: UInt64) {
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of stack for 20 digits
            withUnsafeMutableBytes(of: &digits) { raw in
                var n = value, count = 0
                repeat {
                    raw[count] = UInt8(truncatingIfNeeded: 0x30 + n % 10)
                    n /= 10
                    count += 1
                } while n > 0
                while count > 0 {
                    count -= 1
                    byte(raw[count])
                }
            }
        }

        /// `hex:` as 0x-less lower-case hexadecimal.
        public mutating func appendInterpolation(hex value: UInt32) {
            var started = false
            for shift in stride(from: 28, through: 0, by: -4) {
                let digit = UInt8((value >> UInt32(shift)) & 0xf)
                if digit != 0 || started || shift == 0 {
                    started = true
                    byte(digit < 10 ? 0x30 + digit : 0x57 + digit)
                }
            }
        }

        /// Doubles as Swift prints them: the fewest significant digits that read back exactly,
        /// in positional notation with ".0" on whole numbers from 1e-4 up to 2^53 ("100.0",
        /// "0.00012"), else exponential ("1e-05", "1e+16"); "inf", "-inf", "nan".
        public mutating func appendInterpolation(_ value: Double) {
            if value.isNaN { return appendLiteral("nan") }
            if value.isInfinite { return appendLiteral(value < 0 ? "-inf" : "inf") }
            var text: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)  // 40 bytes
            withUnsafeMutableBytes(of: &text) { raw in
                let out = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
                // The shortest digits, found in exponential form: d.ddde[+-]XX.
                var digits = 1, length = 0
                while true {
                    length = Int(fastfood_internal_format_double(out, 40, 1, Int32(digits - 1), value))
                    if digits == 17 || strtod(out, nil) == value { break }
                    digits += 1
                }
                let magnitude = value.magnitude
                if value != 0 && (magnitude < 1e-4 || magnitude > 0x1p53) {
                    for i in 0 ..< length { byte(UInt8(bitPattern: out[i])) }
                    return
                }
                var e = 0
                while out[e] != 0x65 { e += 1 }  // 'e'
                let exponent = Int(strtol(out + e + 1, nil, 10))
                // The same digits positionally: as many after the point as they reach.
                length = Int(fastfood_internal_format_double(out, 40, 0, Int32(max(0, digits - 1 - exponent)), value))
                var whole = true
                for i in 0 ..< length {
                    byte(UInt8(bitPattern: out[i]))
                    if out[i] == 0x2e { whole = false }
                }
                if whole { byte(0x2e); byte(0x30) }
            }
        }

        public mutating func appendInterpolation<T: BinaryFloatingPoint>(_ value: T) {
            appendInterpolation(Double(value))
        }

        /// A NUL-terminated C string (strerror's text).
        public mutating func appendInterpolation(cString: UnsafePointer<CChar>) {
            var p = cString
            while p.pointee != 0 {
                byte(UInt8(bitPattern: p.pointee))
                p += 1
            }
        }

        /// A file name as the caller gave it: UTF-8 as is, other bytes >= 0x80 as \xNN.
        public mutating func appendInterpolation(path: UnsafePointer<CChar>) {
            let isUTF8 = ErrorMessage.isUTF8(path)
            var p = path
            while p.pointee != 0 {
                let b = UInt8(bitPattern: p.pointee)
                if b < 0x80 || isUTF8 {
                    byte(b)
                } else {
                    byte(0x5c); byte(0x78)  // \x
                    let hi = b >> 4, lo = b & 0xf
                    byte(hi < 10 ? 0x30 + hi : 0x57 + hi)
                    byte(lo < 10 ? 0x30 + lo : 0x57 + lo)
                }
                p += 1
            }
        }
    }
}

extension ErrorMessage {
    /// Whether a C string is valid UTF-8 (decoded in place, nothing allocated).
    public static func isUTF8(_ text: UnsafePointer<CChar>) -> Bool {
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self),
                                        count: strlen(text))
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
