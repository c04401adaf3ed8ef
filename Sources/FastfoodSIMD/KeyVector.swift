/// Element-wise UInt32 vector operations that compile to one vector instruction each: the
/// dropout masks' hash (xor, shift, wrapping multiply; the row path's position constants, a
/// wrapping add) and threshold (a signed compare, to a vector mask or to one bit per lane), and
/// the bit work of cos and sin (range check, quadrant, signs).
///
/// Why: as for the floating-point operators (VectorArithmetic.swift), the standard library's
/// integer SIMD operators are lane loops that LLVM's SLP vectorizer must rebuild, and its
/// comparisons return a SIMDMask built lane by lane. Mixing one builtin into such code changes
/// what SLP rebuilds: the hash came out split into 128-bit pieces and shuffles, 13% slower for
/// the whole dropout fwd+bwd. With every operation a builtin nothing depends on SLP.
import Swift

/// A UInt32 SIMD vector whose `^`, `&`, `&*`, `&+`, `&>>`, `&<<` and compares are single vector
/// operations (a protocol requirement of a protocol refining SIMD ranks above the standard
/// library's generic operators).
public protocol KeyVector: SIMD where Scalar == UInt32 {
    static func ^ (a: Self, b: Self) -> Self
    static func & (a: Self, b: Self) -> Self
    static func &* (a: Self, b: Self) -> Self
    static func &+ (a: Self, b: Self) -> Self
    /// Logical shift right of every lane by `count` (< 32).
    static func &>> (a: Self, count: UInt32) -> Self
    /// Shift left of every lane by `count` (< 32).
    static func &<< (a: Self, count: UInt32) -> Self
    /// All ones in the lanes where a > b as signed 32-bit integers, zero elsewhere.
    static func signedGreaterMask(_ a: Self, _ b: Self) -> Self
    /// Whether a > b as signed 32-bit integers in any lane (a compare and a move-mask).
    static func anySignedGreater(_ a: Self, _ b: Self) -> Bool

    /// One bit per lane, lane 0 the lowest.
    associatedtype LaneBits: FixedWidthInteger & UnsignedInteger
    /// Bit l set where a > b as signed 32-bit integers in lane l (with AVX-512, a compare into
    /// a mask register).
    static func signedGreaterBits(_ a: Self, _ b: Self) -> LaneBits
    /// All ones in the lanes whose bit is set, zero elsewhere (with AVX-512, a mask register
    /// loaded from the bits, which a following `&` turns into a zero-masked move).
    static func laneMask(_ bits: LaneBits) -> Self
}

extension SIMD16: KeyVector where Scalar == UInt32 {
    @_transparent
    public static func ^ (a: Self, b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.xor_Vec16xInt32(a._storage._value, b._storage._value)
        return result
    }

    @_transparent
    public static func & (a: Self, b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.and_Vec16xInt32(a._storage._value, b._storage._value)
        return result
    }

    @_transparent
    public static func &* (a: Self, b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.mul_Vec16xInt32(a._storage._value, b._storage._value)
        return result
    }

    @_transparent
    public static func &+ (a: Self, b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.add_Vec16xInt32(a._storage._value, b._storage._value)
        return result
    }

    @_transparent
    public static func &>> (a: Self, count: UInt32) -> Self {
        var result = a
        result._storage._value = Builtin.lshr_Vec16xInt32(a._storage._value, Self(repeating: count)._storage._value)
        return result
    }

    @_transparent
    public static func &<< (a: Self, count: UInt32) -> Self {
        var result = a
        result._storage._value = Builtin.shl_Vec16xInt32(a._storage._value, Self(repeating: count)._storage._value)
        return result
    }

    @_transparent
    public static func signedGreaterMask(_ a: Self, _ b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.sext_Vec16xInt1_Vec16xInt32(
            Builtin.cmp_sgt_Vec16xInt32(a._storage._value, b._storage._value))
        return result
    }

    @_transparent
    public static func anySignedGreater(_ a: Self, _ b: Self) -> Bool {
        let lanes = Builtin.cmp_sgt_Vec16xInt32(a._storage._value, b._storage._value)
        let bits: Builtin.Int16 = Builtin.bitcast_Vec16xInt1_Int16(lanes)
        return Bool(Builtin.cmp_ne_Int16(bits, Builtin.zeroInitializer()))
    }

    public typealias LaneBits = UInt16

    @_transparent
    public static func signedGreaterBits(_ a: Self, _ b: Self) -> UInt16 {
        UInt16(Builtin.bitcast_Vec16xInt1_Int16(Builtin.cmp_sgt_Vec16xInt32(a._storage._value, b._storage._value)))
    }

    @_transparent
    public static func laneMask(_ bits: UInt16) -> Self {
        var result = Self()
        result._storage._value = Builtin.sext_Vec16xInt1_Vec16xInt32(Builtin.bitcast_Int16_Vec16xInt1(bits._value))
        return result
    }
}

extension SIMD8: KeyVector where Scalar == UInt32 {
    @_transparent
    public static func ^ (a: Self, b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.xor_Vec8xInt32(a._storage._value, b._storage._value)
        return result
    }

    @_transparent
    public static func & (a: Self, b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.and_Vec8xInt32(a._storage._value, b._storage._value)
        return result
    }

    @_transparent
    public static func &* (a: Self, b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.mul_Vec8xInt32(a._storage._value, b._storage._value)
        return result
    }

    @_transparent
    public static func &+ (a: Self, b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.add_Vec8xInt32(a._storage._value, b._storage._value)
        return result
    }

    @_transparent
    public static func &>> (a: Self, count: UInt32) -> Self {
        var result = a
        result._storage._value = Builtin.lshr_Vec8xInt32(a._storage._value, Self(repeating: count)._storage._value)
        return result
    }

    @_transparent
    public static func &<< (a: Self, count: UInt32) -> Self {
        var result = a
        result._storage._value = Builtin.shl_Vec8xInt32(a._storage._value, Self(repeating: count)._storage._value)
        return result
    }

    @_transparent
    public static func signedGreaterMask(_ a: Self, _ b: Self) -> Self {
        var result = a
        result._storage._value = Builtin.sext_Vec8xInt1_Vec8xInt32(
            Builtin.cmp_sgt_Vec8xInt32(a._storage._value, b._storage._value))
        return result
    }

    @_transparent
    public static func anySignedGreater(_ a: Self, _ b: Self) -> Bool {
        let lanes = Builtin.cmp_sgt_Vec8xInt32(a._storage._value, b._storage._value)
        let bits: Builtin.Int8 = Builtin.bitcast_Vec8xInt1_Int8(lanes)
        return Bool(Builtin.cmp_ne_Int8(bits, Builtin.zeroInitializer()))
    }

    public typealias LaneBits = UInt8

    @_transparent
    public static func signedGreaterBits(_ a: Self, _ b: Self) -> UInt8 {
        UInt8(Builtin.bitcast_Vec8xInt1_Int8(Builtin.cmp_sgt_Vec8xInt32(a._storage._value, b._storage._value)))
    }

    @_transparent
    public static func laneMask(_ bits: UInt8) -> Self {
        var result = Self()
        result._storage._value = Builtin.sext_Vec8xInt1_Vec8xInt32(Builtin.bitcast_Int8_Vec8xInt1(bits._value))
        return result
    }
}

extension SIMD8 where Scalar == UInt32 {
    /// Each lane sign-extended to 64 bits (all ones stays all ones): a Double-wide lane mask. The
    /// standard library's conversions are generic calls that the optimiser may leave out of line.
    @_transparent
    public var signExtendedLanes: SIMD8<UInt64> {
        var result = SIMD8<UInt64>()
        result._storage._value = Builtin.sext_Vec8xInt32_Vec8xInt64(_storage._value)
        return result
    }
}
