/// cos and sin of whole vectors for the random-feature maps: phi = [cos z, sin z] / sqrt(n); and
/// the features' gradient from a saved phi, which needs neither (gradientFromSaved).
///
/// Float (since 1.4.10): x = k * pi/16 + y with k the nearest integer to x * 16/pi (by adding and
/// subtracting 1.5 * 2^23, which rounds to nearest even), y in two fused Cody-Waite steps (the
/// first exact); sin y = y + a y^3 (minimax) and cos y - 1 = -y^2/2 + y^4/24 on |y| <= pi/32;
/// then sin x = (sin a + cos a sin y) + sin a (cos y - 1) and cos x = (cos a - sin a sin y) +
/// cos a (cos y - 1), with s sin a and s cos a from a 32-entry table of s sin(k pi/16)
/// (FloatSineTable, made once per call; one AVX-512 permute per lookup). Since 1.5.1 every
/// addition that follows a multiply is inside a fused multiply-add (the first step, both
/// polynomials, the last step): 12 multiplies or multiply-adds and 8 other operations per
/// vector (13 before, 22 with the quadrant method below). On Zen 4 the bound is all of them,
/// not the multiplies alone: features forward 0.95x, backward 0.97x of 1.5.0's time at 1024 and
/// 4096 (benchmarks/README.md, "Random features"). The price is accuracy: the last step rounds
/// twice at full size instead of adding the small terms first, about half a unit more (below).
/// In the generic variant on x86-64, which has no FMA, each multiply-add is computed in double
/// and checked lane by lane where not proven exact (multiplyAdd), so every kernel variant and
/// every lane computes the same bits.
///
/// Double (as Cephes and fdlibm): x = r * pi/2 + y with r the nearest integer to x * 2/pi, y in
/// three Cody-Waite steps against a three-part pi/2 whose first parts have short mantissas, so
/// that r * part is exact; then fdlibm's polynomials for sin and cos on [-pi/4, pi/4] and the
/// quadrant r mod 4 picks and signs the pair. Only +, -, * (never fused), integer and bit
/// operations. The scale s = 1 / sqrt(n) is folded into the polynomials (since 1.4.1), as it is
/// into Float's table: cosSin returns phi's own values, and the recomputing features backward
/// forms dy = c * dsin - s * dcos from the same bits as the backward from the saved phi, so the
/// two feature backwards agree bit for bit.
///
/// Accuracy: phi / s has absolute error at most 4 * 2^-24 (float) and 4 * 2^-53 (double) against
/// the C library's double cos and sin, checked by Tests/CAPI/test_training.c over the features of
/// a layer and over a sweep of z (measured there at 1.5.1: 1.52 and 1.00 units, and 1.59 and 2.00).
/// Over every float in range (a throwaway C copy of these operations, 1.5.1): 1.98 units with
/// s = 1 / sqrt(3), 2.02 with 1 / sqrt(2), 1.57 with s = 1 (1.4.10-1.5.0: 1.44, 1.63 and 1.12;
/// 1.4.9's quadrant method 1.45 and 1.80). A lane beyond the vector range (|x| > 8192 for float,
/// 2^20 for double), infinite or NaN takes the C library's cosf/sinf (cos/sin) times s instead
/// (out of line, beyondRange); the other lanes of its vector keep the polynomials, so every
/// value depends on its own x only, not on which values share its vector (the tile and row
/// paths agree).
import FastfoodSIMD
import Glibc
#if FASTFOOD_AVX2 || FASTFOOD_AVX512
import FastfoodShuffles
#endif

enum SineCosine {
    /// cosSin's constants for a layer of `outFeatures` outputs: phi's scale is 1 / sqrt(outFeatures).
    static func table<T: FastfoodFloat>(_: T.Type, outFeatures: Int) -> T.CosSinTable {
        T.cosSinTable(scale: T(1 / Double(outFeatures).squareRoot()))
    }

    /// Row in place: z[j] (j < count) becomes cos(z[j]) * scale and z[count + j] sin(z[j]) * scale.
    /// (The row path's; the tiles make the same values in their scatter, TileKernels.scatterFeatures.)
    @inline(__always)
    static func featuresRow<T: FastfoodFloat>(_ z: UnsafeMutablePointer<T>, count: Int, table: T.CosSinTable) {
        typealias V = T.Vector
        let width = V.scalarCount
        var j = 0
        while j + width <= count {
            let p = UnsafeMutableRawPointer(z + j)
            let (c, sn) = T.cosSin(p.loadUnaligned(as: V.self), table)
            p.storeBytes(of: c, as: V.self)
            UnsafeMutableRawPointer(z + count + j).storeBytes(of: sn, as: V.self)
            j += width
        }
        guard j < count else { return }
        // The tail through the same vector code, lanes past count zero.
        var tail = V()
        for l in 0 ..< count - j { tail[l] = z[j + l] }
        let (c, sn) = T.cosSin(tail, table)
        for l in 0 ..< count - j {
            z[j + l] = c[l]
            z[count + j + l] = sn[l]
        }
    }

    /// Row in place: z[j] becomes c * dphi[count + j] - s * dphi[j] with (c, s) = cosSin(z[j], scale),
    /// the phi values featuresRow makes of z[j] (so, bit for bit, gradientFromSaved of that phi).
    @inline(__always)
    static func gradientRow<T: FastfoodFloat>(_ z: UnsafeMutablePointer<T>, dphi: UnsafePointer<T>, count: Int,
                                             table: T.CosSinTable) {
        typealias V = T.Vector
        let width = V.scalarCount
        @inline(__always) func load(_ p: UnsafePointer<T>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var j = 0
        while j + width <= count {
            let (c, sn) = T.cosSin(load(z + j), table)
            let dz = gradient(cos: c, sin: sn, dcos: load(dphi + j), dsin: load(dphi + count + j))
            UnsafeMutableRawPointer(z + j).storeBytes(of: dz, as: V.self)
            j += width
        }
        guard j < count else { return }
        var tail = V(), dcos = V(), dsin = V()
        for l in 0 ..< count - j { (tail[l], dcos[l], dsin[l]) = (z[j + l], dphi[j + l], dphi[count + j + l]) }
        let (c, sn) = T.cosSin(tail, table)
        let dz = gradient(cos: c, sin: sn, dcos: dcos, dsin: dsin)
        for l in 0 ..< count - j { z[j + l] = dz[l] }
    }

    /// The layer's gradient from phi's values (c, s) and phi's gradient (dcos, dsin), lane by lane:
    /// c * dsin - s * dcos, two rounded products and then their difference, never fused. Every
    /// feature backward forms its dy here (the recomputing row and tile paths from cosSin, the
    /// backward from the saved phi from phi itself), so they agree bit for bit.
    @inline(__always)
    static func gradient<V: VectorArithmetic>(cos c: V, sin s: V, dcos: V, dsin: V) -> V {
        c * dsin - s * dcos
    }

    /// Row: dy[j] = phi[j] * dphi[count + j] - phi[count + j] * dphi[j] for j < count (the layer's
    /// gradient from the forward's saved phi = [cos z | sin z] / sqrt(count); no cos or sin).
    /// Two roundings of products and one of the difference, never fused, in every lane and variant.
    @inline(__always)
    static func gradientFromSaved<T: FastfoodFloat>(phi: UnsafePointer<T>, dphi: UnsafePointer<T>, count: Int,
                                                   into dy: UnsafeMutablePointer<T>) {
        typealias V = T.Vector
        let width = V.scalarCount
        @inline(__always) func load(_ p: UnsafePointer<T>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var j = 0
        while j + width <= count {
            let d = gradient(cos: load(phi + j), sin: load(phi + count + j), dcos: load(dphi + j),
                             dsin: load(dphi + count + j))
            UnsafeMutableRawPointer(dy + j).storeBytes(of: d, as: V.self)
            j += width
        }
        while j < count {  // the same operations on single elements
            dy[j] = phi[j] * dphi[count + j] - phi[count + j] * dphi[j]
            j += 1
        }
    }
}

/// Float's cosSin constants for one call, made from phi's scale s: s * sin(k pi / 16) for
/// k = 0 ..< 32, entries 0-15 in `low` and 16-31 in `high` (one AVX-512 register each).
struct FloatSineTable {
    let low: SIMD16<Float>
    let high: SIMD16<Float>
    let scale: Float

    /// sin(k pi / 16) for k = 0 ... 8, the doubles nearest (the others by symmetry, so that the
    /// table is exactly symmetric: entry k + 16 is minus entry k, entry 16 - k equals entry k).
    private static let firstQuadrant: [Double] = [
        0, 0x1.8f8b83c69a60bp-3, 0x1.87de2a6aea963p-2, 0x1.1c73b39ae68c8p-1, 0x1.6a09e667f3bcdp-1,
        0x1.a9b66290ea1a3p-1, 0x1.d906bcf328d46p-1, 0x1.f6297cff75cb0p-1, 1,
    ]

    init(scale: Float) {
        func entry(_ k: Int) -> Float {
            let sine = Self.firstQuadrant[k & 15 <= 8 ? k & 15 : 16 - (k & 15)]
            // The product rounded to double, then to float: the same bits everywhere.
            let value = Float(Double(scale) * sine)
            return k & 16 == 0 ? value : -value
        }
        var low = SIMD16<Float>(), high = SIMD16<Float>()
        for k in 0 ..< 16 { (low[k], high[k]) = (entry(k), entry(k + 16)) }
        (self.low, self.high, self.scale) = (low, high, scale)
    }

    /// Lane i: entry index[i] mod 32.
    @inline(__always)
    func lookup(_ index: SIMD16<UInt32>) -> SIMD16<Float> {
        #if FASTFOOD_AVX512
        return fastfood_lookup32_ps(unsafeBitCast(index, to: SIMD8<Int64>.self), low, high)
        #elseif FASTFOOD_AVX2
        // high is low negated (init), so the low half of the table and index bit 4 suffice.
        let (l0, l1) = unsafeBitCast(low, to: (SIMD8<Float>, SIMD8<Float>).self)
        let (i0, i1) = unsafeBitCast(index, to: (SIMD4<Int64>, SIMD4<Int64>).self)
        return unsafeBitCast((fastfood_lookup32_ps_avx2(i0, l0, l1), fastfood_lookup32_ps_avx2(i1, l0, l1)),
                             to: SIMD16<Float>.self)
        #else
        var result = SIMD16<Float>()
        withUnsafeBytes(of: (low, high)) { entries in
            for l in 0 ..< 16 { result[l] = entries.load(fromByteOffset: Int(index[l] & 31) &* 4, as: Float.self) }
        }
        return result
        #endif
    }
}

extension Float {
    typealias CosSinTable = FloatSineTable

    static func cosSinTable(scale: Float) -> FloatSineTable { FloatSineTable(scale: scale) }

    /// (cos x * scale, sin x * scale) lane by lane; see SineCosine.
    @inline(__always)
    static func cosSin(_ x: SIMD16<Float>, _ table: FloatSineTable) -> (SIMD16<Float>, SIMD16<Float>) {
        typealias U = SIMD16<UInt32>
        let bits = unsafeBitCast(x, to: U.self)
        let (c, s) = reducedCosSin(x, table)
        // 8192 = 0x46000000; NaN and infinities compare above too (|x|'s bits are below 2^31).
        guard _slowPath(U.anySignedGreater(bits & U(repeating: 0x7fff_ffff), U(repeating: 0x4600_0000))) else {
            return (c, s)
        }
        return beyondRange(x, cosine: c, sine: s, scale: table.scale)
    }

    /// cosSin's lanes out of range, and only those, from the C library: every value depends on
    /// its own x, whichever values share its vector (a tile's column or a row's columns). Out of
    /// line and marked slow, so that the hot loops keep their values in registers around the
    /// call (inlined, the backward spilled and reloaded two vectors per column around it).
    @inline(never)
    private static func beyondRange(_ x: SIMD16<Float>, cosine: SIMD16<Float>, sine: SIMD16<Float>, scale: Float)
        -> (SIMD16<Float>, SIMD16<Float>) {
        var (c, s) = (cosine, sine)
        for l in 0 ..< 16 where x[l].bitPattern & 0x7fff_ffff > 0x4600_0000 {
            (c[l], s[l]) = (cosf(x[l]) * scale, sinf(x[l]) * scale)
        }
        return (c, s)
    }

    /// a * b + c rounded once (a fused multiply-add), lane by lane: the FMA instruction, except in
    /// the generic variant on x86-64, which has none (LLVM would call the C library's software
    /// fmaf once per lane): there from double arithmetic, checked lane by lane, with the same
    /// result bit for bit (FastfoodSIMD's multiplyAddRoundedOnce), so every variant computes the
    /// same bits. `exactInDouble`: the caller proves a * b + c exact in double, so the check is
    /// skipped (multiplyAddInDouble; 4% of the generic features forward). The reduction's two
    /// steps are, for |x| <= 8192: k is an integer of at most 16 bits and C1 and C2 have 24, so
    /// k * C is exact (40 bits). Step 1: x - k * C1 is exact even in float (see reducedCosSin).
    /// Step 2: y (a multiple of 2^-27 once k != 0, |y| < 2^-3) plus k * C2 (a multiple of C2's
    /// last bit, 2^-51) is a multiple of 2^-51 below 2^-2: 49 bits, exact in double. With k = 0
    /// both give c, the sign of zero included. (Checked against the C library's fmaf by
    /// Tests/FastfoodSIMDTests, every 193rd float with |x| <= 8192.)
    @inline(__always)
    private static func multiplyAdd(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>,
                                    exactInDouble: Bool = false) -> SIMD16<Float> {
        #if arch(x86_64) && !(FASTFOOD_AVX2 || FASTFOOD_AVX512)
        return exactInDouble ? SIMD16<Float>.multiplyAddInDouble(a, b, c) : SIMD16<Float>.multiplyAddRoundedOnce(a, b, c)
        #else
        return SIMD16<Float>.fusedMultiplyAdd(a, b, c)
        #endif
    }

    /// cosSin by the reduction, polynomials and table, right for |x| <= 8192 (other lanes: any value).
    @inline(__always)
    private static func reducedCosSin(_ x: SIMD16<Float>, _ table: FloatSineTable) -> (SIMD16<Float>, SIMD16<Float>) {
        typealias V = SIMD16<Float>
        typealias U = SIMD16<UInt32>
        // k = x * 16/pi rounded to nearest (even) by adding 1.5 * 2^23: k mod 32 is in the low
        // bits of the sum's mantissa, which the lookups read.
        let magic = V(repeating: 12_582_912)
        let shifted = multiplyAdd(x, V(repeating: 0x1.45f306p+2), magic)
        let k = shifted - magic
        let sineIndex = unsafeBitCast(shifted, to: U.self)
        // y = x - k * pi/16 against pi/16 = C1 + C2 (+ 2.1e-16). The first step is exact: k * C1 is
        // a multiple of 2^-26 (C1's last bit), x of 2^-27 once k != 0, and |y| < 2^-3.
        var y = multiplyAdd(k, V(repeating: -0x1.921fb6p-3), x, exactInDouble: true)
        y = multiplyAdd(k, V(repeating: 0x1.777a5cp-28), y, exactInDouble: true)
        // |y| <= pi/32 (+ 1e-4 from 16/pi's rounding): sin y as y + a y^3, a minimax (within
        // 1.0e-8 = 0.17 x 2^-24 on |y| <= 0.0985), cos y to y^4 as Taylor's (within 1.3e-9).
        let z = y * y
        let sinY = multiplyAdd(y * z, V(repeating: -0x1.55308p-3), y)
        let cosYMinus1 = z * multiplyAdd(z, V(repeating: 1 / 24), V(repeating: -0.5))
        // sin(a + y) and cos(a + y) for a = k pi/16, the table holding s sin a (cos a = sin(a + pi/2):
        // entry k + 8).
        let sinA = table.lookup(sineIndex), cosA = table.lookup(sineIndex &+ U(repeating: 8))
        // sin a + cos a sin y rounded, then plus sin a (cos y - 1): each addition inside a
        // multiply-add (see the file's comment for the cost in accuracy).
        let sine = multiplyAdd(sinA, cosYMinus1, multiplyAdd(cosA, sinY, sinA))
        let cosine = multiplyAdd(cosA, cosYMinus1, multiplyAdd(-sinA, sinY, cosA))
        return (cosine, sine)
    }
}

extension Double {
    /// Double's cosSin needs the scale only.
    typealias CosSinTable = Double

    static func cosSinTable(scale: Double) -> Double { scale }

    /// (cos x * scale, sin x * scale) lane by lane; see SineCosine.
    @inline(__always)
    static func cosSin(_ x: SIMD8<Double>, _ scale: Double) -> (SIMD8<Double>, SIMD8<Double>) {
        typealias U = SIMD8<UInt64>
        let bits = unsafeBitCast(x, to: U.self)
        let (c, s) = reducedCosSin(x, scale)
        // 2^20 = 0x4130000000000000; NaN and infinities compare above as integers too.
        guard _slowPath(any((bits & U(repeating: 0x7fff_ffff_ffff_ffff)) .> U(repeating: 0x4130_0000_0000_0000)))
        else { return (c, s) }
        return beyondRange(x, cosine: c, sine: s, scale: scale)
    }

    /// As Float.beyondRange: the lanes out of range from the C library's cos and sin.
    @inline(never)
    private static func beyondRange(_ x: SIMD8<Double>, cosine: SIMD8<Double>, sine: SIMD8<Double>, scale: Double)
        -> (SIMD8<Double>, SIMD8<Double>) {
        var (c, s) = (cosine, sine)
        for l in 0 ..< 8 where x[l].bitPattern & 0x7fff_ffff_ffff_ffff > 0x4130_0000_0000_0000 {
            (c[l], s[l]) = (cos(x[l]) * scale, sin(x[l]) * scale)
        }
        return (c, s)
    }

    /// cosSin by the reduction and polynomials, right for |x| <= 2^20 (other lanes: any value).
    @inline(__always)
    private static func reducedCosSin(_ x: SIMD8<Double>, _ scale: Double) -> (SIMD8<Double>, SIMD8<Double>) {
        typealias V = SIMD8<Double>
        typealias U = SIMD8<UInt64>
        let magic = V(repeating: 6_755_399_441_055_744)  // 1.5 * 2^52
        let shifted = x * V(repeating: 0.636_619_772_367_581_343_08) + magic
        let r = shifted - magic
        let quadrant = unsafeBitCast(shifted, to: U.self)
        // fdlibm's pi/2 in three parts of 33 bits (pio2_1, pio2_2, pio2_3 of __ieee754_rem_pio2).
        var y = x - r * V(repeating: 1.570_796_326_734_125_614_17)
        y = y - r * V(repeating: 6.077_100_506_303_965_976_6e-11)
        y = y - r * V(repeating: 2.022_266_248_795_950_631_5e-21)
        let z = y * y
        let sy = y * V(repeating: scale)
        // fdlibm __kernel_sin and __kernel_cos coefficients; cos's times the scale.
        var ps = z * V(repeating: 1.589_690_995_211_550_102_21e-10) + V(repeating: -2.505_076_025_340_686_341_95e-8)
        ps = ps * z + V(repeating: 2.755_731_370_707_006_767_89e-6)
        ps = ps * z + V(repeating: -1.984_126_982_985_794_931_34e-4)
        ps = ps * z + V(repeating: 8.333_333_333_322_489_461_24e-3)
        ps = ps * z + V(repeating: -1.666_666_666_666_663_243_48e-1)
        let sinY = (sy * z) * ps + sy
        var pc = z * V(repeating: -1.135_964_755_778_819_482_65e-11 * scale)
            + V(repeating: 2.087_572_321_298_174_827_90e-9 * scale)
        pc = pc * z + V(repeating: -2.755_731_435_139_066_330_35e-7 * scale)
        pc = pc * z + V(repeating: 2.480_158_728_947_672_941_78e-5 * scale)
        pc = pc * z + V(repeating: -1.388_888_888_887_410_957_49e-3 * scale)
        pc = pc * z + V(repeating: 4.166_666_666_666_660_190_37e-2 * scale)
        let cosY = V(repeating: scale) - z * (V(repeating: 0.5 * scale) - z * pc)
        return quadrantSelect(sin: sinY, cos: cosY, quadrant: quadrant)
    }

    /// As Float.quadrantSelect.
    @inline(__always)
    private static func quadrantSelect(sin s: SIMD8<Double>, cos c: SIMD8<Double>, quadrant q: SIMD8<UInt64>)
        -> (SIMD8<Double>, SIMD8<Double>) {
        typealias U = SIMD8<UInt64>
        let odd = q &<< 63
        let sinSign = (q &<< 62) & U(repeating: 1 << 63)
        let cosSign = sinSign ^ odd
        let sinBits = unsafeBitCast(SIMD8<Double>.blend(s, c, signOf: odd), to: U.self) ^ sinSign
        let cosBits = unsafeBitCast(SIMD8<Double>.blend(c, s, signOf: odd), to: U.self) ^ cosSign
        return (unsafeBitCast(cosBits, to: SIMD8<Double>.self), unsafeBitCast(sinBits, to: SIMD8<Double>.self))
    }
}
