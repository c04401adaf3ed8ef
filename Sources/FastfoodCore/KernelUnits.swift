/// One unit of work handed to a kernel variant: up to one tile of rows of a forward pass.
/// Pointers address the unit's first row; `work` is the worker's scratch of
/// `KernelScratch.forward(blockSize:training:)` bytes, 64-byte aligned.
package struct ForwardUnit<T> {
    package var layer: KernelLayer
    package var params: UnsafePointer<T>
    package var x: UnsafePointer<T>, ldx: Int
    package var y: UnsafeMutablePointer<T>, ldy: Int
    package var rows: Int
    /// Interleave the rows (a tile), or run them one by one.
    package var interleaved: Bool
    package var work: UnsafeMutableRawPointer
    /// Training mode: dropout masks for rows firstRow ..< firstRow + rows (`work` sized for it).
    package var dropout: Dropout? = nil
    package var firstRow = 0
    /// Random features: each y row becomes [cos z | sin z] / sqrt(outFeatures) (2 outFeatures
    /// elements) in place once z, the layer's output, is written.
    package var features = false
    /// Write y's whole aligned vectors with non-temporal stores (a tile only; the kernel fences
    /// before it returns): the call's output is too large to stay in the cache.
    package var streamsOutput = false

    package init(layer: KernelLayer, params: UnsafePointer<T>, x: UnsafePointer<T>, ldx: Int,
                y: UnsafeMutablePointer<T>, ldy: Int, rows: Int, interleaved: Bool,
                work: UnsafeMutableRawPointer) {
        (self.layer, self.params, self.x, self.ldx, self.y, self.ldy) = (layer, params, x, ldx, y, ldy)
        (self.rows, self.interleaved, self.work) = (rows, interleaved, work)
    }
}

/// One unit of a backward pass. `x` is nil when no parameter gradient is wanted; `gradient`
/// (parameter layout) receives the unit's parameter gradients added to what it holds; dx rows
/// are stored, or added with `accumulateDX`. `work`: `KernelScratch.backward(blockSize:training:)` bytes.
package struct BackwardUnit<T> {
    package var layer: KernelLayer
    package var params: UnsafePointer<T>
    package var x: UnsafePointer<T>?, ldx: Int
    package var dy: UnsafePointer<T>, lddy: Int
    package var dx: UnsafeMutablePointer<T>?, lddx: Int
    package var rows: Int
    package var interleaved: Bool
    package var accumulateDX: Bool
    package var gradient: UnsafeMutablePointer<T>?
    package var work: UnsafeMutableRawPointer
    /// Which of dS, dG, dB to compute (dbias always, with a gradient).
    package var sections = GradientSections.all
    /// Training mode: dropout masks for rows firstRow ..< firstRow + rows (`work` sized for it).
    package var dropout: Dropout? = nil
    package var firstRow = 0
    /// Random features: dy (which then points at features.z, rows of outFeatures) is computed
    /// first, from phi's gradient.
    package var features: FeatureGradient<T>? = nil
    /// Random features from the forward's saved phi: dy (which then points at savedFeatures.dy,
    /// rows of outFeatures) is made first from phi and its gradient, without recomputing z.
    package var savedFeatures: SavedFeatureGradient<T>? = nil
    /// Write dx's whole aligned vectors with non-temporal stores (a tile, dx stored, not added;
    /// the kernel fences before it returns): the call's dx is too large to stay in the cache.
    package var streamsDX = false

    package init(layer: KernelLayer, params: UnsafePointer<T>, x: UnsafePointer<T>?, ldx: Int,
                dy: UnsafePointer<T>, lddy: Int, dx: UnsafeMutablePointer<T>?, lddx: Int, rows: Int,
                interleaved: Bool, accumulateDX: Bool, gradient: UnsafeMutablePointer<T>?,
                work: UnsafeMutableRawPointer) {
        (self.layer, self.params, self.x, self.ldx, self.dy, self.lddy) = (layer, params, x, ldx, dy, lddy)
        (self.dx, self.lddx, self.rows, self.interleaved) = (dx, lddx, rows, interleaved)
        (self.accumulateDX, self.gradient, self.work) = (accumulateDX, gradient, work)
    }
}

/// The random-feature backward of one unit: z = layer(x) for its rows is recomputed into `z`
/// (rows of outFeatures, the unit's own scratch), then replaced by
/// dz = (cos z * dsin - sin z * dcos) / sqrt(outFeatures) from dphi = [dcos | dsin].
package struct FeatureGradient<T> {
    package var x: UnsafePointer<T>, ldx: Int
    package var dphi: UnsafePointer<T>, lddphi: Int
    package var z: UnsafeMutablePointer<T>

    package init(x: UnsafePointer<T>, ldx: Int, dphi: UnsafePointer<T>, lddphi: Int, z: UnsafeMutablePointer<T>) {
        (self.x, self.ldx, self.dphi, self.lddphi, self.z) = (x, ldx, dphi, lddphi, z)
    }
}

/// The random-feature backward of one unit from the forward's output: with phi = [c | s] (rows of
/// 2 outFeatures, c = cos z / sqrt(outFeatures), s likewise) and dphi = [dcos | dsin], the layer's
/// dy = c * dsin - s * dcos, element by element, into `dy` (rows of outFeatures, the unit's own scratch).
package struct SavedFeatureGradient<T> {
    package var phi: UnsafePointer<T>, ldphi: Int
    package var dphi: UnsafePointer<T>, lddphi: Int
    package var dy: UnsafeMutablePointer<T>

    package init(phi: UnsafePointer<T>, ldphi: Int, dphi: UnsafePointer<T>, lddphi: Int, dy: UnsafeMutablePointer<T>) {
        (self.phi, self.ldphi, self.dphi, self.lddphi, self.dy) = (phi, ldphi, dphi, lddphi, dy)
    }
}

/// Scratch sizes of one worker. Every kernel vector is one 512-bit register (16 floats or
/// 8 doubles) whatever the variant, so a D-vector region is D * 64 bytes for both types.
package enum KernelScratch {
    package static let vectorBytes = 64
    /// Vectors of tile scratch: four tiles of the widest kind (16 float rows): a transposed block
    /// and a product's, and (since 1.4.7) a window of two aligned blocks for the backward's dy.
    package static let tileVectors = 64
    /// Vectors of mask factors made at a time where a kernel reads them in order: 16 KiB, well
    /// inside L1, and a multiple of every tile width.
    package static let maskPiece = 256

    package static func region(blockSize n: Int) -> Int? {
        let (bytes, overflow) = n.multipliedReportingOverflow(by: vectorBytes)
        return overflow ? nil : bytes
    }

    /// Forward: the input tile and two transform buffers; in training mode (dropout) one more
    /// for a site's mask factors.
    package static func forward(blockSize n: Int, training: Bool = false) -> Int? {
        let count = training ? 4 : 3
        return region(blockSize: n).flatMap { r in r.multipliedReportingOverflow(by: count).overflow ? nil : count * r }
    }

    /// Backward: five D-vector buffers and the tile scratch; in training mode three more D-vector
    /// buffers (the mask factors after PI, after S and on the input) after the tile scratch.
    package static func backward(blockSize n: Int, training: Bool = false) -> Int? {
        guard let r = region(blockSize: n) else { return nil }
        let (regions, o1) = r.multipliedReportingOverflow(by: training ? 8 : 5)
        let (total, o2) = regions.addingReportingOverflow(tileVectors * vectorBytes)
        return o1 || o2 ? nil : total
    }
}
