/// cos and sin of whole vectors for the random-feature maps: phi = [cos z, sin z] / sqrt(n); and
/// the features' gradient from a saved phi, which needs neither (gradientFromSaved).
///
/// Method (as Cephes and fdlibm): x = r * pi/2 + y with r the nearest integer to x * 2/pi (by
/// adding and subtracting 1.5 * 2^(mantissa bits), which rounds to nearest even), y computed in
/// three Cody-Waite steps against a three-part pi/2 whose first parts have short mantissas, so
/// that r * part is exact; then minimax polynomials for sin and cos on [-pi/4, pi/4] and the
/// quadrant r mod 4 picks and signs the pair. Only +, -, * (never fused), integer and bit
/// operations: every kernel variant and every lane computes the same bits.
///
/// The scale 1 / sqrt(n) is folded into the polynomials (since 1.4.1): sin y * s as
/// (s y) + (s y) z p(z) and cos y * s as s - z (s / 2 - z q'(z)) with q' the cos coefficients
/// times s. So cosSin returns phi's own values, and the recomputing features backward forms
/// dy = c * dsin - s * dcos from the same bits as the backward from the saved phi: the two
/// feature backwards agree bit for bit (they agreed to rounding while phi was (cos y) * s).
///
/// Accuracy: phi / s has absolute error at most 4 * 2^-24 (float) and 4 * 2^-53 (double) against
/// the C library's double cos and sin, checked by Tests/CAPI/test_training.c over the features of
/// a layer (measured there: 1.34 and 1.00 units, counting the in-range lanes of vectors that also
/// hold out-of-range ones) and over a sweep of z (1.47 and 2.00 units). Over every float in range
/// (a throwaway run): 1.45 units with s = 1 / sqrt(3), 1.80 with 1 / sqrt(2) (1.82 and 2.00
/// while s multiplied the finished cos and sin). A lane beyond the range the reduction is exact
/// for (|x| > 8192 for float, 2^20 for double), infinite or NaN takes the C library's cosf/sinf
/// (cos/sin) times s instead; the other lanes of its vector keep the polynomials, so every value
/// depends on its own x only, not on which values share its vector (the tile and row paths agree).
import FastfoodSIMD
import Glibc

enum SineCosine {
    /// Row in place: z[j] (j < count) becomes cos(z[j]) * scale and z[count + j] sin(z[j]) * scale.
    @inline(__always)
    static func featuresRow<T: FastfoodFloat>(_ z: UnsafeMutablePointer<T>, count: Int, scale: T) {
        typealias V = T.Vector
        let width = V.scalarCount
        var j = 0
        while j + width <= count {
            let p = UnsafeMutableRawPointer(z + j)
            let (c, sn) = T.cosSin(p.loadUnaligned(as: V.self), scale: scale)
            p.storeBytes(of: c, as: V.self)
            UnsafeMutableRawPointer(z + count + j).storeBytes(of: sn, as: V.self)
            j += width
        }
        guard j < count else { return }
        // The tail through the same vector code, lanes past count zero.
        var tail = V()
        for l in 0 ..< count - j { tail[l] = z[j + l] }
        let (c, sn) = T.cosSin(tail, scale: scale)
        for l in 0 ..< count - j {
            z[j + l] = c[l]
            z[count + j + l] = sn[l]
        }
    }

    /// Row in place: z[j] becomes c * dphi[count + j] - s * dphi[j] with (c, s) = cosSin(z[j], scale),
    /// the phi values featuresRow makes of z[j] (so, bit for bit, gradientFromSaved of that phi).
    @inline(__always)
    static func gradientRow<T: FastfoodFloat>(_ z: UnsafeMutablePointer<T>, dphi: UnsafePointer<T>, count: Int,
                                             scale: T) {
        typealias V = T.Vector
        let width = V.scalarCount
        @inline(__always) func load(_ p: UnsafePointer<T>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var j = 0
        while j + width <= count {
            let (c, sn) = T.cosSin(load(z + j), scale: scale)
            let dz = gradient(cos: c, sin: sn, dcos: load(dphi + j), dsin: load(dphi + count + j))
            UnsafeMutableRawPointer(z + j).storeBytes(of: dz, as: V.self)
            j += width
        }
        guard j < count else { return }
        var tail = V(), dcos = V(), dsin = V()
        for l in 0 ..< count - j { (tail[l], dcos[l], dsin[l]) = (z[j + l], dphi[j + l], dphi[count + j + l]) }
        let (c, sn) = T.cosSin(tail, scale: scale)
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

extension Float {
    /// (cos x * scale, sin x * scale) lane by lane; see SineCosine.
    @inline(__always)
    static func cosSin(_ x: SIMD16<Float>, scale: Float) -> (SIMD16<Float>, SIMD16<Float>) {
        typealias U = SIMD16<UInt32>
        let bits = unsafeBitCast(x, to: U.self)
        // 8192 = 0x46000000; NaN and infinities compare above too (|x|'s bits are below 2^31).
        var (c, s) = reducedCosSin(x, scale: scale)
        if U.anySignedGreater(bits & U(repeating: 0x7fff_ffff), U(repeating: 0x4600_0000)) {
            // The lanes out of range only: every value depends on its own x, whichever values
            // share its vector (a tile's column or a row's columns).
            for l in 0 ..< 16 where bits[l] & 0x7fff_ffff > 0x4600_0000 {
                (c[l], s[l]) = (cosf(x[l]) * scale, sinf(x[l]) * scale)
            }
        }
        return (c, s)
    }

    /// cosSin by the reduction and polynomials, right for |x| <= 8192 (other lanes: any value).
    @inline(__always)
    private static func reducedCosSin(_ x: SIMD16<Float>, scale: Float) -> (SIMD16<Float>, SIMD16<Float>) {
        typealias V = SIMD16<Float>
        typealias U = SIMD16<UInt32>
        let magic = V(repeating: 12_582_912)  // 1.5 * 2^23
        let shifted = x * V(repeating: 0.636_619_772_367_581_343_08) + magic
        let r = shifted - magic
        let quadrant = unsafeBitCast(shifted, to: U.self)
        // pi/2 = 1.5703125 + 4.837512969970703125e-4 + 7.54978995489188216e-8 (Cephes DP1-3 x 2)
        var y = x - r * V(repeating: 1.570_312_5)
        y = y - r * V(repeating: 4.837_512_969_970_703_125e-4)
        y = y - r * V(repeating: 7.549_789_954_891_882_16e-8)
        let z = y * y
        let sy = y * V(repeating: scale)
        // Cephes sinf / cosf minimax coefficients on [-pi/4, pi/4]; cos's three times the scale.
        var ps = z * V(repeating: -1.951_529_589_1e-4) + V(repeating: 8.332_160_873_6e-3)
        ps = ps * z + V(repeating: -1.666_665_461_1e-1)
        let sinY = (sy * z) * ps + sy
        var pc = z * V(repeating: 2.443_315_711_809_948e-5 * scale)
            + V(repeating: -1.388_731_625_493_765e-3 * scale)
        pc = pc * z + V(repeating: 4.166_664_568_298_827e-2 * scale)
        let cosY = V(repeating: scale) - z * (V(repeating: 0.5 * scale) - z * pc)
        return quadrantSelect(sin: sinY, cos: cosY, quadrant: quadrant)
    }

    @inline(__always)
    private static func quadrantSelect(sin s: SIMD16<Float>, cos c: SIMD16<Float>, quadrant q: SIMD16<UInt32>)
        -> (SIMD16<Float>, SIMD16<Float>) {
        typealias U = SIMD16<UInt32>
        // sin x: s, c, -s, -c; cos x: c, -s, -c, s for quadrants 0 ..< 4. The odd quadrants swap
        // the pair (q's bit 0, moved to the sign bit, picks); sin's sign is q's bit 1 and cos's
        // that of q + 1, which is bit 1 xor bit 0.
        let odd = q &<< 31
        let sinSign = (q &<< 30) & U(repeating: 0x8000_0000)
        let cosSign = sinSign ^ odd
        let sinBits = unsafeBitCast(SIMD16<Float>.blend(s, c, signOf: odd), to: U.self) ^ sinSign
        let cosBits = unsafeBitCast(SIMD16<Float>.blend(c, s, signOf: odd), to: U.self) ^ cosSign
        return (unsafeBitCast(cosBits, to: SIMD16<Float>.self), unsafeBitCast(sinBits, to: SIMD16<Float>.self))
    }
}

extension Double {
    /// (cos x * scale, sin x * scale) lane by lane; see SineCosine.
    @inline(__always)
    static func cosSin(_ x: SIMD8<Double>, scale: Double) -> (SIMD8<Double>, SIMD8<Double>) {
        typealias U = SIMD8<UInt64>
        let bits = unsafeBitCast(x, to: U.self)
        // 2^20 = 0x4130000000000000; NaN and infinities compare above as integers too.
        var (c, s) = reducedCosSin(x, scale: scale)
        if any((bits & U(repeating: 0x7fff_ffff_ffff_ffff)) .> U(repeating: 0x4130_0000_0000_0000)) {
            // The lanes out of range only, as for Float.
            for l in 0 ..< 8 where bits[l] & 0x7fff_ffff_ffff_ffff > 0x4130_0000_0000_0000 {
                (c[l], s[l]) = (cos(x[l]) * scale, sin(x[l]) * scale)
            }
        }
        return (c, s)
    }

    /// cosSin by the reduction and polynomials, right for |x| <= 2^20 (other lanes: any value).
    @inline(__always)
    private static func reducedCosSin(_ x: SIMD8<Double>, scale: Double) -> (SIMD8<Double>, SIMD8<Double>) {
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
