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
        float32: ScalarKernels(tileRows: Float.Vector.scalarCount, smallestTiles: smallestTiles32,
                               forward: { ForwardKernels.run($0) },
                               backward: { BackwardKernels.run($0) },
                               transform: { WalshHadamard.transform($0, log2Length: $1) }),
        float64: ScalarKernels(tileRows: Double.Vector.scalarCount, smallestTiles: smallestTiles64,
                               forward: { ForwardKernels.run($0) },
                               backward: { BackwardKernels.run($0) },
                               transform: { WalshHadamard.transform($0, log2Length: $1) }))

    #if FASTFOOD_AVX512
    static let variantName: StaticString = "avx512"
    #elseif FASTFOOD_AVX2
    static let variantName: StaticString = "avx2"
    #else
    static let variantName: StaticString = "generic"
    #endif

    // Where a padded tile starts to beat the row path: the first row count at which it was as
    // fast or faster at 1024 and 4096 wide, one thread (README, "Small batches"); 16: never
    // below a whole tile. A tile's worth of rows is always a tile. avx2 (float and double): AMD
    // EPYC Zen 1 at 1.4.0 (the Zen 3 figures before it predate two row-path speedups); generic:
    // AMD EPYC Zen 3 at 1.2.1; avx512: AMD EPYC Zen 4 at 1.4.11, after 1.4.9's register
    // transposes made the tiles 0.82-0.91x faster and left the rows as they were.
    #if FASTFOOD_AVX512
    static let smallestTiles32 = SmallestTiles(forward: 11, featuresForward: 10, backward: 15,
                                               backwardWithoutRecompute: 11, featuresBackward: 11,
                                               featuresBackwardFromPhi: 15, trainingForward: 5, trainingBackward: 8)
    static let smallestTiles64 = SmallestTiles(forward: 7, featuresForward: 6, backward: 8,
                                               backwardWithoutRecompute: 7, featuresBackward: 7,
                                               featuresBackwardFromPhi: 8, trainingForward: 6, trainingBackward: 7)
    #elseif FASTFOOD_AVX2
    static let smallestTiles32 = SmallestTiles(forward: 15, featuresForward: 15, backward: 16,
                                               backwardWithoutRecompute: 15, featuresBackward: 14,
                                               featuresBackwardFromPhi: 16, trainingForward: 7, trainingBackward: 10)
    static let smallestTiles64 = SmallestTiles.wholeTilesOnly(tileRows: 8)
    #else
    static let smallestTiles32 = SmallestTiles(forward: 16, featuresForward: 16, backward: 16,
                                               backwardWithoutRecompute: 14, featuresBackward: 14,
                                               featuresBackwardFromPhi: 16, trainingForward: 7, trainingBackward: 10)
    static let smallestTiles64 = SmallestTiles(forward: 8, featuresForward: 8, backward: 8,
                                               backwardWithoutRecompute: 8, featuresBackward: 7,
                                               featuresBackwardFromPhi: 8, trainingForward: 8, trainingBackward: 8)
    #endif
}
