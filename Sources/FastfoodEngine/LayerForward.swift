/// Why a compute call could not run. Everything else is validated before the engine is called.
public enum ComputeFailure: Error, Equatable {
    case outOfMemory
}

/// Forward pass, one row at a time: for each block k,
/// y_k = S_k H G_k PI_k H B_k x_pad, truncated to outFeatures, plus bias.
enum LayerForward {
    static func run<T: FastfoodFloat>(
        _ layer: FastfoodLayer, params: UnsafePointer<T>, batch: Int,
        x: UnsafePointer<T>, ldx: Int, y: UnsafeMutablePointer<T>, ldy: Int
    ) throws(ComputeFailure) {
        let d = layer.shape.blockSize
        guard let work = AlignedMemory.allocate(T.self, count: 2 * d) else { throw .outOfMemory }
        defer { AlignedMemory.free(work) }
        for row in 0 ..< batch {
            forwardRow(layer, params: params, x: x + row * ldx, y: y + row * ldy,
                       u: work, v: work + d)
        }
    }

    /// `u` and `v` are D-element scratch vectors.
    @inline(__always)
    static func forwardRow<T: FastfoodFloat>(
        _ layer: FastfoodLayer, params: UnsafePointer<T>,
        x: UnsafePointer<T>, y: UnsafeMutablePointer<T>,
        u: UnsafeMutablePointer<T>, v: UnsafeMutablePointer<T>
    ) {
        let shape = layer.shape
        let n = shape.blockSize, inputs = shape.inFeatures, log2n = shape.log2BlockSize
        for k in 0 ..< shape.blockCount {
            let block = BlockView(layer, params, block: k)
            let (offset, s, g, b, perm) = (block.offset, block.scale, block.gaussian, block.sign, block.permutation)
            // u = H B x_pad
            for i in 0 ..< inputs { u[i] = b[i] * x[i] }
            (u + inputs).update(repeating: 0, count: n - inputs)
            WalshHadamard.transform(u, log2Length: log2n)
            // v = H G PI u
            for i in 0 ..< n { v[i] = g[i] * u[Int(perm[i])] }
            WalshHadamard.transform(v, log2Length: log2n)
            // y_k = S v (+ bias), truncated
            let outputs = block.outputs
            let yk = y + offset
            if shape.hasBias {
                let bias = params + shape.biasOffset + offset
                for i in 0 ..< outputs { yk[i] = s[i] * v[i] + bias[i] }
            } else {
                for i in 0 ..< outputs { yk[i] = s[i] * v[i] }
            }
        }
    }
}

extension FastfoodLayer {
    /// y[r] = layer(params, x[r]) for every row. Sizes are the caller's (boundary's) to validate.
    public func forward(
        params: UnsafePointer<Float>, batch: Int, x: UnsafePointer<Float>, ldx: Int,
        y: UnsafeMutablePointer<Float>, ldy: Int
    ) throws(ComputeFailure) {
        try LayerForward.run(self, params: params, batch: batch, x: x, ldx: ldx, y: y, ldy: ldy)
    }

    public func forward(
        params: UnsafePointer<Double>, batch: Int, x: UnsafePointer<Double>, ldx: Int,
        y: UnsafeMutablePointer<Double>, ldy: Int
    ) throws(ComputeFailure) {
        try LayerForward.run(self, params: params, batch: batch, x: x, ldx: ldx, y: y, ldy: ldy)
    }
}
