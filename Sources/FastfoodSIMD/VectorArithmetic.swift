/// Element-wise vector arithmetic that compiles to one vector instruction per operation.
///
/// Why this module exists: in Swift 6.3 the standard library's `+`, `-` and `*` on floating-point
/// SIMD types are generic loops over the lanes, and LLVM's SLP vectorizer has to rebuild the
/// vector operations from the scalar ones. For the small networks of a radix-4 butterfly it
/// rebuilds them whole; for larger add/sub networks (radix 8 and 16, lane-sum trees) it splits
/// part of them into 128-bit pieces with extracts and inserts, several times slower. These
/// operators apply LLVM's vector `fadd`/`fsub`/`fmul` directly, through the compiler builtins,
/// which is why this one file is compiled with `-parse-stdlib` (see Package.swift). Lane by lane
/// they are the same IEEE operations as the standard library's, so results do not change by a bit.
import Swift

/// A SIMD vector type whose `+`, `-` and `*` are single vector operations. Generic code
/// constrained to it gets these operators: a protocol requirement of a protocol refining SIMD
/// ranks above the standard library's generic SIMD extension operators.
public protocol VectorArithmetic: SIMD where Scalar: FloatingPoint {
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    /// -a (flips the sign bits; folded into a following multiply-add as its negated form).
    static prefix func - (a: Self) -> Self
    /// a * b + c with one rounding (LLVM's llvm.fma). Only for builds whose CPU has FMA:
    /// elsewhere LLVM calls the C library's fmaf / fma once per lane.
    static func fusedMultiplyAdd(_ a: Self, _ b: Self, _ c: Self) -> Self
}

extension SIMD16: VectorArithmetic where Scalar == Float {
    @_transparent
    public static func + (a: Self, b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.fadd_Vec16xFPIEEE32(a._storage._value, b._storage._value)
        return result
    }

    @_transparent
    public static func - (a: Self, b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.fsub_Vec16xFPIEEE32(a._storage._value, b._storage._value)
        return result
    }

    @_transparent
    public static func * (a: Self, b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.fmul_Vec16xFPIEEE32(a._storage._value, b._storage._value)
        return result
    }

    @_transparent
    public static prefix func - (a: Self) -> Self {
        var result = a
        result._storage._value = Builtin.fneg_Vec16xFPIEEE32(a._storage._value)
        return result
    }

    @_transparent
    public static func fusedMultiplyAdd(_ a: Self, _ b: Self, _ c: Self) -> Self {
        var result = a
        result._storage._value = Builtin.int_fma_Vec16xFPIEEE32(a._storage._value, b._storage._value, c._storage._value)
        return result
    }
}

extension SIMD8: VectorArithmetic where Scalar == Double {
    @_transparent
    public static func + (a: Self, b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.fadd_Vec8xFPIEEE64(a._storage._value, b._storage._value)
        return result
    }

    @_transparent
    public static func - (a: Self, b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.fsub_Vec8xFPIEEE64(a._storage._value, b._storage._value)
        return result
    }

    @_transparent
    public static func * (a: Self, b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.fmul_Vec8xFPIEEE64(a._storage._value, b._storage._value)
        return result
    }

    @_transparent
    public static prefix func - (a: Self) -> Self {
        var result = a
        result._storage._value = Builtin.fneg_Vec8xFPIEEE64(a._storage._value)
        return result
    }

    @_transparent
    public static func fusedMultiplyAdd(_ a: Self, _ b: Self, _ c: Self) -> Self {
        var result = a
        result._storage._value = Builtin.int_fma_Vec8xFPIEEE64(a._storage._value, b._storage._value, c._storage._value)
        return result
    }
}

extension SIMD16 where Scalar == Float {
    /// Lane by lane: b where `mask`'s lane has its sign bit set, else a (one `vblendvps` per
    /// register; the standard library's `replacing(with:where:)` is a lane loop).
    @_transparent
    public static func blend(_ a: Self, _ b: Self, signOf mask: SIMD16<UInt32>) -> Self {
        var result = a
        let negative = Builtin.cmp_slt_Vec16xInt32(mask._storage._value, SIMD16<UInt32>()._storage._value)
        result._storage._value = Builtin.select_Vec16xInt1_Vec16xFPIEEE32(negative, b._storage._value, a._storage._value)
        return result
    }
}

extension SIMD8 where Scalar == Double {
    /// Lane by lane: b where `mask`'s lane has its sign bit set, else a (`vblendvpd`), as the
    /// Float version.
    @_transparent
    public static func blend(_ a: Self, _ b: Self, signOf mask: SIMD8<UInt64>) -> Self {
        var result = a
        let negative = Builtin.cmp_slt_Vec8xInt64(mask._storage._value, SIMD8<UInt64>()._storage._value)
        result._storage._value = Builtin.select_Vec8xInt1_Vec8xFPIEEE64(negative, b._storage._value, a._storage._value)
        return result
    }
}
