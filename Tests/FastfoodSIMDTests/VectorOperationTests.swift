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

    /// Negation flips the sign bit of every lane and nothing else (zeros, NaN payloads and
    /// infinities included), float and double.
    @Test func negation() {
        var lanes = Lanes(state: 777)
        for _ in 0 ..< 1000 {
            var f = SIMD16<Float>(), d = SIMD8<Double>()
            for l in 0 ..< 16 { f[l] = Float(bitPattern: lanes.next()) }
            for l in 0 ..< 8 { d[l] = Double(bitPattern: UInt64(lanes.next()) << 32 | UInt64(lanes.next())) }
            let (nf, nd) = (-f, -d)
            for l in 0 ..< 16 { #expect(nf[l].bitPattern == f[l].bitPattern ^ 0x8000_0000) }
            for l in 0 ..< 8 { #expect(nd[l].bitPattern == d[l].bitPattern ^ 0x8000_0000_0000_0000) }
        }
    }

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

    /// multiplyAddRoundedOnce is the fused result, bit for bit, against the C library's fmaf
    /// (correctly rounded; what Float.addingProduct calls on a CPU without FMA), lane by lane.
    func expectFused(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>, _ what: String) -> Int {
        let got = SIMD16<Float>.multiplyAddRoundedOnce(a, b, c)
        var wrong = 0
        for l in 0 ..< 16 {
            let want = c[l].addingProduct(a[l], b[l])
            if got[l].bitPattern != want.bitPattern && !(got[l].isNaN && want.isNaN) {
                wrong += 1
                if wrong <= 3 { Issue.record("\(what): \(a[l]) * \(b[l]) + \(c[l]) gave \(got[l]), fused \(want)") }
            }
        }
        return wrong
    }

    /// The float features' multiply-adds other than the reduction's two steps (FastfoodKernels/
    /// SineCosine.swift) on every 193rd float with |x| <= 8192, both signs: k = x * 16/pi +
    /// 1.5 * 2^23, sin y's y + (y * y^2) a and cos y's y^2 / 24 - 1/2 (the last step's operands
    /// depend on phi's scale; Tests/CAPI/test_variants.c compares the variants on them).
    @Test func multiplyAddRoundedOnceOnTheFeatures() {
        let c1: Float = -0x1.921fb6p-3, c2: Float = 0x1.777a5cp-28, magic = SIMD16<Float>(repeating: 12_582_912)
        let invPiOver16 = SIMD16<Float>(repeating: 0x1.45f306p+2)
        var checked = 0, wrong = 0
        var bits: UInt32 = 0
        while bits <= 0x4600_0000 {  // 8192
            var x = SIMD16<Float>()
            for l in 0 ..< 16 { x[l] = Float(bitPattern: (bits &+ UInt32(l) &* 193) | (l % 2 == 0 ? 0 : 0x8000_0000)) }
            wrong += expectFused(x, invPiOver16, magic, "k")
            let k = SIMD16<Float>.multiplyAddRoundedOnce(x, invPiOver16, magic) - magic
            let y = SIMD16<Float>.multiplyAddInDouble(k, SIMD16(repeating: c2),
                                                      SIMD16<Float>.multiplyAddInDouble(k, SIMD16(repeating: c1), x))
            let z = y * y
            wrong += expectFused(y * z, SIMD16(repeating: -0x1.55308p-3), y, "sin y")
            wrong += expectFused(z, SIMD16(repeating: 1 / 24), SIMD16(repeating: -0.5), "cos y")
            checked += 16
            bits &+= 16 * 193
        }
        #expect(checked > 6_000_000)
        #expect(wrong == 0)
    }

    /// Operands where a * b + c in double rounds to a float midpoint that the exact sum is not on
    /// (double rounding would go the wrong way), exact midpoints (ties to even), subnormal
    /// results, and random operands over the whole exponent range.
    @Test func multiplyAddRoundedOnceEverywhere() {
        // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24, halfway between two floats; +- 2^-60 moves the exact
        // sum off the midpoint, but not the sum in double (2^-60 is below its last bit).
        let u = SIMD16<Float>(repeating: 1 + 0x1p-12)
        let tiny = SIMD16<Float>(repeating: 0x1p-60)
        let up = SIMD16<Float>.multiplyAddRoundedOnce(u, u, tiny), down = SIMD16<Float>.multiplyAddRoundedOnce(u, u, -tiny)
        #expect(up[0] == 1 + 0x1p-11 + 0x1p-23)  // fused: above the midpoint, rounds up
        #expect(down[0] == 1 + 0x1p-11)  // fused: below it, rounds down
        // Computed in double alone, the first rounds to the midpoint and then to even, down:
        #expect(Float(Double(u[0]) * Double(u[0]) + Double(tiny[0])) == 1 + 0x1p-11)
        var wrong = expectFused(u, u, tiny, "midpoint + tiny") + expectFused(u, u, -tiny, "midpoint - tiny")
        wrong += expectFused(u, u, SIMD16(), "exact midpoint")
        wrong += expectFused(-u, u, -tiny, "negative midpoint")
        // Exact midpoints at other exponents: (1 + i 2^-12)(1 + j 2^-12) = 1 + (i + j) 2^-12 + ij 2^-24
        // has its bit 2^-24 set for odd i and j (and stays below 2); c of either sign 2^-54 to
        // 2^-84 of the product, below the double sum's last bit.
        var lanes = Lanes(state: 0x2545_f491)
        for e in stride(from: -120, through: 120, by: 3) {
            var a = SIMD16<Float>(), b = SIMD16<Float>(), c = SIMD16<Float>()
            for l in 0 ..< 16 {
                let (i, j) = (Float(lanes.next() % 500 * 2 + 1), Float(lanes.next() % 500 * 2 + 1))
                a[l] = Float(sign: .plus, exponent: e / 2, significand: 1 + i * 0x1p-12)
                b[l] = Float(sign: l % 4 < 2 ? .plus : .minus, exponent: e - e / 2, significand: 1 + j * 0x1p-12)
                c[l] = Float(sign: l % 2 == 0 ? .plus : .minus, exponent: e - 54 - Int(lanes.next() % 31),
                             significand: 1 + Float(lanes.next() % 1024) * 0x1p-10)
            }
            wrong += expectFused(a, b, c, "near a midpoint, exponent \(e)")
        }
        // Subnormal results: 2^-75 (1 + 2^-20) times 2^-75 (1 - 2^-20) is 2^-150 - 2^-190, and
        // m 2^-149 (m in 2^19 ... 2^23, subnormal) plus it lies just inside a midpoint of the
        // subnormal floats; the sum in double is on the midpoint (its last bit is 2^-182), and
        // rounds to even: away from the fused result for odd m.
        var doubleRoundingWrong = 0
        for round in 0 ..< 64 {
            var a = SIMD16<Float>(), b = SIMD16<Float>(), c = SIMD16<Float>()
            for l in 0 ..< 16 {
                let negative = (round + l) % 4 >= 2
                a[l] = Float(sign: .plus, exponent: -75, significand: 1 + 0x1p-20)
                b[l] = Float(sign: negative ? .minus : .plus, exponent: -75, significand: 1 - 0x1p-20)
                c[l] = Float(bitPattern: ((1 << 19) + lanes.next() % (7 << 20)) | (negative ? 0x8000_0000 : 0))
                let inDouble = Float(Double(a[l]) * Double(b[l]) + Double(c[l]))
                if inDouble != c[l].addingProduct(a[l], b[l]) { doubleRoundingWrong += 1 }
            }
            wrong += expectFused(a, b, c, "subnormal midpoint")
        }
        #expect(doubleRoundingWrong > 100)  // the cases are hard: about half the lanes
        // Subnormal results (|a * b + c| < 2^-126): a * b near 2^-150 to 2^-154 plus subnormal c.
        for _ in 0 ..< 4000 {
            var a = SIMD16<Float>(), b = SIMD16<Float>(), c = SIMD16<Float>()
            for l in 0 ..< 16 {
                a[l] = Float(bitPattern: 0x1a00_0000 &+ lanes.next() % 0x0200_0000)  // about 2^-75 .. 2^-73
                b[l] = Float(bitPattern: (0x1800_0000 &+ lanes.next() % 0x0200_0000) | (lanes.next() & 0x8000_0000))
                c[l] = Float(bitPattern: lanes.next() % 0x0010_0000 | (lanes.next() & 0x8000_0000))
            }
            wrong += expectFused(a, b, c, "subnormal")
        }
        // Random bit patterns (NaN and infinities included; a NaN result need only be a NaN).
        for _ in 0 ..< 60_000 {
            var a = SIMD16<Float>(), b = SIMD16<Float>(), c = SIMD16<Float>()
            for l in 0 ..< 16 {
                (a[l], b[l]) = (Float(bitPattern: lanes.next()), Float(bitPattern: lanes.next()))
                // c near a * b in size half of the time, so that sums cancel and round.
                let near = Float(sign: .plus, exponent: a[l].exponent &+ b[l].exponent, significand: 1)
                c[l] = lanes.next() % 2 == 0 ? Float(bitPattern: lanes.next())
                    : near * Float(bitPattern: 0x3f80_0000 | lanes.next() % 0x0080_0000) * (l % 2 == 0 ? 1 : -1)
            }
            wrong += expectFused(a, b, c, "random")
        }
        #expect(wrong == 0)
    }
}
