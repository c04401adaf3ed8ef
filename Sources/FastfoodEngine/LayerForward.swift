/// Why a compute call could not run. Everything else is validated before the engine is called.
public enum ComputeFailure: Error, Equatable {
    case outOfMemory
}

/// Forward pass: for each block k, y_k = S_k H G_k PI_k H B_k x_pad, truncated, plus bias.
///
/// The batch is cut into units (see BatchPlan) spread over the worker pool. An interleaved unit
/// holds up to W rows in one set of vectors (lane = row): every transform stage is a whole-vector
/// butterfly and PI moves whole vectors. A small leftover unit runs row by row. Both paths do
/// the same arithmetic in the same order, so every output is bit-identical whichever runs it.
enum LayerForward {
    /// Scratch of one worker: three D-vector buffers (the input tile and two transform buffers);
    /// the row path uses the start of two of them.
    struct Work<T: FastfoodFloat> {
        let input: UnsafeMutablePointer<T.Vector>
        let u: UnsafeMutablePointer<T.Vector>
        let v: UnsafeMutablePointer<T.Vector>

        static func bytes(blockSize n: Int) -> Int? {
            ScratchSize.region(T.Vector.self, count: n).map { 3 * $0 }
        }

        init(at base: UnsafeMutableRawPointer, blockSize n: Int) {
            let stride = (n * MemoryLayout<T.Vector>.stride + 63) / 64 * 64
            input = base.bindMemory(to: T.Vector.self, capacity: n)
            u = (base + stride).bindMemory(to: T.Vector.self, capacity: n)
            v = (base + 2 * stride).bindMemory(to: T.Vector.self, capacity: n)
        }
    }

    static func run<T: FastfoodFloat>(
        _ layer: FastfoodLayer, params: UnsafePointer<T>, batch: Int,
        x: UnsafePointer<T>, ldx: Int, y: UnsafeMutablePointer<T>, ldy: Int
    ) throws(ComputeFailure) {
        let n = layer.shape.blockSize
        let plan = BatchPlan(batch: batch, tileRows: T.Vector.scalarCount)
        let workers = min(Threading.threadCount, plan.unitCount)

        guard let workBytes = Work<T>.bytes(blockSize: n),
              let total = ScratchSize.total(0, plus: workers, times: workBytes),
              let base = ThreadScratch.buffer(bytes: total)
        else { throw .outOfMemory }

        WorkerPool.shared.run(tasks: plan.unitCount, maxWorkers: workers, Job(
            layer: layer, params: params, x: x, ldx: ldx, y: y, ldy: ldy, plan: plan,
            scratch: base, workBytes: workBytes))
    }

    /// One call's work for the pool: task = unit of rows.
    struct Job<T: FastfoodFloat>: PoolJob {
        let layer: FastfoodLayer
        let params: UnsafePointer<T>
        let x: UnsafePointer<T>, ldx: Int
        let y: UnsafeMutablePointer<T>, ldy: Int
        let plan: BatchPlan
        let scratch: UnsafeMutableRawPointer, workBytes: Int

        func run(task unit: Int, worker: Int) {
            let n = layer.shape.blockSize
            let w = Work<T>(at: scratch + worker * workBytes, blockSize: n)
            let rows = plan.rows(ofUnit: unit)
            if plan.isInterleaved(rows) {
                forwardTile(layer, params: params, x: x + rows.lowerBound * ldx, ldx: ldx,
                            y: y + rows.lowerBound * ldy, ldy: ldy, rows: rows.count, work: w)
            } else {
                let u = UnsafeMutableRawPointer(w.u).bindMemory(to: T.self, capacity: n)
                let v = UnsafeMutableRawPointer(w.v).bindMemory(to: T.self, capacity: n)
                for row in rows {
                    forwardRow(layer, params: params, x: x + row * ldx, y: y + row * ldy, u: u, v: v)
                }
            }
        }
    }

    /// Up to W rows at once, interleaved.
    @inline(__always)
    static func forwardTile<T: FastfoodFloat>(
        _ layer: FastfoodLayer, params: UnsafePointer<T>, x: UnsafePointer<T>, ldx: Int,
        y: UnsafeMutablePointer<T>, ldy: Int, rows: Int, work: Work<T>
    ) {
        let shape = layer.shape
        let n = shape.blockSize, inputs = shape.inFeatures
        let input = work.input, u = work.u, v = work.v
        // One block: B is applied during the transpose. Several: transpose once, scale per block.
        let singleBlock = shape.blockCount == 1
        if singleBlock {
            TileKernels.gather(x, ld: ldx, rows: rows, count: inputs, total: n, into: u,
                               scale: params + shape.signOffset)
        } else {
            TileKernels.gather(x, ld: ldx, rows: rows, count: inputs, total: n, into: input)
        }
        for k in 0 ..< shape.blockCount {
            let block = BlockView(layer, params, block: k)
            // u = H B x_pad
            if !singleBlock {
                for i in 0 ..< inputs { u[i] = input[i] * block.sign[i] }
                (u + inputs).update(repeating: T.Vector(), count: n - inputs)
            }
            WalshHadamard.transformVectors(UnsafeMutableRawPointer(u), count: n, T.self, withinVectors: false)
            // v = H G PI u
            if n >= 4 {
                TileKernels.permutedFirstStages(u, permutation: block.permutation, scale: block.gaussian,
                                                count: n, into: v)
                WalshHadamard.transformVectors(UnsafeMutableRawPointer(v), count: n, T.self,
                                               withinVectors: false, firstStride: 4)
            } else {
                for i in 0 ..< n { v[i] = u[Int(block.permutation[i])] * block.gaussian[i] }
                WalshHadamard.transformVectors(UnsafeMutableRawPointer(v), count: n, T.self, withinVectors: false)
            }
            // y_k = S v (+ bias), truncated
            let bias = shape.hasBias ? params + shape.biasOffset + block.offset : nil
            TileKernels.scatter(v, count: block.outputs, rows: rows, into: y + block.offset, ld: ldy,
                                add: false, scale: block.scale, bias: bias)
        }
    }

    /// One row; `u` and `v` are D-element scratch vectors.
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
            // u = H B x_pad
            for i in 0 ..< inputs { u[i] = x[i] * block.sign[i] }
            (u + inputs).update(repeating: 0, count: n - inputs)
            WalshHadamard.transform(u, log2Length: log2n)
            // v = H G PI u
            for i in 0 ..< n { v[i] = u[Int(block.permutation[i])] * block.gaussian[i] }
            WalshHadamard.transform(v, log2Length: log2n)
            // y_k = S v (+ bias), truncated
            let yk = y + block.offset
            if shape.hasBias {
                let bias = params + shape.biasOffset + block.offset
                for i in 0 ..< block.outputs { yk[i] = v[i] * block.scale[i] + bias[i] }
            } else {
                for i in 0 ..< block.outputs { yk[i] = v[i] * block.scale[i] }
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
