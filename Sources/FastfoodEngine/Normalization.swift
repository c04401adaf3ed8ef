import FastfoodCore

/// FASTFOOD_LAYER_NORMALIZED: each H is orthonormal, so the layer computes
///     y = S (H / sqrt(D)) G PI (H / sqrt(D)) B x = (S / D) H G PI H B x.
/// The kernels compute the unnormalised layer. A normalised call hands them a copy of the
/// parameters whose S section is S / D, and multiplies dS by 1 / D after the batch sum. D is a
/// power of two, so both scalings are exact (barring underflow to subnormals): the normalised
/// layer with S gives bit for bit what the unnormalised one gives with S / D.
enum Normalization {
    /// Bytes of scratch a call needs for the scaled copy (0 for an unnormalised layer).
    static func scratchBytes<T>(_ shape: LayerShape, _ type: T.Type) -> Int? {
        shape.isNormalized ? ThreadScratch.Size.region(T.self, count: shape.parameterCount) : 0
    }

    /// The parameters the kernels should read: `params` itself, or its scaled copy in `scratch`.
    static func kernelParameters<T: FastfoodScalar>(
        _ shape: LayerShape, _ params: UnsafePointer<T>, scratch: UnsafeMutableRawPointer
    ) -> UnsafePointer<T> {
        guard shape.isNormalized else { return params }
        let copy = scratch.bindMemory(to: T.self, capacity: shape.parameterCount)
        let scale = shape.layout.scale
        let factor = 1 / T(shape.blockSize)
        for i in scale { copy[i] = params[i] * factor }
        (copy + scale.upperBound).update(from: params + scale.upperBound, count: shape.parameterCount - scale.upperBound)
        return UnsafePointer(copy)
    }

    /// dS of the kernels' (unnormalised) layer -> dS of the normalised one.
    static func scaleGradient<T: FastfoodScalar>(_ shape: LayerShape, _ gradient: UnsafeMutablePointer<T>) {
        guard shape.isNormalized else { return }
        let factor = 1 / T(shape.blockSize)
        for i in shape.layout.scale { gradient[i] *= factor }
    }
}
