/// Why a compute call could not run. Everything else is validated before the engine is called.
public enum ComputeFailure: Error, Equatable {
    case outOfMemory
}

/// Forward pass: for each block k, y_k = S_k H G_k PI_k H B_k x_pad, truncated, plus bias.
/// The batch is cut into units (BatchPlan) that the worker pool hands to the selected kernels.
enum LayerForward {
    static func run<T: EngineScalar>(
        _ layer: FastfoodLayer, params: UnsafePointer<T>, batch: Int,
        x: UnsafePointer<T>, ldx: Int, y: UnsafeMutablePointer<T>, ldy: Int, dropout: Dropout? = nil
    ) throws(ComputeFailure) {
        let plan = BatchPlan(batch: batch, tileRows: T.tileRows)
        let workers = min(Threading.threadCount, plan.unitCount)
        // All scratch, for every worker, before any output is written.
        guard let workBytes = WorkSize.forward(blockSize: layer.shape.blockSize),
              let total = ScratchSize.total(0, plus: workers, times: workBytes),
              let scratch = ThreadScratch.buffer(bytes: total)
        else { throw .outOfMemory }
        WorkerPool.shared.run(tasks: plan.unitCount, maxWorkers: workers, Job(
            layer: layer.kernelLayer, params: params, x: x, ldx: ldx, y: y, ldy: ldy, plan: plan,
            scratch: scratch, workBytes: workBytes, dropout: dropout))
    }

    /// One call's work for the pool: task = unit of rows.
    struct Job<T: EngineScalar>: PoolJob {
        let layer: KernelLayer
        let params: UnsafePointer<T>
        let x: UnsafePointer<T>, ldx: Int
        let y: UnsafeMutablePointer<T>, ldy: Int
        let plan: BatchPlan
        let scratch: UnsafeMutableRawPointer, workBytes: Int
        let dropout: Dropout?

        func run(task unit: Int, worker: Int) {
            let rows = plan.rows(ofUnit: unit)
            var work = ForwardUnit(
                layer: layer, params: params, x: x + rows.lowerBound * ldx, ldx: ldx,
                y: y + rows.lowerBound * ldy, ldy: ldy, rows: rows.count,
                interleaved: dropout == nil && plan.isInterleaved(rows), work: scratch + worker * workBytes)
            work.dropout = dropout
            work.firstRow = rows.lowerBound
            T.forward(work)
        }
    }
}

extension FastfoodLayer {
    /// y[r] = layer(params, x[r]) for every row. Sizes are the caller's (boundary's) to validate.
    public func forward(
        params: UnsafePointer<Float>, batch: Int, x: UnsafePointer<Float>, ldx: Int,
        y: UnsafeMutablePointer<Float>, ldy: Int, dropout: Dropout? = nil
    ) throws(ComputeFailure) {
        try LayerForward.run(self, params: params, batch: batch, x: x, ldx: ldx, y: y, ldy: ldy, dropout: dropout)
    }

    public func forward(
        params: UnsafePointer<Double>, batch: Int, x: UnsafePointer<Double>, ldx: Int,
        y: UnsafeMutablePointer<Double>, ldy: Int, dropout: Dropout? = nil
    ) throws(ComputeFailure) {
        try LayerForward.run(self, params: params, batch: batch, x: x, ldx: ldx, y: y, ldy: ldy, dropout: dropout)
    }
}
