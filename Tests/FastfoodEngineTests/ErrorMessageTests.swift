import FastfoodCore
import Testing

/// The error sentences are built without heap memory (ErrorMessage): each interpolated value is
/// formatted in place, and must read as the String interpolation it stands for would.
@Suite struct ErrorMessageTests {
    /// The calling thread's sentence after building `message`.
    func text(_ message: ErrorMessage) -> String { message.description }

    @Test func integers() {
        for value in [0, 7, -5, 10, 1_000_000, Int.max, Int.min, -1] {
            #expect(text("n (\(value))") == "n (\(String(value)))")
        }
        for value: UInt64 in [0, 9, 10, 4_294_967_296, UInt64.max] {
            #expect(text("\(value)") == String(value))
        }
        #expect(text("\(UInt32.max)") == "4294967295")
    }

    @Test func hexadecimal() {
        for value: UInt32 in [0, 1, 0x4, 0xabc0, 0x8000_0000, 0xffff_ffff] {
            #expect(text("0x\(hex: value)") == "0x" + String(value, radix: 16))
        }
    }

    /// Doubles as Swift prints them: shortest round-trip digits, ".0" on whole numbers.
    @Test func doubles() {
        let values: [Double] = [0, -0.0, 1, -1, 0.1, 1.0625, 0.15, 1e-300, 5e-324, 1e16, 1e-5, 123_456.0, 10,
                                0.0001, 0.00012, 9.999999999999999e-05, 0x1p53, 0x1p53 + 2, 1e15, 2.5e-3,
                                1_234_567_890_123_456, 12_345_678_901_234_567_890, .greatestFiniteMagnitude,
                                .infinity, -.infinity, 2.0 / 3.0, 100]
        for value in values {
            #expect(text("(\(value))") == "(\(value))", "\(value)")
        }
        #expect(text("\(Double.nan)") == "nan")
        var generator = SplitMix64(state: 12)
        for i in 0 ..< 3000 {
            let bits = generator.next()
            let value: Double
            switch i % 3 {
            case 0: value = Double(bitPattern: bits)  // any double, mostly far from 1
            case 1:  // around the switches between notations (2^-20 .. 2^60)
                value = Double(sign: bits >> 63 == 0 ? .plus : .minus, exponent: Int(bits % 81) - 20,
                               significand: 1 + Double(bits >> 12) * 0x1p-52)
            default: value = Double(Int64(bitPattern: bits) >> Int(bits % 60))  // whole numbers
            }
            if value.isNaN { continue }
            #expect(text("\(value)") == "\(value)")
        }
        #expect(text("\(Float(0.1))") == "\(Double(Float(0.1)))")
    }

    @Test func paths() {
        #expect(text("'\(path: "plain/name.layer")'") == "'plain/name.layer'")
        #expect(text("'\(path: "caf\u{e9}-\u{20ac}")'") == "'caf\u{e9}-\u{20ac}'")  // UTF-8 as it is
        let bytes: [CChar] = [0x61, CChar(bitPattern: 0xff), CChar(bitPattern: 0xc3), 0x2f, CChar(bitPattern: 0xab), 0]
        #expect(text("'\(path: bytes)'") == "'a\\xff\\xc3/\\xab'")  // not UTF-8: every byte >= 0x80 escaped
        #expect(text("\(cString: "strerror text")") == "strerror text")
    }

    /// A sentence longer than the buffer is cut at FASTFOOD_MESSAGE_CAPACITY - 1 bytes.
    @Test func longSentencesAreCut() {
        let long = String(repeating: "x", count: 2000)
        let cut = text("start \(long) end")
        #expect(cut.utf8.count == 511)
        #expect(cut.hasPrefix("start xxx"))
        #expect(text("short \(3)") == "short 3")  // the next sentence starts afresh
    }
}
