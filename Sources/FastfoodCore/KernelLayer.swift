/// What the compute kernels need of a layer: its shape and its permutation tables.
///
/// The tables belong to the engine's FastfoodLayer, which outlives every call that uses them;
/// they are never written after the layer is created, so sharing across threads is safe.
package struct KernelLayer: @unchecked Sendable {
    package let shape: LayerShape
    /// K*D entries, block k at k*D: (PI_k v)[i] = v[permutation[k*D + i]].
    package let permutation: UnsafePointer<UInt32>
    /// The inverses, same layout: PI_k^T is a gather too, so it fuses with a transform pass.
    package let inversePermutation: UnsafePointer<UInt32>

    package init(shape: LayerShape, permutation: UnsafePointer<UInt32>, inversePermutation: UnsafePointer<UInt32>) {
        self.shape = shape
        self.permutation = permutation
        self.inversePermutation = inversePermutation
    }
}
