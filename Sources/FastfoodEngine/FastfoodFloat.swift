/// The element types the engine computes in: Float and Double.
///
/// `Vector` is one 512-bit register's worth of elements. Generic kernels are written once against
/// this protocol and specialised for both types inside this module, so the hot loops compile to
/// concrete vector code.
public protocol FastfoodFloat: BinaryFloatingPoint, SIMDScalar, Codable, Sendable {
    associatedtype Vector: SIMD where Vector.Scalar == Self

    /// Applies the Walsh-Hadamard stages of strides 1 ..< Vector.scalarCount to one vector,
    /// i.e. multiplies it by H of order Vector.scalarCount, without leaving registers.
    static func hadamardWithinVector(_ v: Vector) -> Vector
}

extension Float: FastfoodFloat {
    public typealias Vector = SIMD16<Float>

    /// Constant-geometry form of the transform (y[i] = v[2i] + v[2i+1], y[i+8] = v[2i] - v[2i+1],
    /// four times gives H16 v). Lanes are named explicitly because the generic `evenHalf` /
    /// `lowHalf` helpers compile to scalar code, while this form becomes shuffles.
    @inline(__always)
    public static func hadamardWithinVector(_ v: SIMD16<Float>) -> SIMD16<Float> {
        @inline(__always) func step(_ v: SIMD16<Float>) -> SIMD16<Float> {
            let even = SIMD16<Float>(v[0], v[2], v[4], v[6], v[8], v[10], v[12], v[14],
                                     v[0], v[2], v[4], v[6], v[8], v[10], v[12], v[14])
            let odd = SIMD16<Float>(v[1], v[3], v[5], v[7], v[9], v[11], v[13], v[15],
                                    v[1], v[3], v[5], v[7], v[9], v[11], v[13], v[15])
            let sign = SIMD16<Float>(1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1)
            return even + odd * sign
        }
        return step(step(step(step(v))))
    }
}

extension Double: FastfoodFloat {
    public typealias Vector = SIMD8<Double>

    /// Constant-geometry H8 v; see the Float version.
    @inline(__always)
    public static func hadamardWithinVector(_ v: SIMD8<Double>) -> SIMD8<Double> {
        @inline(__always) func step(_ v: SIMD8<Double>) -> SIMD8<Double> {
            let even = SIMD8<Double>(v[0], v[2], v[4], v[6], v[0], v[2], v[4], v[6])
            let odd = SIMD8<Double>(v[1], v[3], v[5], v[7], v[1], v[3], v[5], v[7])
            let sign = SIMD8<Double>(1, 1, 1, 1, -1, -1, -1, -1)
            return even + odd * sign
        }
        return step(step(step(v)))
    }
}
