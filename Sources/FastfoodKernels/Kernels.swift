import FastfoodCore

/// The entry points of one kernel variant. The same sources are compiled three times, as
/// FastfoodKernels (baseline x86-64), FastfoodKernelsAVX2 (-target-cpu haswell) and
/// FastfoodKernelsAVX512 (-target-cpu skylake-avx512); the engine picks one at load time.
/// Every variant computes bit-identical results: the same IEEE operations in the same order.
/// The one fused multiply-add (AVX2 and AVX-512, FastfoodFloat.signedSum) multiplies by +-1,
/// an exact product, so it rounds exactly like the add it replaces.
package enum Kernels {
    package static let variant = KernelVariant(
        name: variantName,
        float32: ScalarKernels(tileRows: Float.Vector.scalarCount, forward: { ForwardKernels.run($0) },
                               backward: { BackwardKernels.run($0) },
                               transform: { WalshHadamard.transform($0, log2Length: $1) }),
        float64: ScalarKernels(tileRows: Double.Vector.scalarCount, forward: { ForwardKernels.run($0) },
                               backward: { BackwardKernels.run($0) },
                               transform: { WalshHadamard.transform($0, log2Length: $1) }))

    #if FASTFOOD_AVX512
    static let variantName: StaticString = "avx512"
    #elseif FASTFOOD_AVX2
    static let variantName: StaticString = "avx2"
    #else
    static let variantName: StaticString = "generic"
    #endif
}
