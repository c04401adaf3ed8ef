/// One kernel variant's entry points, as each variant module (FastfoodKernels, ...AVX2,
/// ...AVX512: the same sources compiled for different CPUs) publishes them and the engine's
/// KernelTable chooses among them. Opaque outside the package.
public struct KernelVariant: Sendable {
    /// "generic", "avx2" or "avx512" (FASTFOOD_CPU's values).
    package let name: StaticString
    package let float32: ScalarKernels<Float>
    package let float64: ScalarKernels<Double>

    package init(name: StaticString, float32: ScalarKernels<Float>, float64: ScalarKernels<Double>) {
        (self.name, self.float32, self.float64) = (name, float32, float64)
    }
}

/// One kernel variant's functions for one element type. Opaque outside the package.
public struct ScalarKernels<T>: Sendable {
    /// Rows per interleaved tile: one 512-bit vector of T.
    package let tileRows: Int
    package let forward: @Sendable (ForwardUnit<T>) -> Void
    package let backward: @Sendable (BackwardUnit<T>) -> Void
    /// In-place unnormalised FWHT of the 2^log2Length contiguous elements at the pointer.
    package let transform: @Sendable (UnsafeMutablePointer<T>, _ log2Length: Int) -> Void

    package init(tileRows: Int, forward: @escaping @Sendable (ForwardUnit<T>) -> Void,
                 backward: @escaping @Sendable (BackwardUnit<T>) -> Void,
                 transform: @escaping @Sendable (UnsafeMutablePointer<T>, Int) -> Void) {
        (self.tileRows, self.forward, self.backward, self.transform) = (tileRows, forward, backward, transform)
    }
}
