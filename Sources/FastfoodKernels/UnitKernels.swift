import FastfoodCore

/// The compute of one unit of rows: interleaved tiles (lane = row, every transform stage a
/// whole-vector butterfly, PI moving whole vectors) or single rows. Both paths do the same
/// arithmetic in the same order, so every output is bit-identical whichever runs it; only the
/// order in which parameter gradients are summed over rows differs. Training mode (dropout
/// inside the transform, see Dropout) is the same kernels with each masked value multiplied by
/// its factor where the value is formed: on the input (x~ = a_in x, before B), after PI
/// ((PI u) a_pi, before G) and after S ((S v) a_out, before the bias).
enum ForwardKernels {
    /// A worker's scratch: three D-vector buffers (the input tile and two transform buffers),
    /// and in training mode a fourth for one site's mask factors; the row path uses the start
    /// of two of them. Layout: KernelScratch.forward.
    struct Scratch<T: FastfoodFloat> {
        let input, u, v, factors: UnsafeMutablePointer<T.Vector>

        init(at base: UnsafeMutableRawPointer, blockSize n: Int) {
            let stride = n * KernelScratch.vectorBytes
            input = base.bindMemory(to: T.Vector.self, capacity: n)
            u = (base + stride).bindMemory(to: T.Vector.self, capacity: n)
            v = (base + 2 * stride).bindMemory(to: T.Vector.self, capacity: n)
            factors = (base + 3 * stride).bindMemory(to: T.Vector.self, capacity: n)
        }
    }

    @inline(__always)
    static func run<T: FastfoodFloat>(_ unit: ForwardUnit<T>) {
        let n = unit.layer.shape.blockSize
        let work = Scratch<T>(at: unit.work, blockSize: n)
        let masks = UnitMasks<T>(unit.dropout, firstRow: unit.firstRow)
        let out = unit.layer.shape.outFeatures
        let table = unit.features ? SineCosine.table(T.self, outFeatures: out) : nil
        if unit.interleaved {
            forwardTile(unit.layer, params: unit.params, x: unit.x, ldx: unit.ldx, y: unit.y, ldy: unit.ldy,
                        rows: unit.rows, work: work, masks: masks,
                        features: table.map { FeatureOutputs(table: $0, sinOffset: out) },
                        streaming: unit.streamsOutput)
            // Before the pool reports the unit done (and the caller reads y on another thread).
            if unit.streamsOutput { T.fenceStreamingStores() }
        } else {
            let u = UnsafeMutableRawPointer(work.u).bindMemory(to: T.self, capacity: n)
            let v = UnsafeMutableRawPointer(work.v).bindMemory(to: T.self, capacity: n)
            // With masks (training scratch): a row's factors, input, after PI and after S, D apart.
            let factors = UnsafeMutableRawPointer(work.factors).bindMemory(to: T.self, capacity: 3 * n)
            for row in 0 ..< unit.rows {
                forwardRow(unit.layer, params: unit.params, x: unit.x + row * unit.ldx,
                           y: unit.y + row * unit.ldy, u: u, v: v, masks: masks, key: masks?.rowKey(row) ?? 0,
                           factors: factors)
            }
            if let table {
                for row in 0 ..< unit.rows { SineCosine.featuresRow(unit.y + row * unit.ldy, count: out, table: table) }
            }
        }
    }

    /// Up to W rows at once, interleaved; y through non-temporal stores with `streaming` (the
    /// caller fences).
    @inline(__always)
    static func forwardTile<T: FastfoodFloat>(
        _ layer: KernelLayer, params: UnsafePointer<T>, x: UnsafePointer<T>, ldx: Int,
        y: UnsafeMutablePointer<T>, ldy: Int, rows: Int, work: Scratch<T>, masks: UnitMasks<T>?,
        features: FeatureOutputs<T>? = nil, streaming: Bool = false
    ) {
        let shape = layer.shape
        let n = shape.blockSize, inputs = shape.inFeatures
        let input = work.input, u = work.u, v = work.v
        // One block: B (and the input masks) are applied during the transpose. Several: transpose
        // once (and mask), scale per block. Transposes and permutations fill the transforms chunk
        // by chunk (see transformVectors); mask factors are made just before the chunk that
        // reads them, so they are read back from L1.
        let masksOutput = masks?.masks(.output) == true
        let singleBlock = shape.blockCount == 1
        if !singleBlock {
            TileKernels.gather(x, ld: ldx, rows: rows, count: inputs, total: n, into: input)
            masks?.apply(.input, to: input, first: 0, count: inputs)
        }
        for k in 0 ..< shape.blockCount {
            let block = BlockView(layer, params, block: k)
            // u = H B x_pad
            WalshHadamard.transformVectors(UnsafeMutableRawPointer(u), count: n, T.self, withinVectors: false,
                                           zeroFrom: inputs) { range in
                TileKernels.signedInput(range: range, x: x, ldx: ldx, rows: rows, inputs: inputs, sign: block.sign,
                                        singleBlock: singleBlock, keepingX: false, input: input, into: u,
                                        masks: masks, inputFactors: work.factors)
            }
            // v = H G PI u
            TileKernels.permuteAndTransform(u, permutation: block.permutation, scale: block.gaussian, count: n,
                                            into: v, factors: masks?.factors(.permuted, in: work.factors),
                                            prepare: { masks?.fill(.permuted, offset: block.offset, $0, into: work.factors) })
            // y_k = S v (+ bias), truncated; with output masks, in pieces of L1 size. Random
            // features (never with dropout) store cos y_k and sin y_k instead.
            let bias = block.bias
            if let features {
                TileKernels.scatterFeatures(v, count: block.outputs, rows: rows, into: y + block.offset, ld: ldy,
                                            scale: block.scale, bias: bias, features: features, streaming: streaming)
                continue
            }
            let piece = masksOutput ? KernelScratch.maskPiece : block.outputs
            // Rows off a 64-byte boundary: the first piece ends where the rows are aligned, so
            // only its scatter starts lane by lane (TileKernels.scatter), not every piece's.
            let head = masksOutput ? TileKernels.alignedColumn(y + block.offset, ld: ldy) : 0
            var c = 0
            while c < block.outputs {
                let count = min(c == 0 && head > 0 ? piece - T.Vector.scalarCount + head : piece, block.outputs - c)
                masks?.fill(.output, offset: block.offset, c ..< c + count, into: work.factors)
                TileKernels.scatter(v + c, count: count, rows: rows, into: y + block.offset + c, ld: ldy, add: false,
                                    scale: block.scale + c, bias: bias.map { $0 + c },
                                    factors: masks?.factors(.output, in: work.factors).map { $0 + c },
                                    streaming: streaming)
                c += count
            }
        }
    }

    /// One row; `u` and `v` are D-element scratch vectors; `key` is the row's dropout key and
    /// `factors` 3 D elements for its mask factors (only read with masks).
    @inline(__always)
    static func forwardRow<T: FastfoodFloat>(
        _ layer: KernelLayer, params: UnsafePointer<T>,
        x: UnsafePointer<T>, y: UnsafeMutablePointer<T>,
        u: UnsafeMutablePointer<T>, v: UnsafeMutablePointer<T>, masks: UnitMasks<T>?, key: UInt64,
        factors: UnsafeMutablePointer<T>
    ) {
        let shape = layer.shape
        let n = shape.blockSize, inputs = shape.inFeatures, log2n = shape.log2BlockSize
        let (inputMask, permutedMask, outputMask) = (masks?.input, masks?.permuted, masks?.output)
        let (inputFactors, permutedFactors, outputFactors) = (factors, factors + n, factors + 2 * n)
        inputMask?.fillRow(inputFactors, first: 0, count: inputs, key: key)
        for k in 0 ..< shape.blockCount {
            let block = BlockView(layer, params, block: k)
            // u = H B x_pad
            if inputMask != nil {
                for i in 0 ..< inputs { u[i] = (x[i] * inputFactors[i]) * block.sign[i] }
            } else {
                for i in 0 ..< inputs { u[i] = x[i] * block.sign[i] }
            }
            (u + inputs).update(repeating: 0, count: n - inputs)
            WalshHadamard.transform(u, log2Length: log2n)
            // v = H G PI u
            if let permutedMask {
                permutedMask.fillRow(permutedFactors, first: block.offset, count: n, key: key)
                for i in 0 ..< n {
                    let kept = u[Int(block.permutation[i])] * permutedFactors[i]
                    v[i] = kept * block.gaussian[i]
                }
            } else {
                for i in 0 ..< n { v[i] = u[Int(block.permutation[i])] * block.gaussian[i] }
            }
            WalshHadamard.transform(v, log2Length: log2n)
            // y_k = S v (+ bias), truncated
            let yk = y + block.offset
            let bias = block.bias
            if let outputMask {
                outputMask.fillRow(outputFactors, first: block.offset, count: block.outputs, key: key)
                // Branches outside the loops: a select inside one becomes masked loads (slow on AMD).
                if let bias {
                    for i in 0 ..< block.outputs { yk[i] = (v[i] * block.scale[i]) * outputFactors[i] + bias[i] }
                } else {
                    for i in 0 ..< block.outputs { yk[i] = (v[i] * block.scale[i]) * outputFactors[i] }
                }
            } else if let bias {
                for i in 0 ..< block.outputs { yk[i] = v[i] * block.scale[i] + bias[i] }
            } else {
                for i in 0 ..< block.outputs { yk[i] = v[i] * block.scale[i] }
            }
        }
    }
}

enum BackwardKernels {
    /// A worker's scratch: five D-vector buffers and two W x W tiles, and in training mode three
    /// more D-vector buffers for the mask factors after PI, after S and on the input. Layout: KernelScratch.backward.
    struct Scratch<T: FastfoodFloat> {
        let input, u, v, w, dx, tile, permutedFactors, outputFactors, inputFactors: UnsafeMutablePointer<T.Vector>

        init(at base: UnsafeMutableRawPointer, blockSize n: Int) {
            let stride = n * KernelScratch.vectorBytes
            func region(_ start: Int) -> UnsafeMutablePointer<T.Vector> {
                (base + start).bindMemory(to: T.Vector.self, capacity: max(n, T.Vector.scalarCount))
            }
            (input, u, v, w, dx, tile) = (region(0), region(stride), region(2 * stride), region(3 * stride),
                                          region(4 * stride), region(5 * stride))
            let masks = 5 * stride + KernelScratch.tileVectors * KernelScratch.vectorBytes
            (permutedFactors, outputFactors, inputFactors) = (region(masks), region(masks + stride), region(masks + 2 * stride))
        }

        /// The same memory as scalars, for the row path.
        func scalars(_ region: UnsafeMutablePointer<T.Vector>) -> UnsafeMutablePointer<T> {
            UnsafeMutableRawPointer(region).bindMemory(to: T.self, capacity: 1)
        }
    }

    @inline(__always)
    static func run<T: FastfoodFloat>(_ unit: BackwardUnit<T>) {
        if let saved = unit.savedFeatures {
            // Random features from the saved phi: the unit's dy rows first (unit.dy points at
            // them), then the plain backward.
            let out = unit.layer.shape.outFeatures
            for r in 0 ..< unit.rows {
                SineCosine.gradientFromSaved(phi: saved.phi + r * saved.ldphi, dphi: saved.dphi + r * saved.lddphi,
                                             count: out, into: saved.dy + r * out)
            }
        }
        let work = Scratch<T>(at: unit.work, blockSize: unit.layer.shape.blockSize)
        let masks = UnitMasks<T>(unit.dropout, firstRow: unit.firstRow)
        if unit.interleaved {
            // Random features: dy is made in the tile from dphi and the recomputed z (TileFeatures),
            // block by block.
            backwardTile(unit.layer, params: unit.params, x: unit.features?.x ?? unit.x, ldx: unit.ldx, dy: unit.dy,
                         lddy: unit.lddy, dx: unit.dx, lddx: unit.lddx, rows: unit.rows,
                         accumulateDX: unit.accumulateDX, gradient: unit.gradient, sections: unit.sections, work: work,
                         masks: masks, features: unit.features.map { ($0.dphi, $0.lddphi) },
                         streamingDX: unit.streamsDX)
            if unit.streamsDX { T.fenceStreamingStores() }
        } else {
            if let features = unit.features { featureGradient(unit, features) }
            for r in 0 ..< unit.rows {
                backwardRow(unit.layer, params: unit.params, x: unit.x.map { $0 + r * unit.ldx },
                            dy: unit.dy + r * unit.lddy, dx: unit.dx.map { $0 + r * unit.lddx },
                            accumulateDX: unit.accumulateDX, gradient: unit.gradient, sections: unit.sections,
                            work: work, masks: masks, key: masks?.rowKey(r) ?? 0)
            }
        }
    }

    /// Random features on the row path: the unit's dy (features.z) from dphi, recomputing z =
    /// layer(x) with the forward row kernel in the start of the unit's scratch.
    @inline(__always)
    static func featureGradient<T: FastfoodFloat>(_ unit: BackwardUnit<T>, _ features: FeatureGradient<T>) {
        let shape = unit.layer.shape
        let n = shape.blockSize, out = shape.outFeatures
        let forward = ForwardKernels.Scratch<T>(at: unit.work, blockSize: n)
        let u = UnsafeMutableRawPointer(forward.u).bindMemory(to: T.self, capacity: n)
        let v = UnsafeMutableRawPointer(forward.v).bindMemory(to: T.self, capacity: n)
        for row in 0 ..< unit.rows {
            ForwardKernels.forwardRow(unit.layer, params: unit.params, x: features.x + row * features.ldx,
                                      y: features.z + row * out, u: u, v: v, masks: nil, key: 0,
                                      factors: u /* not read: no masks */)
        }
        let table = SineCosine.table(T.self, outFeatures: out)
        for row in 0 ..< unit.rows {
            SineCosine.gradientRow(features.z + row * out, dphi: features.dphi + row * features.lddphi, count: out,
                                   table: table)
        }
    }

    /// Up to W rows at once, interleaved. `x` is nil when no parameter gradient is wanted.
    /// With masks, the forward pass's masks are regenerated and applied as the chain rule says:
    /// a_in on x (for dB) and on dx, a_pi after G on the way back through PI^T, a_out on dy.
    /// Each site's factors are made once per block, where they are first read (chunk by chunk,
    /// from L1), and kept for their second use.
    /// With `features` (dphi, its row stride), dy is not read: it is made from dphi and z = S u4
    /// (+ bias) before each block's transform (TileFeatures); `x` is then the layer input, always.
    @inline(__always)
    static func backwardTile<T: FastfoodFloat>(
        _ layer: KernelLayer, params: UnsafePointer<T>, x: UnsafePointer<T>?, ldx: Int,
        dy: UnsafePointer<T>, lddy: Int, dx: UnsafeMutablePointer<T>?, lddx: Int, rows: Int,
        accumulateDX: Bool, gradient: UnsafeMutablePointer<T>?, sections: GradientSections, work: Scratch<T>,
        masks: UnitMasks<T>?, features: (dphi: UnsafePointer<T>, ld: Int)? = nil, streamingDX: Bool = false
    ) {
        typealias V = T.Vector
        let shape = layer.shape
        let n = shape.blockSize, inputs = shape.inFeatures
        let (input, u, v, w, dxT, tile) = (work.input, work.u, work.v, work.w, work.dx, work.tile)
        let masksInput = masks?.masks(.input) == true
        // One block: x is transposed (and masked) straight into each use and dx scattered (and
        // masked) from u. Several: x~ = a_in x is transposed once into `input`, and dx is summed
        // in dxT (and masked) before one scatter.
        let singleBlock = shape.blockCount == 1
        let gradientAndX: (UnsafeMutablePointer<T>, UnsafePointer<T>)? = gradient.flatMap { g in x.map { (g, $0) } }
        /// p = H applied to what `fill` produces, chunk by chunk; `drain` reads the result while
        /// it is in L1 (see transformVectors).
        func transform(_ p: UnsafeMutablePointer<V>, zeroFrom: Int, fill: (Range<Int>) -> Void,
                       drain: (Range<Int>) -> Void = { _ in }) {
            WalshHadamard.transformVectors(UnsafeMutableRawPointer(p), count: n, T.self, withinVectors: false,
                                           zeroFrom: zeroFrom, fill: fill, drain: drain)
        }
        // The forward intermediates, for dS, dG, dB or the features' z.
        let recomputeX = features != nil || (gradientAndX != nil && sections.needsForwardPass) ? x : nil
        // dphi with cosSin's constants, made once for all blocks.
        let featureRows = features.map { ($0, SineCosine.table(T.self, outFeatures: shape.outFeatures)) }
        var inputFactorsMade = false
        if let x = recomputeX, !singleBlock {
            TileKernels.gather(x, ld: ldx, rows: rows, count: inputs, total: n, into: input)
            if let factors = masks?.factors(.input, in: work.inputFactors) {
                masks?.fill(.input, offset: 0, 0 ..< inputs, into: work.inputFactors)
                inputFactorsMade = true
                for i in 0 ..< inputs { input[i] = input[i] * factors[i] }
            }
        }
        for k in 0 ..< shape.blockCount {
            let block = BlockView(layer, params, block: k)
            let dBlock = gradientAndX.map { shape.layout.block(k, of: $0.0) }
            let outputs = block.outputs
            let permutedFactors = masks?.factors(.permuted, in: work.permutedFactors)
            if let x = recomputeX {
                // Recompute u2 (kept in v) and u4 (in w), making the input and PI sites' factors.
                transform(u, zeroFrom: inputs, fill: { range in
                    TileKernels.signedInput(range: range, x: x, ldx: ldx, rows: rows, inputs: inputs, sign: block.sign,
                                            singleBlock: singleBlock, keepingX: true, input: input, into: u,
                                            masks: masks, inputFactors: work.inputFactors)
                })
                inputFactorsMade = inputFactorsMade || masksInput
                TileKernels.permuteAndTransform(u, permutation: block.permutation, scale: block.gaussian, count: n,
                                                into: w, copy: v, factors: permutedFactors,
                                                prepare: { masks?.fill(.permuted, offset: block.offset, $0,
                                                                       into: work.permutedFactors) })
            } else {
                masks?.fill(.permuted, offset: block.offset, 0 ..< n, into: work.permutedFactors)
            }
            // w = du3 = H S dy (truncated outputs have zero gradient). With parameter gradients,
            // w holds u4 on entry: dS and dbias are reduced as dy is transposed in, and dG as
            // du3 is finished. With features, dy is made first, for the whole block, from dphi and
            // z = S u4 (+ bias) into u (TileKernels.featureGradient), and read from there.
            let outputFactors = masks?.factors(.output, in: work.outputFactors)
            let tileFeatures = featureRows.map { dphi, table in
                TileFeatures(rows: dphi.dphi + block.offset, ld: dphi.ld, sinOffset: shape.outFeatures,
                             bias: block.bias, table: table, gradient: u)  // u: free until du0
            }
            if let tileFeatures {
                TileKernels.featureGradient(tileFeatures, rows: rows, count: outputs, w: w, scale: block.scale, tile: tile)
            }
            transform(w, zeroFrom: outputs, fill: { range in
                let first = range.lowerBound, columns = max(0, min(range.count, outputs - first))
                let dyBlock = dy + block.offset + first
                masks?.fill(.output, offset: block.offset, first ..< first + columns, into: work.outputFactors)
                let gradient = gradientAndX?.0
                if gradient != nil || tileFeatures != nil {
                    TileKernels.gatherOutputGradient(
                        dyBlock, ld: lddy, rows: rows, count: columns, total: range.count, w: w + first,
                        scale: block.scale + first,
                        dS: sections.scale ? dBlock.map { $0.scale + first } : nil,
                        dBias: dBlock?.bias.map { $0 + first },
                        tile: tile, factors: outputFactors.map { $0 + first },
                        transposed: tileFeatures.map { $0.gradient + first })
                } else if let outputFactors {
                    TileKernels.gather(dyBlock, ld: lddy, rows: rows, count: columns, total: range.count,
                                       into: w + first)
                    for i in first ..< first + columns { w[i] = (w[i] * outputFactors[i]) * block.scale[i] }
                } else {
                    TileKernels.gather(dyBlock, ld: lddy, rows: rows, count: columns, total: range.count,
                                       into: w + first, scale: block.scale + first)
                }
            }, drain: { range in
                if let dBlock, sections.gaussian {
                    TileKernels.reduce(w + range.lowerBound, times: v + range.lowerBound, count: range.count,
                                       rows: rows, into: dBlock.gaussian + range.lowerBound, tile: tile)
                }
                // w = a_pi G du3 in place, in order while it is in L1 (the row path's products, in
                // its order), so that PI^T below only moves vectors: no random reads of G and
                // the factors.
                if let permutedFactors {
                    for i in range { w[i] = (w[i] * block.gaussian[i]) * permutedFactors[i] }
                } else {
                    for i in range { w[i] = w[i] * block.gaussian[i] }
                }
            })
            // u = du0 = H PI^T w, PI^T as a gather through the inverse permutation; dB is reduced
            // as du0 is finished.
            TileKernels.permuteAndTransform(w, permutation: block.inversePermutation, scale: UnsafePointer<T>?.none,
                                            count: n, into: u,
                                            drain: { range in
                guard let dBlock, sections.sign else { return }
                let first = range.lowerBound, columns = max(0, min(range.count, inputs - first))
                TileKernels.reduce(u + first, times: input + first, count: columns, rows: rows,
                                   into: dBlock.sign + first, tile: tile)
            })
            guard let dx else { continue }
            // dx = a_in sum_k B_k du0_k
            if masksInput && !inputFactorsMade {
                masks?.fill(.input, offset: 0, 0 ..< inputs, into: work.inputFactors)
                inputFactorsMade = true
            }
            if singleBlock {
                TileKernels.scatter(u, count: inputs, rows: rows, into: dx, ld: lddx, add: accumulateDX,
                                    scale: block.sign, factors: masks?.factors(.input, in: work.inputFactors),
                                    streaming: streamingDX)
            } else if k == 0 {
                for i in 0 ..< inputs { dxT[i] = u[i] * block.sign[i] }
            } else {
                for i in 0 ..< inputs { dxT[i] += u[i] * block.sign[i] }
            }
        }
        if let dx, !singleBlock {
            if let factors = masks?.factors(.input, in: work.inputFactors) {
                for i in 0 ..< inputs { dxT[i] = dxT[i] * factors[i] }
            }
            TileKernels.scatter(dxT, count: inputs, rows: rows, into: dx, ld: lddx, add: accumulateDX,
                                streaming: streamingDX)
        }
    }

    /// One row, with the same arithmetic as the interleaved path except for the order in which
    /// parameter gradients are summed over rows; `key` is the row's dropout key.
    @inline(__always)
    static func backwardRow<T: FastfoodFloat>(
        _ layer: KernelLayer, params: UnsafePointer<T>, x: UnsafePointer<T>?,
        dy: UnsafePointer<T>, dx: UnsafeMutablePointer<T>?, accumulateDX: Bool,
        gradient: UnsafeMutablePointer<T>?, sections: GradientSections, work: Scratch<T>,
        masks: UnitMasks<T>?, key: UInt64
    ) {
        let shape = layer.shape
        let n = shape.blockSize, inputs = shape.inFeatures, log2n = shape.log2BlockSize
        let (u, v, w, dxRow) = (work.scalars(work.u), work.scalars(work.v), work.scalars(work.w), work.scalars(work.dx))
        let (inputMask, permutedMask, outputMask) = (masks?.input, masks?.permuted, masks?.output)
        // The row's mask factors (training scratch; only read with masks): the input's once, a
        // block's after PI and after S at the block.
        let (inputFactors, permutedFactors, outputFactors) =
            (work.scalars(work.inputFactors), work.scalars(work.permutedFactors), work.scalars(work.outputFactors))
        inputMask?.fillRow(inputFactors, first: 0, count: inputs, key: key)
        // x~ = a_in x (in the input buffer, which the row path does not use otherwise), or x.
        var xKept = x
        if let x, inputMask != nil {
            let masked = work.scalars(work.input)
            for i in 0 ..< inputs { masked[i] = x[i] * inputFactors[i] }
            xKept = UnsafePointer(masked)
        }
        for k in 0 ..< shape.blockCount {
            let block = BlockView(layer, params, block: k)
            let outputs = block.outputs
            let dBlock = gradient.map { shape.layout.block(k, of: $0) }
            permutedMask?.fillRow(permutedFactors, first: block.offset, count: n, key: key)
            let dyk = dy + block.offset
            // a_out dy (made in place of the factors: one select here, none in the loops), or dy.
            var keptDy = dyk
            if let outputMask {
                outputMask.fillRow(outputFactors, first: block.offset, count: outputs, key: key)
                for i in 0 ..< outputs { outputFactors[i] = dyk[i] * outputFactors[i] }
                keptDy = UnsafePointer(outputFactors)
            }
            if let dBlock, let xKept, sections.needsForwardPass {
                // Recompute u2 (kept in v) and u4 (in w).
                for i in 0 ..< inputs { u[i] = xKept[i] * block.sign[i] }
                (u + inputs).update(repeating: 0, count: n - inputs)
                WalshHadamard.transform(u, log2Length: log2n)
                if permutedMask != nil {
                    for i in 0 ..< n { v[i] = u[Int(block.permutation[i])] * permutedFactors[i] }
                } else {
                    for i in 0 ..< n { v[i] = u[Int(block.permutation[i])] }
                }
                for i in 0 ..< n { w[i] = v[i] * block.gaussian[i] }
                WalshHadamard.transform(w, log2Length: log2n)
                if sections.scale {
                    let ds = dBlock.scale
                    for i in 0 ..< outputs { ds[i] += keptDy[i] * w[i] }
                }
            }
            if let dbias = dBlock?.bias, x != nil {
                for i in 0 ..< outputs { dbias[i] += dyk[i] }
            }
            // w = du3 = H S a_out dy (truncated outputs have zero gradient)
            for i in 0 ..< outputs { w[i] = keptDy[i] * block.scale[i] }
            (w + outputs).update(repeating: 0, count: n - outputs)
            WalshHadamard.transform(w, log2Length: log2n)
            if let dBlock, x != nil, sections.gaussian {
                let dg = dBlock.gaussian
                for i in 0 ..< n { dg[i] += w[i] * v[i] }
            }
            // u = du0 = H PI^T a_pi G du3
            if permutedMask != nil {
                for i in 0 ..< n { u[Int(block.permutation[i])] = (w[i] * block.gaussian[i]) * permutedFactors[i] }
            } else {
                for i in 0 ..< n { u[Int(block.permutation[i])] = w[i] * block.gaussian[i] }
            }
            WalshHadamard.transform(u, log2Length: log2n)
            if let dBlock, let xKept, sections.sign {
                let db = dBlock.sign
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
            if inputMask != nil && accumulateDX {
                for i in 0 ..< inputs { dx[i] += dxRow[i] * inputFactors[i] }
            } else if inputMask != nil {
                for i in 0 ..< inputs { dx[i] = dxRow[i] * inputFactors[i] }
            } else if accumulateDX {
                for i in 0 ..< inputs { dx[i] += dxRow[i] }
            } else {
                dx.update(from: dxRow, count: inputs)
            }
        }
    }
}
