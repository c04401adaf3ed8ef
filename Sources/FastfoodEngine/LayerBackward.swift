import FastfoodCore

/// Backward pass (paper eq. 3-5): dx and the parameter gradients summed over the batch, from x
/// and dy alone (the kernels recompute the forward intermediates they need).
///
/// Parameter gradients: each group of units (BatchPlan) sums into its own partial gradient;
/// the partials are then added in group order, so the result depends on the batch size only,
/// never on the thread count. With ACCUMULATE the fresh gradients are complete before they are
/// added, so the result is exactly old + fresh.
enum LayerBackward {
    struct Outputs<T> {
        var dx: UnsafeMutablePointer<T>?
        var lddx: Int
        var dparams: UnsafeMutablePointer<T>?
        var accumulate: Bool
        var sections = GradientSections.all
        var dropout: Dropout? = nil
        /// Random features: dy and lddy are phi's gradient (rows of 2 outFeatures), from which
        /// each unit computes the layer's dy itself (FeatureGradient); x is required.
        var features = false
        /// Random features from the forward's output: dy and lddy are phi's gradient, phi is the
        /// forward's phi (row stride ld); each unit makes the layer's dy from the two
        /// (SavedFeatureGradient). x is then needed for parameter gradients only, as in backward.
        var savedPhi: (phi: UnsafePointer<T>, ld: Int)? = nil
    }

    // Specialised for both element types: the generic entry points dispatch to these.
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func run<T: FastfoodScalar>(
        _ layer: LayerCore, params: UnsafePointer<T>, batch: Int,
        x: UnsafePointer<T>?, ldx: Int, dy: UnsafePointer<T>, lddy: Int, outputs: Outputs<T>
    ) throws(ComputeFailure) {
        let shape = layer.shape
        guard batch > 0 else {
            // The sum over an empty batch is zero, in the sections that are computed.
            if let dparams = outputs.dparams, !outputs.accumulate {
                shape.layout.forEachWritten(outputs.sections) { range in
                    (dparams + range.lowerBound).update(repeating: 0, count: range.count)
                }
            }
            return
        }
        // Parameter gradients need x; the boundary rejects dparams without x.
        let wantsGradient = outputs.dparams != nil && x != nil
        let smallest = T.smallestTiles
        let smallestTile = outputs.dropout?.dropsAnything == true ? smallest.trainingBackward
            : outputs.savedPhi != nil ? smallest.featuresBackwardFromPhi
            : outputs.features ? smallest.featuresBackward
            : wantsGradient && outputs.sections.needsForwardPass ? smallest.backward
            : smallest.backwardWithoutRecompute
        let plan = BatchPlan(batch: batch, tileRows: T.tileRows, smallestTile: smallestTile)
        let tasks = wantsGradient ? plan.groupCount : plan.unitCount
        let workers = min(Threading.threadCount, tasks)

        // All scratch (scaled parameters, partial gradients, then every worker's) before any
        // output is written.
        let partialCount = wantsGradient ? plan.groupCount : 0
        // Random features: room for the unit's z (recomputed) or dy (from the saved phi) rows.
        let featureRows = outputs.features || outputs.savedPhi != nil ? T.tileRows : 0
        guard let kernelBytes = KernelScratch.backward(blockSize: shape.blockSize, training: outputs.dropout != nil),
              let featureBytes = ThreadScratch.Size.region(T.self, count: featureRows * shape.outFeatures),
              case let (workBytes, overflow) = kernelBytes.addingReportingOverflow(featureBytes), !overflow,
              let paramBytes = Normalization.scratchBytes(shape, T.self),
              let partialBytes = ThreadScratch.Size.region(T.self, count: shape.parameterCount),
              let partialsTotal = ThreadScratch.Size.total(paramBytes, plus: partialCount, times: partialBytes),
              let total = ThreadScratch.Size.total(partialsTotal, plus: workers, times: workBytes),
              let lease = ThreadScratch.lease(bytes: total)
        else { throw .outOfMemory }
        // Held to the end of the call: a call nested in it on this thread (from an executor) gets another.
        defer { lease.release() }
        let scratch = lease.buffer
        let kernelParams = Normalization.kernelParameters(shape, params, scratch: scratch)
        let job = Job(layer: layer.kernelLayer, params: kernelParams, x: x, ldx: ldx, dy: dy, lddy: lddy,
                      outputs: outputs, plan: plan, wantsGradient: wantsGradient, scratch: scratch + paramBytes,
                      partialBytes: partialBytes, workStart: partialsTotal - paramBytes, workBytes: workBytes,
                      featuresOffset: kernelBytes,
                      streamsDX: outputs.dx != nil && !outputs.accumulate
                          && StreamingStores.pays(outputElements: batch * shape.inFeatures, of: T.self))
        try WorkerPool.run(tasks: tasks, maxWorkers: workers, job)

        guard wantsGradient, let dparams = outputs.dparams else { return }
        let sum = job.partial(0)
        for group in 1 ..< plan.groupCount {
            let other = job.partial(group)
            for i in 0 ..< shape.parameterCount { sum[i] += other[i] }
        }
        Normalization.scaleGradient(shape, sum)
        // Only the requested sections are written; skipped ones keep what the caller had.
        shape.layout.forEachWritten(outputs.sections) { range in
            if outputs.accumulate {
                for i in range { dparams[i] += sum[i] }
            } else {
                (dparams + range.lowerBound).update(from: sum + range.lowerBound, count: range.count)
            }
        }
    }

    /// One call's work for the pool: task = unit of rows, or group of units when parameter
    /// gradients are summed (each group into its own partial).
    struct Job<T: FastfoodScalar>: PoolJob {
        let layer: KernelLayer
        let params: UnsafePointer<T>
        let x: UnsafePointer<T>?, ldx: Int
        let dy: UnsafePointer<T>, lddy: Int
        let outputs: Outputs<T>
        let plan: BatchPlan
        let wantsGradient: Bool
        let scratch: UnsafeMutableRawPointer
        let partialBytes: Int, workStart: Int, workBytes: Int
        /// Where in a worker's scratch the unit's z or dy rows go (random features only).
        let featuresOffset: Int
        /// Write dx with non-temporal stores (StreamingStores; stored, not accumulated).
        let streamsDX: Bool

        func partial(_ group: Int) -> UnsafeMutablePointer<T> {
            (scratch + group * partialBytes).bindMemory(to: T.self, capacity: layer.shape.parameterCount)
        }

        func run(task: Int, worker: Int) {
            let units: Range<Int>
            var gradient: UnsafeMutablePointer<T>? = nil
            if wantsGradient {
                units = plan.units(ofGroup: task)
                gradient = partial(task)
                gradient?.update(repeating: 0, count: layer.shape.parameterCount)
            } else {
                units = task ..< task + 1
            }
            for unit in units {
                let rows = plan.rows(ofUnit: unit)
                let first = rows.lowerBound
                let workspace = scratch + workStart + worker * workBytes
                var features: FeatureGradient<T>? = nil
                if outputs.features, let x {
                    let out = layer.shape.outFeatures
                    let z = (workspace + featuresOffset).bindMemory(to: T.self, capacity: rows.count * out)
                    features = FeatureGradient(x: x + first * ldx, ldx: ldx, dphi: dy + first * lddy, lddphi: lddy, z: z)
                }
                var saved: SavedFeatureGradient<T>? = nil
                if let phi = outputs.savedPhi {
                    let out = layer.shape.outFeatures
                    let dyRows = (workspace + featuresOffset).bindMemory(to: T.self, capacity: rows.count * out)
                    saved = SavedFeatureGradient(phi: phi.phi + first * phi.ld, ldphi: phi.ld, dphi: dy + first * lddy,
                                                 lddphi: lddy, dy: dyRows)
                }
                var work = BackwardUnit(
                    layer: layer, params: params, x: wantsGradient ? x.map { $0 + first * ldx } : nil, ldx: ldx,
                    dy: features.map { UnsafePointer($0.z) } ?? saved.map { UnsafePointer($0.dy) } ?? dy + first * lddy,
                    lddy: features == nil && saved == nil ? lddy : layer.shape.outFeatures,
                    dx: outputs.dx.map { $0 + first * outputs.lddx },
                    lddx: outputs.lddx, rows: rows.count,
                    interleaved: plan.isInterleaved(rows),
                    accumulateDX: outputs.accumulate, gradient: gradient, work: workspace)
                work.sections = outputs.sections
                work.dropout = outputs.dropout
                work.firstRow = first
                work.features = features
                work.savedFeatures = saved
                work.streamsDX = streamsDX
                T.backward(work)
            }
        }
    }
}

extension LayerDescription {
    /// dx and dparams (summed over rows) from x and dy. x is read only when dparams is given.
    public func backward<T: FastfoodScalar>(
        params: UnsafePointer<T>, batch: Int, x: UnsafePointer<T>?, ldx: Int,
        dy: UnsafePointer<T>, lddy: Int, dx: UnsafeMutablePointer<T>?, lddx: Int,
        dparams: UnsafeMutablePointer<T>?, accumulate: Bool, sections: GradientSections = .all,
        dropout: Dropout? = nil
    ) throws(ComputeFailure) {
        try LayerBackward.run(
            core, params: params, batch: batch, x: x, ldx: ldx, dy: dy, lddy: lddy,
            outputs: .init(dx: dx, lddx: lddx, dparams: dparams, accumulate: accumulate, sections: sections,
                           dropout: dropout))
    }
}
