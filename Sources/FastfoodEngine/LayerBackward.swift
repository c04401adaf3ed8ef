/// Backward pass (paper eq. 3-5). With u0 = B x, u1 = H u0, u2 = PI u1, u3 = G u2, u4 = H u3,
/// y = S u4: dS = dy*u4, du3 = H S dy, dG = du3*u2, du1 = PI^T G du3, du0 = H du1,
/// dB = du0*x, dx = sum over blocks of B du0. The forward intermediates u2 and u4 are recomputed
/// from x (two FWHTs) instead of stored, and only when parameter gradients are wanted.
///
/// Work is cut as in the forward pass (BatchPlan). Parameter gradients: each group of units sums
/// into its own partial gradient; the partials are then added in group order, so the result
/// depends on the batch size only, never on the thread count. With ACCUMULATE the fresh
/// gradients are complete before they are added, so the result is exactly old + fresh.
enum LayerBackward {
    struct Outputs<T> {
        var dx: UnsafeMutablePointer<T>?
        var lddx: Int
        var dparams: UnsafeMutablePointer<T>?
        var accumulate: Bool
    }

    /// Scratch of one worker: seven D-vector buffers and one W x W tile.
    struct Work<T: FastfoodFloat> {
        let input, dy, u, v, w, z, dx, tile: UnsafeMutablePointer<T.Vector>

        static func bytes(blockSize n: Int) -> Int? {
            guard let region = ScratchSize.region(T.Vector.self, count: n),
                  let tile = ScratchSize.region(T.Vector.self, count: T.Vector.scalarCount)
            else { return nil }
            return ScratchSize.total(tile, plus: 7, times: region)
        }

        init(at base: UnsafeMutableRawPointer, blockSize n: Int) {
            let stride = (n * MemoryLayout<T.Vector>.stride + 63) / 64 * 64
            func region(_ i: Int) -> UnsafeMutablePointer<T.Vector> {
                (base + i * stride).bindMemory(to: T.Vector.self, capacity: max(n, T.Vector.scalarCount))
            }
            (input, dy, u, v, w, z, dx, tile) =
                (region(0), region(1), region(2), region(3), region(4), region(5), region(6), region(7))
        }

        /// The same memory as scalars, for the row path: u, v, w (D each) and a dx row.
        func scalars(_ region: UnsafeMutablePointer<T.Vector>) -> UnsafeMutablePointer<T> {
            UnsafeMutableRawPointer(region).bindMemory(to: T.self, capacity: 1)
        }
    }

    static func run<T: FastfoodFloat>(
        _ layer: FastfoodLayer, params: UnsafePointer<T>, batch: Int,
        x: UnsafePointer<T>?, ldx: Int, dy: UnsafePointer<T>, lddy: Int, outputs: Outputs<T>
    ) throws(ComputeFailure) {
        let shape = layer.shape
        let n = shape.blockSize
        let plan = BatchPlan(batch: batch, tileRows: T.Vector.scalarCount)
        // Parameter gradients need x; the boundary rejects dparams without x.
        let wantsGradient = outputs.dparams != nil && x != nil
        let tasks = wantsGradient ? plan.groupCount : plan.unitCount
        let workers = min(Threading.threadCount, tasks)

        let partialCount = wantsGradient ? plan.groupCount : 0
        guard let workBytes = Work<T>.bytes(blockSize: n),
              let partialBytes = ScratchSize.region(T.self, count: shape.parameterCount),
              let partialsTotal = ScratchSize.total(0, plus: partialCount, times: partialBytes),
              let total = ScratchSize.total(partialsTotal, plus: workers, times: workBytes),
              let base = ThreadScratch.buffer(bytes: total)
        else { throw .outOfMemory }
        let job = Job(layer: layer, params: params, x: x, ldx: ldx, dy: dy, lddy: lddy, outputs: outputs,
                      plan: plan, wantsGradient: wantsGradient, scratch: base, partialBytes: partialBytes,
                      workStart: partialsTotal, workBytes: workBytes)
        WorkerPool.shared.run(tasks: tasks, maxWorkers: workers, job)

        guard wantsGradient, let dparams = outputs.dparams else { return }
        let sum = job.partial(0)
        for group in 1 ..< plan.groupCount {
            let other = job.partial(group)
            for i in 0 ..< shape.parameterCount { sum[i] += other[i] }
        }
        if outputs.accumulate {
            for i in 0 ..< shape.parameterCount { dparams[i] += sum[i] }
        } else {
            dparams.update(from: sum, count: shape.parameterCount)
        }
    }

    /// One call's work for the pool: task = unit of rows, or group of units when parameter
    /// gradients are summed (each group into its own partial).
    struct Job<T: FastfoodFloat>: PoolJob {
        let layer: FastfoodLayer
        let params: UnsafePointer<T>
        let x: UnsafePointer<T>?, ldx: Int
        let dy: UnsafePointer<T>, lddy: Int
        let outputs: Outputs<T>
        let plan: BatchPlan
        let wantsGradient: Bool
        let scratch: UnsafeMutableRawPointer
        let partialBytes: Int, workStart: Int, workBytes: Int

        func partial(_ group: Int) -> UnsafeMutablePointer<T> {
            (scratch + group * partialBytes).bindMemory(to: T.self, capacity: layer.shape.parameterCount)
        }

        func run(task: Int, worker: Int) {
            let shape = layer.shape
            let work = Work<T>(at: scratch + workStart + worker * workBytes, blockSize: shape.blockSize)
            let units: Range<Int>
            var gradient: UnsafeMutablePointer<T>? = nil
            if wantsGradient {
                units = plan.units(ofGroup: task)
                gradient = partial(task)
                gradient?.update(repeating: 0, count: shape.parameterCount)
            } else {
                units = task ..< task + 1
            }
            for unit in units {
                let rows = plan.rows(ofUnit: unit)
                let first = rows.lowerBound
                let xRows = x.map { $0 + first * ldx }
                let dxRows = outputs.dx.map { $0 + first * outputs.lddx }
                if plan.isInterleaved(rows) {
                    backwardTile(layer, params: params, x: wantsGradient ? xRows : nil, ldx: ldx,
                                 dy: dy + first * lddy, lddy: lddy, dx: dxRows, lddx: outputs.lddx,
                                 rows: rows.count, accumulateDX: outputs.accumulate,
                                 gradient: gradient, work: work)
                } else {
                    for r in 0 ..< rows.count {
                        backwardRow(layer, params: params, x: wantsGradient ? xRows.map { $0 + r * ldx } : nil,
                                    dy: dy + (first + r) * lddy, dx: dxRows.map { $0 + r * outputs.lddx },
                                    accumulateDX: outputs.accumulate, gradient: gradient, work: work)
                    }
                }
            }
        }
    }

    /// Up to W rows at once, interleaved. `x` is nil when no parameter gradient is wanted.
    @inline(__always)
    static func backwardTile<T: FastfoodFloat>(
        _ layer: FastfoodLayer, params: UnsafePointer<T>, x: UnsafePointer<T>?, ldx: Int,
        dy: UnsafePointer<T>, lddy: Int, dx: UnsafeMutablePointer<T>?, lddx: Int, rows: Int,
        accumulateDX: Bool, gradient: UnsafeMutablePointer<T>?, work: Work<T>
    ) {
        typealias V = T.Vector
        let shape = layer.shape
        let n = shape.blockSize, inputs = shape.inFeatures
        let (input, dyT, u, v, w, z, dxT, tile) =
            (work.input, work.dy, work.u, work.v, work.w, work.z, work.dx, work.tile)
        let singleBlock = shape.blockCount == 1
        let gradientAndX: (UnsafeMutablePointer<T>, UnsafePointer<T>)? = gradient.flatMap { g in x.map { (g, $0) } }
        func transform(_ p: UnsafeMutablePointer<V>, from firstStride: Int = 1) {
            WalshHadamard.transformVectors(UnsafeMutableRawPointer(p), count: n, T.self, withinVectors: false,
                                           firstStride: n >= 4 ? firstStride : 1)
        }
        /// dst = (the first stages of) src[p[i]] * scale(...), continued by transform(dst, from: 4).
        func permute(_ src: UnsafeMutablePointer<V>, _ p: UnsafePointer<UInt32>, _ scale: UnsafePointer<T>,
                     bySource: Bool, into dst: UnsafeMutablePointer<V>, copy: UnsafeMutablePointer<V>?) {
            if n >= 4 {
                TileKernels.permutedFirstStages(src, permutation: p, scale: scale, scaleBySource: bySource,
                                                count: n, into: dst, copy: copy)
            } else {
                for i in 0 ..< n {
                    let j = Int(p[i])
                    copy?[i] = src[j]
                    dst[i] = src[j] * scale[bySource ? j : i]
                }
            }
        }
        if let (_, x) = gradientAndX {
            // With one block, B x is formed during the transpose too.
            TileKernels.gather(x, ld: ldx, rows: rows, count: inputs, total: n, into: input,
                               scale: singleBlock ? params + shape.signOffset : nil,
                               scaledInto: singleBlock ? u : nil)
        }
        for k in 0 ..< shape.blockCount {
            let block = BlockView(layer, params, block: k)
            let outputs = block.outputs
            // dyT = dy (kept for dS and dbias), w = S dy (truncated outputs have zero gradient)
            TileKernels.gather(dy + block.offset, ld: lddy, rows: rows, count: outputs, total: n, into: dyT,
                               scale: block.scale, scaledInto: w)
            if let (gradient, _) = gradientAndX {
                // Recompute u2 (kept in v) and u4 (in z).
                if !singleBlock {
                    for i in 0 ..< inputs { u[i] = input[i] * block.sign[i] }
                    (u + inputs).update(repeating: V(), count: n - inputs)
                }
                transform(u)
                permute(u, block.permutation, block.gaussian, bySource: false, into: z, copy: v)
                transform(z, from: 4)
                TileKernels.reduce(dyT, times: z, count: outputs, rows: rows,
                                   into: gradient + shape.scaleOffset + block.offset, tile: tile)
                if shape.hasBias {
                    TileKernels.reduce(dyT, times: nil, count: outputs, rows: rows,
                                       into: gradient + shape.biasOffset + block.offset, tile: tile)
                }
            }
            // w = du3 = H S dy
            transform(w)
            if let (gradient, _) = gradientAndX {
                TileKernels.reduce(w, times: v, count: n, rows: rows,
                                   into: gradient + shape.gaussianOffset + block.offset, tile: tile)
            }
            // u = du0 = H PI^T G du3, PI^T as a gather through the inverse permutation
            permute(w, block.inversePermutation, block.gaussian, bySource: true, into: u, copy: nil)
            transform(u, from: 4)
            if let (gradient, _) = gradientAndX {
                TileKernels.reduce(u, times: input, count: inputs, rows: rows,
                                   into: gradient + shape.signOffset + block.offset, tile: tile)
            }
            guard let dx else { continue }
            // dx = sum_k B_k du0_k
            if singleBlock {
                TileKernels.scatter(u, count: inputs, rows: rows, into: dx, ld: lddx, add: accumulateDX,
                                    scale: block.sign)
            } else if k == 0 {
                for i in 0 ..< inputs { dxT[i] = u[i] * block.sign[i] }
            } else {
                for i in 0 ..< inputs { dxT[i] += u[i] * block.sign[i] }
            }
        }
        if let dx, !singleBlock {
            TileKernels.scatter(dxT, count: inputs, rows: rows, into: dx, ld: lddx, add: accumulateDX)
        }
    }

    /// One row, with the same arithmetic as the interleaved path except for the order in which
    /// parameter gradients are summed over rows.
    @inline(__always)
    static func backwardRow<T: FastfoodFloat>(
        _ layer: FastfoodLayer, params: UnsafePointer<T>, x: UnsafePointer<T>?,
        dy: UnsafePointer<T>, dx: UnsafeMutablePointer<T>?, accumulateDX: Bool,
        gradient: UnsafeMutablePointer<T>?, work: Work<T>
    ) {
        let shape = layer.shape
        let n = shape.blockSize, inputs = shape.inFeatures, log2n = shape.log2BlockSize
        let (u, v, w, dxRow) = (work.scalars(work.u), work.scalars(work.v), work.scalars(work.w), work.scalars(work.dx))
        for k in 0 ..< shape.blockCount {
            let block = BlockView(layer, params, block: k)
            let outputs = block.outputs
            let dyk = dy + block.offset
            if let gradient, let x {
                // Recompute u2 (kept in v) and u4 (in w).
                for i in 0 ..< inputs { u[i] = x[i] * block.sign[i] }
                (u + inputs).update(repeating: 0, count: n - inputs)
                WalshHadamard.transform(u, log2Length: log2n)
                for i in 0 ..< n { v[i] = u[Int(block.permutation[i])] }
                for i in 0 ..< n { w[i] = v[i] * block.gaussian[i] }
                WalshHadamard.transform(w, log2Length: log2n)
                let ds = gradient + shape.scaleOffset + block.offset
                for i in 0 ..< outputs { ds[i] += dyk[i] * w[i] }
                if shape.hasBias {
                    let dbias = gradient + shape.biasOffset + block.offset
                    for i in 0 ..< outputs { dbias[i] += dyk[i] }
                }
            }
            // w = du3 = H S dy (truncated outputs have zero gradient)
            for i in 0 ..< outputs { w[i] = dyk[i] * block.scale[i] }
            (w + outputs).update(repeating: 0, count: n - outputs)
            WalshHadamard.transform(w, log2Length: log2n)
            if let gradient, x != nil {
                let dg = gradient + shape.gaussianOffset + block.offset
                for i in 0 ..< n { dg[i] += w[i] * v[i] }
            }
            // u = du0 = H PI^T G du3
            for i in 0 ..< n { u[Int(block.permutation[i])] = w[i] * block.gaussian[i] }
            WalshHadamard.transform(u, log2Length: log2n)
            if let gradient, let x {
                let db = gradient + shape.signOffset + block.offset
                for i in 0 ..< inputs { db[i] += u[i] * x[i] }
            }
            guard dx != nil else { continue }
            if k == 0 {
                for i in 0 ..< inputs { dxRow[i] = u[i] * block.sign[i] }
            } else {
                for i in 0 ..< inputs { dxRow[i] += u[i] * block.sign[i] }
            }
        }
        if let dx {
            if accumulateDX {
                for i in 0 ..< inputs { dx[i] += dxRow[i] }
            } else {
                dx.update(from: dxRow, count: inputs)
            }
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
