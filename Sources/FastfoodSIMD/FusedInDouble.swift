/// a * b + c rounded once to float (the fused multiply-add's result, bit for bit) on CPUs without
/// the instruction, from double arithmetic.
///
/// Why: the float features' cos and sin (FastfoodKernels/SineCosine.swift) use fused multiply-adds
/// and every kernel variant must give the same bits. On baseline x86-64 (the generic variant)
/// LLVM's llvm.fma becomes a call to the C library's software fmaf per lane, which made the generic
/// features forward 11-12x slower.
///
/// How: a * b is exact in double (24 + 24 significant bits), so s = a * b + c in double is the
/// exact sum v rounded once, and rounding s to float is rounding v twice. That differs from one
/// rounding only where s lands exactly on a midpoint between two floats while v does not (a
/// float midpoint has 25 significant bits, so double holds it, and rounding to double is
/// monotone: s falls on the same side of every other midpoint as v). multiplyAddRoundedOnce
/// checks each lane for that: the low 29 bits of s's mantissa 1 followed by 28 zeros (a midpoint
/// of normal floats), or 0 < |s| < 2^-126 (float's subnormal range, whose midpoints lie
/// elsewhere); lanes so flagged, about one in 2^28 for general operands, take the C library's
/// correctly rounded fmaf instead (out of line). multiplyAddInDouble skips the check, for callers
/// that prove s exact for every lane they use (the reduction's two steps). A general emulation
/// rounding the sum to odd from its exact error (Boldo and Melquiond) costs five more double
/// operations on every lane; in 1.4.10 it put the generic features forward at 2.0x 1.4.9's time
/// at 1024, against 1.37x with multiplyAddInDouble.
import Swift

extension SIMD16 where Scalar == Float {
    /// a * b + c computed in double and rounded to float, unchecked: the fused result only where
    /// the sum is exact in double (see the file's comment); callers prove that for every lane.
    @_transparent
    public static func multiplyAddInDouble(_ a: Self, _ b: Self, _ c: Self) -> Self {
        var result = a
        result._storage._value = Builtin.fptrunc_Vec16xFPIEEE64_Vec16xFPIEEE32(sumInDouble(a, b, c))
        return result
    }

    /// a * b + c with one rounding, lane by lane, from double arithmetic (see the file's comment):
    /// what llvm.fma gives, for any operands, without the instruction.
    @_transparent
    public static func multiplyAddRoundedOnce(_ a: Self, _ b: Self, _ c: Self) -> Self {
        let sum = sumInDouble(a, b, c)
        var result = a
        result._storage._value = Builtin.fptrunc_Vec16xFPIEEE64_Vec16xFPIEEE32(sum)
        // Both checks at once on s's 32-bit halves (SSE2 has no 64-bit compares), each pair's
        // constants one 64-bit pattern (little-endian: the low half first). Low half: its 29
        // bits m == 2^28. High half: m = its bits but the sign, 0 < m < 0x38100000 (0 < |s| <
        // 2^-126; a nonzero s is at least 2^-298, so its high half is not zero). Each as one
        // signed compare: m - k - 2^31 below l - 2^31 for unsigned m - k below l.
        func pairs(_ high: UInt64, _ low: UInt64) -> Builtin.Vec32xInt32 {
            Builtin.bitcast_Vec16xInt64_Vec32xInt32(SIMD16<UInt64>(repeating: high << 32 | low)._storage._value)
        }
        let words = Builtin.bitcast_Vec16xFPIEEE64_Vec32xInt32(sum)
        let m = Builtin.and_Vec32xInt32(words, pairs(0x7fff_ffff, 0x1fff_ffff))
        let shifted = Builtin.sub_Vec32xInt32(m, pairs(0x8000_0001, 0x9000_0000))  // k + 2^31: 1, 2^28
        let lanes = Builtin.cmp_slt_Vec32xInt32(shifted, pairs(0xb80f_ffff, 0x8000_0001))  // l - 2^31
        let flagged = UInt32(Builtin.bitcast_Vec32xInt1_Int32(lanes))
        guard _slowPath(flagged != 0) else { return result }
        return roundedOnceByLane(a, b, c, result, flagged: flagged)
    }

    /// a * b exactly (in double) plus c, rounded once to double.
    @_transparent
    @usableFromInline static func sumInDouble(_ a: Self, _ b: Self, _ c: Self) -> Builtin.Vec16xFPIEEE64 {
        let product = Builtin.fmul_Vec16xFPIEEE64(Builtin.fpext_Vec16xFPIEEE32_Vec16xFPIEEE64(a._storage._value),
                                                  Builtin.fpext_Vec16xFPIEEE32_Vec16xFPIEEE64(b._storage._value))
        return Builtin.fadd_Vec16xFPIEEE64(product, Builtin.fpext_Vec16xFPIEEE32_Vec16xFPIEEE64(c._storage._value))
    }

    /// multiplyAddRoundedOnce's flagged lanes (bit 2l or 2l + 1 for lane l) from the scalar fused
    /// multiply-add (llvm.fma: the C library's fmaf on such CPUs); out of line, so that the vector
    /// path keeps its registers.
    @inline(never) @usableFromInline
    static func roundedOnceByLane(_ a: Self, _ b: Self, _ c: Self, _ doubleRounded: Self, flagged: UInt32)
        -> Self {
        var result = doubleRounded
        for l in 0 ..< 16 where flagged & (3 << (2 * l)) != 0 {
            result[l] = Float(Builtin.int_fma_FPIEEE32(a[l]._value, b[l]._value, c[l]._value))
        }
        return result
    }
}
