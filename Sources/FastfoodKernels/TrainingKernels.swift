import FastfoodCore

/// Training mode: the row path with dropout on the input, after PI and after S (see Dropout).
/// The same arithmetic as the plain row path, with each kept value multiplied by 1 / (1 - rate)
/// and each dropped one replaced by 0; the backward pass applies the same masks, regenerated from
/// the row's key.
enum TrainingKernels {
    /// 1 / (1 - rate) or 0 for one position.
    @inline(__always)
    static func factor<T: FastfoodFloat>(_ key: UInt64, _ site: Dropout.Site, _ index: Int, rate: Double) -> T {
        guard rate > 0 else { return 1 }
        return Dropout.kept(key, site, index, rate: rate) ? T(1 / (1 - rate)) : 0
    }

    static func forwardRow<T: FastfoodFloat>(
        _ layer: KernelLayer, params: UnsafePointer<T>, x: UnsafePointer<T>, y: UnsafeMutablePointer<T>,
        u: UnsafeMutablePointer<T>, v: UnsafeMutablePointer<T>, dropout: Dropout, key: UInt64
    ) {
        let shape = layer.shape
        let n = shape.blockSize, inputs = shape.inFeatures, log2n = shape.log2BlockSize
        for k in 0 ..< shape.blockCount {
            let block = BlockView(layer, params, block: k)
            for i in 0 ..< inputs {
                let kept = x[i] * (factor(key, .input, i, rate: dropout.input) as T)
                u[i] = kept * block.sign[i]
            }
            (u + inputs).update(repeating: 0, count: n - inputs)
            WalshHadamard.transform(u, log2Length: log2n)
            for i in 0 ..< n {
                let kept = u[Int(block.permutation[i])] * (factor(key, .permuted, block.offset + i, rate: dropout.permuted) as T)
                v[i] = kept * block.gaussian[i]
            }
            WalshHadamard.transform(v, log2Length: log2n)
            let yk = y + block.offset
            let bias = shape.hasBias ? params + shape.biasOffset + block.offset : nil
            for i in 0 ..< block.outputs {
                let kept = (v[i] * block.scale[i]) * (factor(key, .output, block.offset + i, rate: dropout.output) as T)
                yk[i] = bias.map { kept + $0[i] } ?? kept
            }
        }
    }

    static func backwardRow<T: FastfoodFloat>(
        _ layer: KernelLayer, params: UnsafePointer<T>, x: UnsafePointer<T>?, dy: UnsafePointer<T>,
        dx: UnsafeMutablePointer<T>?, accumulateDX: Bool, gradient: UnsafeMutablePointer<T>?,
        sections: GradientSections, work: BackwardKernels.Work<T>, dropout: Dropout, key: UInt64
    ) {
        let shape = layer.shape
        let n = shape.blockSize, inputs = shape.inFeatures, log2n = shape.log2BlockSize
        let (u, v, w, dxRow) = (work.scalars(work.u), work.scalars(work.v), work.scalars(work.w), work.scalars(work.dx))
        // x~ = a_in x, kept in the input buffer (the row path does not use it otherwise).
        let xKept = work.scalars(work.input)
        if let x {
            for i in 0 ..< inputs { xKept[i] = x[i] * (factor(key, .input, i, rate: dropout.input) as T) }
        }
        for k in 0 ..< shape.blockCount {
            let block = BlockView(layer, params, block: k)
            let outputs = block.outputs
            let dyk = dy + block.offset
            if let gradient, x != nil {
                // Recompute u2~ = a_pi u2 (kept in v) and u4 (in w).
                for i in 0 ..< inputs { u[i] = xKept[i] * block.sign[i] }
                (u + inputs).update(repeating: 0, count: n - inputs)
                WalshHadamard.transform(u, log2Length: log2n)
                for i in 0 ..< n {
                    v[i] = u[Int(block.permutation[i])] * (factor(key, .permuted, block.offset + i, rate: dropout.permuted) as T)
                }
                for i in 0 ..< n { w[i] = v[i] * block.gaussian[i] }
                WalshHadamard.transform(w, log2Length: log2n)
                if sections.scale {
                    let ds = gradient + shape.scaleOffset + block.offset
                    for i in 0 ..< outputs {
                        ds[i] += (dyk[i] * (factor(key, .output, block.offset + i, rate: dropout.output) as T)) * w[i]
                    }
                }
                if shape.hasBias {
                    let dbias = gradient + shape.biasOffset + block.offset
                    for i in 0 ..< outputs { dbias[i] += dyk[i] }
                }
            }
            // w = du3 = H S a_out dy
            for i in 0 ..< outputs {
                w[i] = (dyk[i] * (factor(key, .output, block.offset + i, rate: dropout.output) as T)) * block.scale[i]
            }
            (w + outputs).update(repeating: 0, count: n - outputs)
            WalshHadamard.transform(w, log2Length: log2n)
            if let gradient, x != nil, sections.gaussian {
                let dg = gradient + shape.gaussianOffset + block.offset
                for i in 0 ..< n { dg[i] += w[i] * v[i] }
            }
            // u = du0 = H PI^T a_pi G du3
            for i in 0 ..< n {
                let through = (w[i] * block.gaussian[i]) * (factor(key, .permuted, block.offset + i, rate: dropout.permuted) as T)
                u[Int(block.permutation[i])] = through
            }
            WalshHadamard.transform(u, log2Length: log2n)
            if let gradient, x != nil, sections.sign {
                let db = gradient + shape.signOffset + block.offset
                for i in 0 ..< inputs { db[i] += u[i] * xKept[i] }
            }
            guard dx != nil else { continue }
            if k == 0 {
                for i in 0 ..< inputs { dxRow[i] = u[i] * block.sign[i] }
            } else {
                for i in 0 ..< inputs { dxRow[i] += u[i] * block.sign[i] }
            }
        }
        if let dx {
            for i in 0 ..< inputs {
                let value = dxRow[i] * (factor(key, .input, i, rate: dropout.input) as T)
                dx[i] = accumulateDX ? dx[i] + value : value
            }
        }
    }
}
