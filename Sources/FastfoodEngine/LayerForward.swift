import FastfoodCore

/// Why a compute call could not run. Everything else is validated before the engine is called.
public enum ComputeFailure: Error, Equatable {
    case outOfMemory
    /// The executor installed with fastfood_set_executor did not run every task exactly once on
    /// a free worker slot (ExecutorOutcome.brokeContract).
    case executorBrokeContract
}

/// Forward pass: for each block k, y_k = S_k H G_k PI_k H B_k x_pad, truncated, plus bias.
/// The batch is cut into units (BatchPlan) that the worker pool hands to the selected kernels.
enum LayerForward {
    // Specialised for both element types: the generic entry points dispatch to these.
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func run<T: FastfoodScalar>(
        _ layer: LayerCore, params: UnsafePointer<T>, batch: Int,
        x: UnsafePointer<T>, ldx: Int, y: UnsafeMutablePointer<T>, ldy: Int, dropout: Dropout? = nil,
        features: Bool = false
    ) throws(ComputeFailure) {
        guard batch > 0 else { return }
        let shape = layer.shape
        let smallest = T.smallestTiles
        let plan = BatchPlan(batch: batch, tileRows: T.tileRows,
                             smallestTile: dropout?.dropsAnything == true ? smallest.trainingForward
                                 : features ? smallest.featuresForward : smallest.forward)
        let workers = min(Threading.threadCount, plan.unitCount)
        // In place with several blocks: block 0's outputs would overwrite x before the later
        // blocks read it, so each unit first copies its rows of x into its worker's scratch.
        // (The boundary refuses any other overlap; rows interleaved in one buffer share no byte.)
        let copiesInput = shape.blockCount > 1
            && MemorySpan(x, rows: batch, width: shape.inFeatures, stride: ldx)
                .overlaps(MemorySpan(UnsafePointer(y), rows: batch, width: (features ? 2 : 1) * shape.outFeatures,
                                     stride: ldy))
        // All scratch, for every worker, before any output is written.
        guard let kernelWork = KernelScratch.forward(blockSize: shape.blockSize, training: dropout != nil),
              let inputBytes = copiesInput ? ThreadScratch.Size.region(T.self, count: plan.tileRows * shape.inFeatures) : 0,
              case let (workBytes, overflow) = kernelWork.addingReportingOverflow(inputBytes), !overflow,
              let paramBytes = Normalization.scratchBytes(shape, T.self),
              let total = ThreadScratch.Size.total(paramBytes, plus: workers, times: workBytes),
              let lease = ThreadScratch.lease(bytes: total)
        else { throw .outOfMemory }
        // Held to the end of the call: a call nested in it on this thread (from an executor) gets another.
        defer { lease.release() }
        let scratch = lease.buffer
        let kernelParams = Normalization.kernelParameters(shape, params, scratch: scratch)
        try WorkerPool.run(tasks: plan.unitCount, maxWorkers: workers, Job(
            layer: layer.kernelLayer, params: kernelParams, x: x, ldx: ldx, y: y, ldy: ldy, plan: plan,
            scratch: scratch + paramBytes, workBytes: workBytes, inputOffset: copiesInput ? kernelWork : nil,
            dropout: dropout, features: features,
            streamsOutput: StreamingStores.pays(outputElements: batch * (features ? 2 : 1) * shape.outFeatures, of: T.self)))
    }

    /// One call's work for the pool: task = unit of rows.
    struct Job<T: FastfoodScalar>: PoolJob {
        let layer: KernelLayer
        let params: UnsafePointer<T>
        let x: UnsafePointer<T>, ldx: Int
        let y: UnsafeMutablePointer<T>, ldy: Int
        let plan: BatchPlan
        let scratch: UnsafeMutableRawPointer, workBytes: Int
        /// Where in a worker's scratch its copy of the unit's input rows goes (in place only).
        let inputOffset: Int?
        let dropout: Dropout?
        /// Random features: y rows of 2 outFeatures, [cos z | sin z] / sqrt(outFeatures).
        let features: Bool
        /// Write y with non-temporal stores (StreamingStores).
        let streamsOutput: Bool

        func run(task unit: Int, worker: Int) {
            let rows = plan.rows(ofUnit: unit)
            let work = scratch + worker * workBytes
            var input = x + rows.lowerBound * ldx, inputStride = ldx
            if let inputOffset {
                let width = layer.shape.inFeatures
                let copy = (work + inputOffset).bindMemory(to: T.self, capacity: rows.count * width)
                for r in 0 ..< rows.count { (copy + r * width).update(from: input + r * ldx, count: width) }
                (input, inputStride) = (UnsafePointer(copy), width)
            }
            var unitWork = ForwardUnit(
                layer: layer, params: params, x: input, ldx: inputStride,
                y: y + rows.lowerBound * ldy, ldy: ldy, rows: rows.count,
                interleaved: plan.isInterleaved(rows), work: work)
            unitWork.dropout = dropout
            unitWork.firstRow = rows.lowerBound
            unitWork.features = features
            unitWork.streamsOutput = streamsOutput
            T.forward(unitWork)
        }
    }
}

extension LayerDescription {
    /// y[r] = layer(params, x[r]) for every row. Sizes are the caller's (boundary's) to validate.
    public func forward<T: FastfoodScalar>(
        params: UnsafePointer<T>, batch: Int, x: UnsafePointer<T>, ldx: Int,
        y: UnsafeMutablePointer<T>, ldy: Int, dropout: Dropout? = nil
    ) throws(ComputeFailure) {
        try LayerForward.run(core, params: params, batch: batch, x: x, ldx: ldx, y: y, ldy: ldy, dropout: dropout)
    }
}
