import FastfoodSIMD
import Testing

/// The builtin vector operations against their lane-by-lane definitions, on random lanes and on
/// the values where signed and unsigned views differ (0x7fffffff, 0x80000000, 0xffffffff).
@Suite struct VectorOperationTests {
    static let edges: [UInt32] = [0, 1, 0xffff, 0x1_0000, 0x7fff_ffff, 0x8000_0000, 0x8000_0001, 0xffff_fffe, 0xffff_ffff]

    /// xorshift32: deterministic lanes.
    struct Lanes {
        var state: UInt32
        mutating func next() -> UInt32 {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return state
        }
        /// Random lanes with the edge values mixed in.
        mutating func vector<V: SIMD>(_: V.Type) -> V where V.Scalar == UInt32 {
            var v = V()
            for l in 0 ..< V.scalarCount {
                let r = next()
                v[l] = r % 3 == 0 ? VectorOperationTests.edges[Int(r / 3) % VectorOperationTests.edges.count] : next()
            }
            return v
        }
    }

    func checkKeyVector<V: KeyVector>(_: V.Type) {
        var lanes = Lanes(state: 0x9e37_79b9)
        for _ in 0 ..< 2000 {
            let a = lanes.vector(V.self), b = lanes.vector(V.self)
            let (xor, and, product, sum) = (a ^ b, a & b, a &* b, a &+ b)
            let greater = V.signedGreaterMask(a, b)
            var anyGreater = false
            for l in 0 ..< V.scalarCount {
                #expect(xor[l] == a[l] ^ b[l])
                #expect(and[l] == a[l] & b[l])
                #expect(product[l] == a[l] &* b[l])
                #expect(sum[l] == a[l] &+ b[l])
                let isGreater = Int32(bitPattern: a[l]) > Int32(bitPattern: b[l])
                #expect(greater[l] == (isGreater ? 0xffff_ffff : 0))
                anyGreater = anyGreater || isGreater
            }
            #expect(V.anySignedGreater(a, b) == anyGreater)
            for count: UInt32 in [0, 1, 15, 16, 30, 31] {
                let (right, left) = (a &>> count, a &<< count)
                for l in 0 ..< V.scalarCount {
                    #expect(right[l] == a[l] >> count)
                    #expect(left[l] == a[l] << count)
                }
            }
        }
        // anySignedGreater sees every lane alone.
        for l in 0 ..< V.scalarCount {
            var a = V(repeating: 5)
            a[l] = 6
            #expect(V.anySignedGreater(a, V(repeating: 5)))
            #expect(!V.anySignedGreater(V(repeating: 5), a))
        }
    }

    @Test func keyVector16() { checkKeyVector(SIMD16<UInt32>.self) }
    @Test func keyVector8() { checkKeyVector(SIMD8<UInt32>.self) }

    /// blend takes b exactly where the mask lane's sign bit is set, bit patterns unchanged
    /// (-0, NaN payloads, infinities pass through).
    @Test func blend() {
        var lanes = Lanes(state: 12345)
        let specials: [Float] = [-0.0, .nan, -.infinity, .leastNonzeroMagnitude, Float(bitPattern: 0x7fc0_1234)]
        for round in 0 ..< 2000 {
            var a = SIMD16<Float>(), b = SIMD16<Float>()
            for l in 0 ..< 16 {
                a[l] = Float(bitPattern: lanes.next())
                b[l] = round % 2 == 0 ? specials[l % specials.count] : Float(bitPattern: lanes.next())
            }
            let mask = lanes.vector(SIMD16<UInt32>.self)
            let picked = SIMD16<Float>.blend(a, b, signOf: mask)
            for l in 0 ..< 16 {
                let want = mask[l] >= 0x8000_0000 ? b[l] : a[l]
                #expect(picked[l].bitPattern == want.bitPattern)
            }
        }
    }

    /// The same for Double lanes and 64-bit masks (the sign bit is bit 63: the mask lanes are built
    /// from two 32-bit draws, high half from the edge values too).
    @Test func blendDouble() {
        var lanes = Lanes(state: 54321)
        let specials: [Double] = [-0.0, .nan, -.infinity, .leastNonzeroMagnitude, Double(bitPattern: 0x7ff8_0000_1234_5678)]
        for round in 0 ..< 2000 {
            var a = SIMD8<Double>(), b = SIMD8<Double>(), mask = SIMD8<UInt64>()
            let high = lanes.vector(SIMD8<UInt32>.self), low = lanes.vector(SIMD8<UInt32>.self)
            for l in 0 ..< 8 {
                a[l] = Double(bitPattern: UInt64(lanes.next()) << 32 | UInt64(lanes.next()))
                b[l] = round % 2 == 0 ? specials[l % specials.count]
                    : Double(bitPattern: UInt64(lanes.next()) << 32 | UInt64(lanes.next()))
                mask[l] = UInt64(high[l]) << 32 | UInt64(low[l])
            }
            let picked = SIMD8<Double>.blend(a, b, signOf: mask)
            for l in 0 ..< 8 {
                let want = mask[l] >= 1 << 63 ? b[l] : a[l]
                #expect(picked[l].bitPattern == want.bitPattern)
            }
        }
    }

    /// multiplyAddInDouble is the fused result for the operands the float features' reduction
    /// gives it (FastfoodKernels/SineCosine.swift: k = x * 16/pi rounded, then x - k * C1 and
    /// y + k * C2, with C1 + C2 = pi/16): every 193rd float with |x| <= 8192, both signs, against
    /// the C library's fmaf (correctly rounded). And it is not the fused result in general:
    /// products halfway between two floats plus a tiny c round twice the wrong way.
    @Test func multiplyAddInDouble() {
        let c1: Float = -0x1.921fb6p-3, c2: Float = 0x1.777a5cp-28, magic: Float = 12_582_912
        var checked = 0
        var bits: UInt32 = 0
        while bits <= 0x4600_0000 {  // 8192
            var x = SIMD16<Float>()
            for l in 0 ..< 16 { x[l] = Float(bitPattern: (bits &+ UInt32(l) &* 193) | (l % 2 == 0 ? 0 : 0x8000_0000)) }
            let k = (x * SIMD16(repeating: 0x1.45f306p+2) + SIMD16(repeating: magic)) - SIMD16(repeating: magic)
            let step1 = SIMD16<Float>.multiplyAddInDouble(k, SIMD16(repeating: c1), x)
            let step2 = SIMD16<Float>.multiplyAddInDouble(k, SIMD16(repeating: c2), step1)
            for l in 0 ..< 16 where x[l].magnitude <= 8192 {
                #expect(step1[l].bitPattern == x[l].addingProduct(k[l], c1).bitPattern, "x = \(x[l])")
                #expect(step2[l].bitPattern == step1[l].addingProduct(k[l], c2).bitPattern, "x = \(x[l])")
                checked += 1
            }
            bits &+= 16 * 193
        }
        #expect(checked > 6_000_000)
        // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24, halfway between two floats; + 2^-60 rounds up when
        // fused, but to the midpoint in double and then to even.
        let u = SIMD16<Float>(repeating: 1 + 0x1p-12)
        let twice = SIMD16<Float>.multiplyAddInDouble(u, u, SIMD16(repeating: 0x1p-60))
        #expect(twice[0] != Float(0x1p-60).addingProduct(u[0], u[0]))
    }
}
