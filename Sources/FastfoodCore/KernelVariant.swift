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
    /// When a unit of fewer rows than a tile runs as a padded tile rather than row by row.
    package let smallestTiles: SmallestTiles
    package let forward: @Sendable (ForwardUnit<T>) -> Void
    package let backward: @Sendable (BackwardUnit<T>) -> Void
    /// In-place unnormalised FWHT of the 2^log2Length contiguous elements at the pointer.
    package let transform: @Sendable (UnsafeMutablePointer<T>, _ log2Length: Int) -> Void

    package init(tileRows: Int, smallestTiles: SmallestTiles, forward: @escaping @Sendable (ForwardUnit<T>) -> Void,
                 backward: @escaping @Sendable (BackwardUnit<T>) -> Void,
                 transform: @escaping @Sendable (UnsafeMutablePointer<T>, Int) -> Void) {
        (self.tileRows, self.smallestTiles, self.forward, self.backward, self.transform) =
            (tileRows, smallestTiles, forward, backward, transform)
    }
}

/// The fewest rows for which a tile beats running the rows one by one, per kind of call. A tile
/// costs about as much whatever its rows (the padded lanes are computed too), the row path in
/// proportion to them, and where they cross depends on the call: dropout's masks are cheap in
/// vector registers and dear one at a time, the plain forward's rows are nearly as fast one by
/// one as in a tile. Both paths compute the same bits, so this is a matter of speed only.
package struct SmallestTiles: Sendable {
    package let forward, featuresForward: Int
    /// With parameter gradients that need the forward recomputed (S, G or B wanted).
    package let backward: Int
    /// dx only, or the bias's gradient only: no forward recompute.
    package let backwardWithoutRecompute: Int
    package let featuresBackward, featuresBackwardFromPhi: Int
    /// Forward and backward with dropout at some site.
    package let trainingForward, trainingBackward: Int

    package init(forward: Int, featuresForward: Int, backward: Int, backwardWithoutRecompute: Int,
                 featuresBackward: Int, featuresBackwardFromPhi: Int, trainingForward: Int, trainingBackward: Int) {
        (self.forward, self.featuresForward, self.backward) = (forward, featuresForward, backward)
        (self.backwardWithoutRecompute, self.featuresBackward) = (backwardWithoutRecompute, featuresBackward)
        (self.featuresBackwardFromPhi, self.trainingForward, self.trainingBackward) =
            (featuresBackwardFromPhi, trainingForward, trainingBackward)
    }

    /// Every call pads no tile: a unit of fewer than `tileRows` rows always runs row by row.
    package static func wholeTilesOnly(tileRows: Int) -> SmallestTiles {
        SmallestTiles(forward: tileRows, featuresForward: tileRows, backward: tileRows,
                      backwardWithoutRecompute: tileRows, featuresBackward: tileRows,
                      featuresBackwardFromPhi: tileRows, trainingForward: tileRows, trainingBackward: tileRows)
    }
}
