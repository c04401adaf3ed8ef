/// One unit of work handed to a kernel variant: up to one tile of rows of a forward pass.
/// Pointers address the unit's first row; `work` is the worker's scratch of
/// `WorkSize.forward(blockSize:training:)` bytes, 64-byte aligned.
public struct ForwardUnit<T> {
    public var layer: KernelLayer
    public var params: UnsafePointer<T>
    public var x: UnsafePointer<T>, ldx: Int
    public var y: UnsafeMutablePointer<T>, ldy: Int
    public var rows: Int
    /// Interleave the rows (a tile), or run them one by one.
    public var interleaved: Bool
    public var work: UnsafeMutableRawPointer
    /// Training mode: dropout masks for rows firstRow ..< firstRow + rows (`work` sized for it).
    public var dropout: Dropout? = nil
    public var firstRow = 0
    /// Random features: each y row becomes [cos z | sin z] / sqrt(outFeatures) (2 outFeatures
    /// elements) in place once z, the layer's output, is written.
    public var features = false

    public init(layer: KernelLayer, params: UnsafePointer<T>, x: UnsafePointer<T>, ldx: Int,
                y: UnsafeMutablePointer<T>, ldy: Int, rows: Int, interleaved: Bool,
                work: UnsafeMutableRawPointer) {
        (self.layer, self.params, self.x, self.ldx, self.y, self.ldy) = (layer, params, x, ldx, y, ldy)
        (self.rows, self.interleaved, self.work) = (rows, interleaved, work)
    }
}

/// One unit of a backward pass. `x` is nil when no parameter gradient is wanted; `gradient`
/// (parameter layout) receives the unit's parameter gradients added to what it holds; dx rows
/// are stored, or added with `accumulateDX`. `work`: `WorkSize.backward(blockSize:training:)` bytes.
public struct BackwardUnit<T> {
    public var layer: KernelLayer
    public var params: UnsafePointer<T>
    public var x: UnsafePointer<T>?, ldx: Int
    public var dy: UnsafePointer<T>, lddy: Int
    public var dx: UnsafeMutablePointer<T>?, lddx: Int
    public var rows: Int
    public var interleaved: Bool
    public var accumulateDX: Bool
    public var gradient: UnsafeMutablePointer<T>?
    public var work: UnsafeMutableRawPointer
    /// Which of dS, dG, dB to compute (dbias always, with a gradient).
    public var sections = GradientSections.all
    /// Training mode: dropout masks for rows firstRow ..< firstRow + rows (`work` sized for it).
    public var dropout: Dropout? = nil
    public var firstRow = 0
    /// Random features: dy (which then points at features.z, rows of outFeatures) is computed
    /// first, from phi's gradient.
    public var features: FeatureGradient<T>? = nil

    public init(layer: KernelLayer, params: UnsafePointer<T>, x: UnsafePointer<T>?, ldx: Int,
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
public struct FeatureGradient<T> {
    public var x: UnsafePointer<T>, ldx: Int
    public var dphi: UnsafePointer<T>, lddphi: Int
    public var z: UnsafeMutablePointer<T>

    public init(x: UnsafePointer<T>, ldx: Int, dphi: UnsafePointer<T>, lddphi: Int, z: UnsafeMutablePointer<T>) {
        (self.x, self.ldx, self.dphi, self.lddphi, self.z) = (x, ldx, dphi, lddphi, z)
    }
}

/// Scratch sizes of one worker. Every kernel vector is one 512-bit register (16 floats or
/// 8 doubles) whatever the variant, so a D-vector region is D * 64 bytes for both types.
public enum WorkSize {
    public static let vectorBytes = 64
    /// Vectors of tile scratch: two tiles of the widest kind (16 float rows).
    public static let tileVectors = 32
    /// Vectors of mask factors made at a time where a kernel reads them in order: 16 KiB, well
    /// inside L1, and a multiple of every tile width.
    public static let maskPiece = 256

    public static func region(blockSize n: Int) -> Int? {
        let (bytes, overflow) = n.multipliedReportingOverflow(by: vectorBytes)
        return overflow ? nil : bytes
    }

    /// Forward: the input tile and two transform buffers; in training mode (dropout) one more
    /// for a site's mask factors.
    public static func forward(blockSize n: Int, training: Bool = false) -> Int? {
        let count = training ? 4 : 3
        return region(blockSize: n).flatMap { r in r.multipliedReportingOverflow(by: count).overflow ? nil : count * r }
    }

    /// Backward: five D-vector buffers and the tile scratch; in training mode three more D-vector
    /// buffers (the mask factors after PI, after S and on the input) after the tile scratch.
    public static func backward(blockSize n: Int, training: Bool = false) -> Int? {
        guard let r = region(blockSize: n) else { return nil }
        let (regions, o1) = r.multipliedReportingOverflow(by: training ? 8 : 5)
        let (total, o2) = regions.addingReportingOverflow(tileVectors * vectorBytes)
        return o1 || o2 ? nil : total
    }
}
