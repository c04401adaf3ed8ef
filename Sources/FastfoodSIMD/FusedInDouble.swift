/// a * b + c in double arithmetic, rounded to float at the end: the fused multiply-add's result
/// wherever the double computation is exact, for CPUs without the instruction.
///
/// Why: the float features' reduction (FastfoodKernels/SineCosine.swift) rounds its two
/// multiply-adds once, and every kernel variant must give the same bits. On baseline x86-64 (the
/// generic variant) LLVM's llvm.fma becomes a call to the C library's software fmaf per lane,
/// which made the generic features forward 11-12x slower. Where a * b and a * b + c are exact in
/// double (a * b has at most 53 significant bits, and so does the sum: SineCosine proves it for
/// its operands), the one rounding left, to float, is the fused result. Elsewhere it may differ
/// from the fused result (rounded twice), so callers must prove exactness for every lane they
/// use. (A general emulation, rounding the sum to odd from its exact error, put the generic
/// features forward at 2.0x 1.4.9's time at 1024, against 1.37x with this.)
import Swift

extension SIMD16 where Scalar == Float {
    /// a * b + c computed in double and rounded once to float; see the file's comment for when
    /// this is the fused result.
    @_transparent
    public static func multiplyAddInDouble(_ a: Self, _ b: Self, _ c: Self) -> Self {
        let product = Builtin.fmul_Vec16xFPIEEE64(Builtin.fpext_Vec16xFPIEEE32_Vec16xFPIEEE64(a._storage._value),
                                                  Builtin.fpext_Vec16xFPIEEE32_Vec16xFPIEEE64(b._storage._value))
        let sum = Builtin.fadd_Vec16xFPIEEE64(product, Builtin.fpext_Vec16xFPIEEE32_Vec16xFPIEEE64(c._storage._value))
        var result = a
        result._storage._value = Builtin.fptrunc_Vec16xFPIEEE64_Vec16xFPIEEE32(sum)
        return result
    }
}
