import FastfoodEngine
import Testing

@Suite struct WalshHadamardTests {
    static let lengths = (0 ... 12).map { 1 << $0 }  // 1 ... 4096

    @Test(arguments: lengths)
    func matchesExplicitHadamardMatrix(n: Int) {
        var random = TestRandom(UInt64(n))
        let x = random.array(n)
        let expected = multiply(sylvesterHadamard(n), x)
        #expect(relativeError(transform(x), expected) < 1e-13)
        let single = transform(x.map { Float($0) }).map { Double($0) }
        #expect(relativeError(single, expected) < 1e-5)
    }

    @Test(arguments: lengths + [1 << 13, 1 << 15, 1 << 17])
    func appliedTwiceMultipliesByLength(n: Int) {
        // Small integers: every intermediate is exact, so equality is exact.
        let x = (0 ..< n).map { Double(($0 * 7919) % 9) - 4 }
        #expect(transform(transform(x)) == x.map { $0 * Double(n) })
        let xf = x.map { Float($0) }
        if n <= 1 << 15 {  // stays below 2^24, exact in Float
            #expect(transform(transform(xf)) == xf.map { $0 * Float(n) })
        }
    }

    @Test func transformsStridedVectorsIndependently() {
        let n = 64, stride = 70, count = 3
        var random = TestRandom(5)
        var data = random.array(stride * count)
        let original = data
        data.withUnsafeMutableBufferPointer { Double.transform($0.baseAddress!, 6, count, stride) }
        for c in 0 ..< count {
            let expected = multiply(sylvesterHadamard(n), Array(original[c * stride ..< c * stride + n]))
            #expect(relativeError(Array(data[c * stride ..< c * stride + n]), expected) < 1e-13)
            #expect(data[c * stride + n ..< (c + 1) * stride] == original[c * stride + n ..< (c + 1) * stride])
        }
    }
}
