/// Backward pass (paper eq. 3-5). With u0 = B x, u1 = H u0, u2 = PI u1, u3 = G u2, u4 = H u3,
/// y = S u4: dS = dy*u4, du3 = H S dy, dG = du3*u2, du1 = PI^T G du3, du0 = H du1,
/// dB = du0*x, dx = sum over blocks of B du0. The forward intermediates u2 and u4 are recomputed
/// from x (two FWHTs) instead of stored, and only when parameter gradients are wanted.
enum LayerBackward {
    struct Outputs<T> {
        var dx: UnsafeMutablePointer<T>?
        var lddx: Int
        var dparams: UnsafeMutablePointer<T>?
        var accumulate: Bool
    }

    static func run<T: FastfoodFloat>(
        _ layer: FastfoodLayer, params: UnsafePointer<T>, batch: Int,
        x: UnsafePointer<T>?, ldx: Int, dy: UnsafePointer<T>, lddy: Int, outputs: Outputs<T>
    ) throws(ComputeFailure) {
        let shape = layer.shape
        let n = shape.blockSize
        // With ACCUMULATE the fresh gradients are summed apart and added once at the end, so the
        // result is exactly old + (the non-accumulating result).
        let dxRowBufferLength = outputs.dx != nil && outputs.accumulate && shape.blockCount > 1
            ? shape.inFeatures : 0
        let gradientBufferLength = outputs.dparams != nil && outputs.accumulate
            ? shape.parameterCount : 0
        let (extra, o1) = dxRowBufferLength.addingReportingOverflow(gradientBufferLength)
        let (total, o2) = extra.addingReportingOverflow(3 * n)
        guard !(o1 || o2), let work = AlignedMemory.allocate(T.self, count: total) else {
            throw .outOfMemory
        }
        defer { AlignedMemory.free(work) }
        let scratch = (u: work, v: work + n, w: work + 2 * n)
        let dxRow = work + 3 * n
        let gradientBuffer = dxRow + dxRowBufferLength

        var gradient: UnsafeMutablePointer<T>? = nil
        // Parameter gradients need x; the boundary rejects dparams without x.
        if let dparams = outputs.dparams, x != nil {
            gradient = outputs.accumulate ? gradientBuffer : dparams
            gradient?.update(repeating: 0, count: shape.parameterCount)
        }
        for row in 0 ..< batch {
            let dxTarget: UnsafeMutablePointer<T>? = outputs.dx.map { $0 + row * outputs.lddx }
            backwardRow(
                layer, params: params, x: x.map { $0 + row * ldx }, dy: dy + row * lddy,
                dx: dxTarget, dxRow: dxRowBufferLength > 0 ? dxRow : nil,
                accumulateDX: outputs.accumulate, gradient: gradient, scratch: scratch)
        }
        if outputs.accumulate, let dparams = outputs.dparams, gradient != nil {
            for i in 0 ..< shape.parameterCount { dparams[i] += gradientBuffer[i] }
        }
    }

    /// One row. `dxRow` (inFeatures scratch) is given when dx accumulates over several blocks.
    @inline(__always)
    static func backwardRow<T: FastfoodFloat>(
        _ layer: FastfoodLayer, params: UnsafePointer<T>, x: UnsafePointer<T>?,
        dy: UnsafePointer<T>, dx: UnsafeMutablePointer<T>?, dxRow: UnsafeMutablePointer<T>?,
        accumulateDX: Bool, gradient: UnsafeMutablePointer<T>?,
        scratch: (u: UnsafeMutablePointer<T>, v: UnsafeMutablePointer<T>, w: UnsafeMutablePointer<T>)
    ) {
        let shape = layer.shape
        let n = shape.blockSize, inputs = shape.inFeatures, log2n = shape.log2BlockSize
        let (u, v, w) = scratch
        for k in 0 ..< shape.blockCount {
            let block = BlockView(layer, params, block: k)
            let (offset, s, g, b, perm) = (block.offset, block.scale, block.gaussian, block.sign, block.permutation)
            let outputs = block.outputs
            let dyk = dy + offset

            if let gradient, let x {
                // Recompute u2 (kept in v) and u4 (in w).
                for i in 0 ..< inputs { u[i] = b[i] * x[i] }
                (u + inputs).update(repeating: 0, count: n - inputs)
                WalshHadamard.transform(u, log2Length: log2n)
                for i in 0 ..< n { v[i] = u[Int(perm[i])] }
                for i in 0 ..< n { w[i] = g[i] * v[i] }
                WalshHadamard.transform(w, log2Length: log2n)
                let ds = gradient + shape.scaleOffset + offset
                for i in 0 ..< outputs { ds[i] += dyk[i] * w[i] }
                if shape.hasBias {
                    let dbias = gradient + shape.biasOffset + offset
                    for i in 0 ..< outputs { dbias[i] += dyk[i] }
                }
            }
            // w = du3 = H S dy (truncated outputs have zero gradient)
            for i in 0 ..< outputs { w[i] = s[i] * dyk[i] }
            (w + outputs).update(repeating: 0, count: n - outputs)
            WalshHadamard.transform(w, log2Length: log2n)
            if let gradient {
                let dg = gradient + shape.gaussianOffset + offset
                for i in 0 ..< n { dg[i] += w[i] * v[i] }
            }
            // u = du0 = H PI^T G du3
            for i in 0 ..< n { u[Int(perm[i])] = g[i] * w[i] }
            WalshHadamard.transform(u, log2Length: log2n)
            if let gradient, let x {
                let db = gradient + shape.signOffset + offset
                for i in 0 ..< inputs { db[i] += u[i] * x[i] }
            }
            guard let dx else { continue }
            // dx = sum_k B_k du0_k: block 0 stores, later blocks add.
            let target = dxRow ?? dx
            if k == 0 && (dxRow != nil || !accumulateDX) {
                for i in 0 ..< inputs { target[i] = b[i] * u[i] }
            } else {
                for i in 0 ..< inputs { target[i] += b[i] * u[i] }
            }
        }
        if let dxRow, let dx {
            for i in 0 ..< inputs { dx[i] += dxRow[i] }
        }
    }
}

extension FastfoodLayer {
    /// dx and dparams (summed over rows) from x and dy. x is read only when dparams is given.
    public func backward(
        params: UnsafePointer<Float>, batch: Int, x: UnsafePointer<Float>?, ldx: Int,
        dy: UnsafePointer<Float>, lddy: Int, dx: UnsafeMutablePointer<Float>?, lddx: Int,
        dparams: UnsafeMutablePointer<Float>?, accumulate: Bool
    ) throws(ComputeFailure) {
        try LayerBackward.run(
            self, params: params, batch: batch, x: x, ldx: ldx, dy: dy, lddy: lddy,
            outputs: .init(dx: dx, lddx: lddx, dparams: dparams, accumulate: accumulate))
    }

    public func backward(
        params: UnsafePointer<Double>, batch: Int, x: UnsafePointer<Double>?, ldx: Int,
        dy: UnsafePointer<Double>, lddy: Int, dx: UnsafeMutablePointer<Double>?, lddx: Int,
        dparams: UnsafeMutablePointer<Double>?, accumulate: Bool
    ) throws(ComputeFailure) {
        try LayerBackward.run(
            self, params: params, batch: batch, x: x, ldx: ldx, dy: dy, lddy: lddy,
            outputs: .init(dx: dx, lddx: lddx, dparams: dparams, accumulate: accumulate))
    }
}
