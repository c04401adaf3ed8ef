import FastfoodCore

/// Block k's slice of the parameters (ParameterLayout) and of the permutations, as the kernels
/// read them.
struct BlockView<T> {
    /// k * D: where the block starts in each of the S, G, B sections and in the outputs.
    let offset: Int
    let scale: UnsafePointer<T>
    let gaussian: UnsafePointer<T>
    let sign: UnsafePointer<T>
    /// The block's bias (nil without one).
    let bias: UnsafePointer<T>?
    let permutation: UnsafePointer<UInt32>
    let inversePermutation: UnsafePointer<UInt32>
    /// How many of the block's D outputs survive truncation to outFeatures.
    let outputs: Int

    @inline(__always)
    init(_ layer: KernelLayer, _ params: UnsafePointer<T>, block k: Int) {
        let shape = layer.shape
        let slices = shape.layout.block(k, of: params)
        offset = k * shape.blockSize
        (scale, gaussian, sign, bias) = (slices.scale, slices.gaussian, slices.sign, slices.bias)
        permutation = layer.permutation + offset
        inversePermutation = layer.inversePermutation + offset
        outputs = shape.outputsOfBlock(k)
    }
}
