import FastfoodCore

/// Moving data between row-major batches and interleaved tiles, where vector i holds element i of
/// up to W = Vector.scalarCount rows (lane l = row l). Full W x W blocks go through
/// FastfoodFloat's transposes (transposeTile; in registers with AVX2 and AVX-512, a block swap
/// through scratch elsewhere); leftover columns are part of an overlapping or
/// partial block (since 1.4.8), or go lane by lane where a row holds fewer than W columns (and
/// in gatherOutputGradient, whose column sums fix its grid).
enum TileKernels {
    /// Whole blocks that scatter writes row by row together where rows are a multiple of 4 KiB
    /// apart (see there; groups of 4 took 1.02-1.06x the time of 8, groups of 16 the same).
    static let scatterGroup = 8

    /// dst[i] = (src[0][i], src[1][i], ...) for i < count, lanes >= rows zero; dst[count ..< total] = 0.
    /// With `scale`, dst[i] is multiplied by scale[i] while it is still in L1; with `scale` and
    /// `scaledInto`, dst keeps the values and scaledInto[i] = dst[i] * scale[i] (zero past count).
    /// With `factors` (dropout masks, one vector per column) each value is multiplied by
    /// factors[i] first, as the row path does: (value * factor) * scale. `src` row l starts at
    /// src + l * ld.
    @inline(__always)
    static func gather<T: FastfoodFloat>(
        _ src: UnsafePointer<T>, ld: Int, rows: Int, count: Int, total: Int,
        into dst: UnsafeMutablePointer<T.Vector>, scale: UnsafePointer<T>? = nil,
        scaledInto scaled: UnsafeMutablePointer<T.Vector>? = nil, factors: MaskFactors<T>? = nil
    ) {
        typealias V = T.Vector
        let width = V.scalarCount
        @inline(__always) func kept(_ i: Int, _ v: V) -> V { factors.map { v * $0[i] } ?? v }
        @inline(__always) func block(_ c: Int) {
            let row = { (l: Int) in l < rows ? UnsafeRawPointer(src + l * ld + c).loadUnaligned(as: V.self) : V() }
            if let scale, let scaled {
                // Two outputs: finishing the transpose in place, then scaling, measured faster
                // (by 3% of a backward pass) than storing both from the last step.
                T.transposeTile(row, { dst[c + $0] = kept(c + $0, $1) }, scratch: dst + c)
                for j in 0 ..< width { scaled[c + j] = dst[c + j] * scale[c + j] }
            } else if let scale {
                T.transposeTile(row, { dst[c + $0] = kept(c + $0, $1) * scale[c + $0] }, scratch: dst + c)
            } else {
                T.transposeTile(row, { dst[c + $0] = kept(c + $0, $1) }, scratch: dst + c)
            }
        }
        var c = 0
        // Rows off a 64-byte boundary: one block where they start, then blocks from the first
        // aligned column. The overlap is computed twice from the same inputs (the same values).
        let head = alignedColumn(src, ld: ld)
        if head > 0 && head + width <= count {
            block(0)
            c = head
        }
        while c + width <= count {
            block(c)
            c += width
        }
        if c < count && count >= width {
            // The last columns from the block ending at count (its overlap recomputed).
            block(count - width)
            c = count
        }
        while c < count {
            var v = V()
            for l in 0 ..< rows { v[l] = src[l * ld + c] }
            v = kept(c, v)
            if let scale, let scaled {
                dst[c] = v
                scaled[c] = v * scale[c]
            } else {
                dst[c] = scale.map { v * $0[c] } ?? v
            }
            c += 1
        }
        (dst + count).update(repeating: V(), count: total - count)
        if scale != nil, let scaled { (scaled + count).update(repeating: V(), count: total - count) }
    }

    /// Row l < rows of dst (columns 0 ..< count) = lane l of src[0 ..< count], stored or added.
    /// With `scale` (and `bias`), src[i] * scale[i] (+ bias[i]) is what is written; with
    /// `factors` (dropout masks, one vector per column) too, (src[i] * scale[i]) * factors[i]
    /// (+ bias[i]). src serves as the transposes' scratch: its contents are consumed. With
    /// `streaming` (and not `add`), whole 64-byte aligned row segments go out through
    /// T.storeStreaming; the caller fences once its unit is done.
    @inline(__always)
    static func scatter<T: FastfoodFloat>(
        _ src: UnsafeMutablePointer<T.Vector>, count: Int, rows: Int,
        into dst: UnsafeMutablePointer<T>, ld: Int, add: Bool,
        scale: UnsafePointer<T>? = nil, bias: UnsafePointer<T>? = nil, factors: MaskFactors<T>? = nil,
        streaming: Bool = false
    ) {
        typealias V = T.Vector
        let width = V.scalarCount
        @inline(__always) func prepared(_ i: Int) -> V {
            guard let scale else { return src[i] }
            if let factors {
                let masked = (src[i] * scale[i]) * factors[i]
                return bias.map { masked + $0[i] } ?? masked
            }
            if let bias { return src[i] * scale[i] + bias[i] }
            return src[i] * scale[i]
        }
        scatterBlocks(src, count: count, rows: rows, into: dst, ld: ld, prepared: prepared) { row, l, start, lanes in
            let whole = lanes.count == width
            let p = UnsafeMutableRawPointer(dst + l * ld + start)
            if whole && !add {
                T.store(row, at: p, streaming: streaming)
                return
            }
            let old = p.loadUnaligned(as: V.self)
            let new = add ? old + row : row
            p.storeBytes(of: whole ? new : T.blend(new, in: lanes, else: old), as: V.self)
        } column: { v, c in
            for l in 0 ..< rows { dst[l * ld + c] = add ? dst[l * ld + c] + v[l] : v[l] }
        }
    }

    /// The forward's scatter for random features: row l < rows of dst gets cos z (columns
    /// 0 ..< count) and, features.sinOffset columns on, sin z (both times phi's scale), for
    /// z = lane l of src[i] * scale[i] (+ bias[i]), the z that scatter would store.
    @inline(__always)
    static func scatterFeatures<T: FastfoodFloat>(
        _ src: UnsafeMutablePointer<T.Vector>, count: Int, rows: Int, into dst: UnsafeMutablePointer<T>, ld: Int,
        scale: UnsafePointer<T>, bias: UnsafePointer<T>?, features: FeatureOutputs<T>, streaming: Bool = false
    ) {
        typealias V = T.Vector
        let width = V.scalarCount
        @inline(__always) func prepared(_ i: Int) -> V {
            if let bias { return src[i] * scale[i] + bias[i] }
            return src[i] * scale[i]
        }
        scatterBlocks(src, count: count, rows: rows, into: dst, ld: ld, prepared: prepared) { z, l, start, lanes in
            let p = UnsafeMutableRawPointer(dst + l * ld + start)
            let q = UnsafeMutableRawPointer(dst + l * ld + features.sinOffset + start)
            let (cosine, sine) = T.cosSin(z, features.table)
            if lanes.count == width {
                T.store(cosine, at: p, streaming: streaming)
                T.store(sine, at: q, streaming: streaming)
            } else {
                p.storeBytes(of: T.blend(cosine, in: lanes, else: p.loadUnaligned(as: V.self)), as: V.self)
                q.storeBytes(of: T.blend(sine, in: lanes, else: q.loadUnaligned(as: V.self)), as: V.self)
            }
        } column: { z, c in
            let (cosine, sine) = T.cosSin(z, features.table)
            for l in 0 ..< rows { (dst[l * ld + c], dst[l * ld + features.sinOffset + c]) = (cosine[l], sine[l]) }
        }
    }

    /// scatter's walk over the columns: W x W blocks of `prepared` columns (lane = row)
    /// transposed, each row segment handed to `write` (row, l < rows, first column, lanes to
    /// keep: for fewer than W, the other lanes of the segment must be stored back as they were,
    /// so neighbouring blocks may overlap it); where a row holds fewer than W columns, each
    /// column to `column` (vector, column). Uses src[0 ..< count] as the transposes' scratch.
    @inline(__always)
    static func scatterBlocks<T: FastfoodFloat>(
        _ src: UnsafeMutablePointer<T.Vector>, count: Int, rows: Int, into dst: UnsafeMutablePointer<T>, ld: Int,
        prepared: (Int) -> T.Vector, write segment: (T.Vector, Int, Int, Range<Int>) -> Void,
        column: (T.Vector, Int) -> Void
    ) {
        typealias V = T.Vector
        let width = V.scalarCount
        @inline(__always) func write(_ row: V, _ l: Int, _ start: Int, lanes: Range<Int> = 0 ..< width) {
            guard l < rows else { return }
            segment(row, l, start, lanes)
        }
        /// Columns start + lanes of the block at `start` (all W by default). For fewer, the other
        /// lanes of each row segment are stored back as they were, so neighbouring blocks may
        /// overlap it. Reads src only at those columns, but uses all of src[start ..< start + W]
        /// as scratch.
        @inline(__always) func block(_ start: Int, lanes: Range<Int> = 0 ..< width) {
            let whole = lanes.count == width
            T.transposeTile({ whole || lanes.contains($0) ? prepared(start + $0) : V() },
                            { l, row in write(row, l, start, lanes: lanes) }, scratch: src + start)
        }
        var c = 0
        // Rows off a 64-byte boundary: whole blocks from the first aligned column, so that their
        // stores are aligned; the columns before it as the first block's first lanes, last
        // (when the blocks after it no longer need its scratch).
        let head = alignedColumn(dst, ld: ld)
        let headBlock = head > 0 && head + width <= count
        if headBlock { c = head }
        // Rows a multiple of 4 KiB apart (ld a multiple of 1024 floats, as with power-of-two
        // widths) put a block's W row segments in one L1 set, and W lines at once in one set of
        // 12 ways stall the stores: on Zen 4 a plain copy into such rows took twice the time of
        // rows 64 bytes longer, and with 8 blocks' segments written row by row the same. There
        // whole blocks go in groups, each row's segments of a group written one after another
        // (each block through its own scratch, as block does): forward 0.92x at 1024 and 4096.
        // Elsewhere grouping cost 1-4% (benchmarks/README.md, "Rows a multiple of 4 KiB apart").
        let group = scatterGroup
        while (ld &* MemoryLayout<T>.stride) & 4095 == 0 && c + group * width <= count {
            for b in 0 ..< group {
                let start = c + b * width
                T.transposeSteps({ prepared(start + $0) }, scratch: src + start)
            }
            for j in stride(from: 0, to: min(rows, width), by: 2) {
                for b in 0 ..< group {
                    let start = c + b * width
                    let (even, odd) = T.transposedColumns(src + start, j)
                    write(even, j, start)
                    write(odd, j + 1, start)
                }
            }
            c += group * width
        }
        while c + width <= count {
            block(c)
            c += width
        }
        if c < count && count >= width {
            // The last columns as the last lanes of the block ending at count.
            block(count - width, lanes: c - (count - width) ..< width)
        } else {
            while c < count {
                column(prepared(c), c)
                c += 1
            }
        }
        if headBlock { block(0, lanes: 0 ..< head) }
    }

    /// The first column at which every row of a batch (row l at rows + l * ld) is 64-byte
    /// aligned, when they all are at some column (ld a multiple of 64 bytes, rows at whole
    /// elements); else 0. Rows at malloc's 16 bytes past a boundary made the AVX-512 transposes'
    /// loads and stores straddle two cache lines each: 1.16-1.18x the fwd+bwd time on AMD Zen 4.
    @inline(__always)
    static func alignedColumn<T>(_ rows: UnsafePointer<T>, ld: Int) -> Int {
        let bytes = MemoryLayout<T>.stride, line = 64
        let address = Int(bitPattern: rows)
        guard (ld &* bytes) % line == 0, address % bytes == 0 else { return 0 }
        return (line &- address % line) % line / bytes
    }

    /// gradient[i] += sum over lanes l < rows of (a[i] * b[i])[l] (or of a[i][l] when b is nil),
    /// for i < count, each lane sum in a fixed order. `tile` is W vectors of scratch.
    @inline(__always)
    static func reduce<T: FastfoodFloat>(
        _ a: UnsafePointer<T.Vector>, times b: UnsafePointer<T.Vector>?, count: Int, rows: Int,
        into gradient: UnsafeMutablePointer<T>, tile: UnsafeMutablePointer<T.Vector>
    ) {
        typealias V = T.Vector
        let width = V.scalarCount
        var c = 0
        if rows == width {
            // Full tile: a shuffle-add tree over all lanes.
            while c + width <= count {
                let sums = if let b {
                    T.laneSums({ a[c + $0] * b[c + $0] })
                } else {
                    T.laneSums({ a[c + $0] })
                }
                let p = UnsafeMutableRawPointer(gradient + c)
                p.storeBytes(of: p.loadUnaligned(as: V.self) + sums, as: V.self)
                c += width
            }
        }
        // Partial tile (padded lanes must not count): transpose, then add the rows in order.
        while c + width <= count {
            if let b {
                for j in 0 ..< width { tile[j] = a[c + j] * b[c + j] }
            } else {
                for j in 0 ..< width { tile[j] = a[c + j] }
            }
            T.transposeTile(tile)
            var sum = tile[0]
            for l in 1 ..< rows { sum += tile[l] }
            let p = UnsafeMutableRawPointer(gradient + c)
            p.storeBytes(of: p.loadUnaligned(as: V.self) + sum, as: V.self)
            c += width
        }
        while c < count {
            let product: T.Vector
            if let b { product = a[c] * b[c] } else { product = a[c] }
            var sum = product[0]
            for l in 1 ..< rows { sum += product[l] }
            gradient[c] += sum
            c += 1
        }
    }
}

extension TileKernels {
    /// dst = the first N.stages transform stages (vector strides 1, 2, ...) of
    /// g[i] = src[p[i]] * scale[i] for i in `range` (bounds multiples of 2^N.stages): the
    /// permutation, the diagonal and one sweep in one; continue with firstStride 2^N.stages.
    /// With `copy`, copy[i] = src[p[i]] (unscaled) as well. `factors` (dropout masks, indexed
    /// like scale) multiply in where the row path does: before the scale,
    /// (src[p[i]] * factors[i]) * scale[i], and copy[i] = src[p[i]] * factors[i]. Without
    /// `scale`, g[i] = src[p[i]]: the gather alone (PI^T in the backward, whose products the
    /// caller has formed in source order).
    @inline(__always)
    static func permutedFirstStages<T: FastfoodFloat, N: VerticalNetwork>(
        _ src: UnsafePointer<T.Vector>, permutation p: UnsafePointer<UInt32>, scale: UnsafePointer<T>?,
        range: Range<Int>, into dst: UnsafeMutablePointer<T.Vector>,
        copy: UnsafeMutablePointer<T.Vector>? = nil, factors: MaskFactors<T>?, _: N.Type
    ) {
        var i = range.lowerBound
        while i < range.upperBound {
            if let scale, let factors {
                N.apply({ k in
                    let g = src[Int(p[i + k])] * factors[i + k]
                    copy?[i + k] = g
                    return g * scale[i + k]
                }, { k, v in dst[i + k] = v })
            } else if let scale {
                N.apply({ k in
                    let g = src[Int(p[i + k])]
                    copy?[i + k] = g
                    return g * scale[i + k]
                }, { k, v in dst[i + k] = v })
            } else {
                N.apply({ k in src[Int(p[i + k])] }, { k, v in dst[i + k] = v })
            }
            i += 1 << N.stages
        }
    }
}

extension TileKernels {
    /// One block's dy, transposed in with the work on it fused: on entry w holds u4;
    /// dbias[i] += sum over lanes of dy[i] and dS[i] += sum over lanes of dy[i] * u4[i]
    /// (when given), then w[i] = S[i] * dy[i] (zero for i >= count). With `factors` (the
    /// output site's dropout masks) dy[i] * factors[i] takes dy's place after the dbias sum.
    /// With `transposed`, dy is not read: its columns are there already, one vector per column
    /// (the random features' dy, made by featureGradient; changed in place with `factors`).
    /// `tile`: 4W vectors.
    @inline(__always)
    static func gatherOutputGradient<T: FastfoodFloat>(
        _ dy: UnsafePointer<T>, ld: Int, rows: Int, count: Int, total: Int,
        w: UnsafeMutablePointer<T.Vector>, scale: UnsafePointer<T>,
        dS: UnsafeMutablePointer<T>?, dBias: UnsafeMutablePointer<T>?, tile: UnsafeMutablePointer<T.Vector>,
        factors: MaskFactors<T>? = nil, transposed: UnsafeMutablePointer<T.Vector>? = nil
    ) {
        typealias V = T.Vector
        let width = V.scalarCount
        let products = tile + width, window = tile + 2 * width
        @inline(__always) func transpose(_ first: UnsafePointer<T>, stride: Int, into destination: UnsafeMutablePointer<V>) {
            transposeColumns(first, stride: stride, rows: rows, into: destination)
        }
        // Rows off a 64-byte boundary: the columns' grid (which fixes the sums' bits) stays, and
        // the loads move to the aligned blocks [c - W + head, c + head) and [c + head, c + W +
        // head), transposed side by side into `window`, whose vectors window[W - head ..< 2W -
        // head] are this block's columns; each aligned block serves two blocks of the grid.
        let head = transposed == nil ? alignedColumn(dy, ld: ld) : 0
        var windowHolds = -1  // the first column of the aligned block in window[0 ..< W]
        var c = 0
        while c + width <= count {
            let columns: UnsafeMutablePointer<V>
            if let transposed {
                columns = transposed + c
            } else if head > 0 && c >= width && c + head + width <= count {
                if windowHolds != c - width + head { transpose(dy + c - width + head, stride: ld, into: window) }
                transpose(dy + c + head, stride: ld, into: window + width)
                columns = window + (width - head)
            } else {
                transpose(dy + c, stride: ld, into: tile)
                columns = tile
            }
            if let dBias {
                reduce(columns, times: nil, count: width, rows: rows, into: dBias + c, tile: products)
            }
            if let factors {
                for j in 0 ..< width { columns[j] = columns[j] * factors[c + j] }
            }
            if let dS {
                reduce(columns, times: w + c, count: width, rows: rows, into: dS + c, tile: products)
            }
            for j in 0 ..< width { w[c + j] = columns[j] * scale[c + j] }
            if columns == window + (width - head) {
                // The newer aligned block serves the next block of the grid, which reads its last
                // head vectors (this block changed only its first W - head, in place).
                for j in 0 ..< width { window[j] = window[width + j] }
                windowHolds = c + head
            }
            c += width
        }
        while c < count {
            var v = V()
            if let transposed {
                v = transposed[c]
            } else {
                for l in 0 ..< rows { v[l] = dy[l * ld + c] }
            }
            if let dBias {
                var sum = v[0]
                for l in 1 ..< rows { sum += v[l] }
                dBias[c] += sum
            }
            if let factors { v = v * factors[c] }
            if let dS {
                let product = v * w[c]
                var sum = product[0]
                for l in 1 ..< rows { sum += product[l] }
                dS[c] += sum
            }
            w[c] = v * scale[c]
            c += 1
        }
        (w + count).update(repeating: V(), count: total - count)
    }

    /// The W columns from `first` of rows l < rows at first + l * stride (zero for the lanes of
    /// rows >= rows) into destination[0 ..< W], one vector per column.
    @inline(__always)
    static func transposeColumns<T: FastfoodFloat>(
        _ first: UnsafePointer<T>, stride: Int, rows: Int, into destination: UnsafeMutablePointer<T.Vector>
    ) {
        let row = { (l: Int) in
            l < rows ? UnsafeRawPointer(first + l * stride).loadUnaligned(as: T.Vector.self) : T.Vector()
        }
        T.transposeTile(row, { destination[$0] = $1 }, scratch: destination)
    }

    /// Random features: one block's dy (the layer's gradient, c * dsin - s * dcos, see
    /// TileFeatures) into features.gradient[i], i < count, from u4 = w[i], before the backward's
    /// transform. Two passes over the whole block, each reading 16 row streams end to end: dcos
    /// transposed into features.gradient, then dsin transposed with the arithmetic, in place.
    /// (1.4.10-1.5.1 ran both passes chunk by chunk inside the transform's fill, each stream
    /// stopping at every chunk: 1.03-1.11x this time at 1024-16384 wide; passes of 64 or 128
    /// columns there 1.04-1.09x 1.5.1's own at 8192; one pass of 32 streams over the whole block
    /// 1.08-1.24x this. AMD EPYC Zen 4, benchmarks/README.md, "Random features".)
    /// `tile`: W vectors.
    @inline(__always)
    static func featureGradient<T: FastfoodFloat>(
        _ features: TileFeatures<T>, rows: Int, count: Int, w: UnsafePointer<T.Vector>, scale: UnsafePointer<T>,
        tile: UnsafeMutablePointer<T.Vector>
    ) {
        typealias V = T.Vector
        let width = V.scalarCount
        let gradient = features.gradient, sines = features.rows + features.sinOffset
        gather(features.rows, ld: features.ld, rows: rows, count: count, total: count, into: gradient)
        var c = 0
        while c + width <= count {
            transposeColumns(sines + c, stride: features.ld, rows: rows, into: tile)
            for j in 0 ..< width {
                gradient[c + j] = features.dz(w[c + j], scale: scale, c + j, dcos: gradient[c + j], dsin: tile[j])
            }
            c += width
        }
        while c < count {
            var dsin = V()
            for l in 0 ..< rows { dsin[l] = sines[l * features.ld + c] }
            gradient[c] = features.dz(w[c], scale: scale, c, dcos: gradient[c], dsin: dsin)
            c += 1
        }
    }
}

extension TileKernels {
    /// dst = H (src[p[i]] * scale[i]) for i < count (as in permutedFirstStages): the permutation,
    /// the diagonal and the first sweep's stages (as many as WalshHadamard.sweepStages takes)
    /// fill each L1 chunk of the transform, which then runs the rest (`drain` as in
    /// transformVectors). `factors`: dropout masks, as in permutedFirstStages; `prepare(range)` runs
    /// before each chunk is filled (to make that chunk's factors while they fit in L1).
    @inline(__always)
    static func permuteAndTransform<T: FastfoodFloat>(
        _ src: UnsafePointer<T.Vector>, permutation p: UnsafePointer<UInt32>, scale: UnsafePointer<T>?,
        count n: Int, into dst: UnsafeMutablePointer<T.Vector>,
        copy: UnsafeMutablePointer<T.Vector>? = nil, factors: MaskFactors<T>? = nil,
        prepare: (Range<Int>) -> Void = { _ in }, drain: (Range<Int>) -> Void = { _ in }
    ) {
        func run<N: VerticalNetwork>(_: N.Type) {
            WalshHadamard.transformVectors(UnsafeMutableRawPointer(dst), count: n, T.self, withinVectors: false,
                                           firstStride: 1 << N.stages, fill: { range in
                prepare(range)
                permutedFirstStages(src, permutation: p, scale: scale, range: range, into: dst, copy: copy,
                                    factors: factors, N.self)
            }, drain: drain)
        }
        let chunk = WalshHadamard.chunkLength(count: n, vectorBytes: MemoryLayout<T.Vector>.stride)
        switch WalshHadamard.sweepStages(chunk.trailingZeroBitCount) {
        case 0: run(WalshHadamard.Radix1.self)
        case 1: run(WalshHadamard.Radix2.self)
        case 2: run(WalshHadamard.Radix4.self)
        case 3: run(WalshHadamard.Radix8.self)
        default: run(WalshHadamard.Radix16.self)
        }
    }
}

extension TileKernels {
    /// Chunk `range` of u = B x_pad for one block (B = `sign`, zero past `inputs`), as a
    /// transform's fill. With one block, x is transposed straight from its rows (with input
    /// dropout, this chunk's factors are made into `inputFactors` and multiplied in as it is), and
    /// with `keepingX` the transposed x~ = a_in x itself is stored in `input` too (for dB); with
    /// several, `input` already holds x~, transposed once for all blocks.
    @inline(__always)
    static func signedInput<T: FastfoodFloat>(
        range: Range<Int>, x: UnsafePointer<T>, ldx: Int, rows: Int, inputs: Int, sign: UnsafePointer<T>,
        singleBlock: Bool, keepingX: Bool, input: UnsafeMutablePointer<T.Vector>, into u: UnsafeMutablePointer<T.Vector>,
        masks: UnitMasks<T>? = nil, inputFactors: UnsafeMutablePointer<T.Vector>? = nil
    ) {
        let first = range.lowerBound, columns = max(0, min(range.count, inputs - first))
        if !singleBlock {
            for i in first ..< first + columns { u[i] = input[i] * sign[i] }
            (u + first + columns).update(repeating: T.Vector(), count: range.count - columns)
            return
        }
        var factors: MaskFactors<T>?
        if let masks, let inputFactors, let inputMasks = masks.factors(.input, in: inputFactors) {
            masks.fill(.input, offset: 0, first ..< first + columns, into: inputFactors)
            factors = inputMasks + first
        }
        if keepingX {
            gather(x + first, ld: ldx, rows: rows, count: columns, total: range.count, into: input + first,
                   scale: sign + first, scaledInto: u + first, factors: factors)
        } else {
            gather(x + first, ld: ldx, rows: rows, count: columns, total: range.count, into: u + first,
                   scale: sign + first, factors: factors)
        }
    }
}

/// Random features out of a forward tile's scatter (scatterFeatures): each row segment of z =
/// S v (+ bias), once transposed, becomes cosSin(z, table) = (cos, sin) * scale, the cosines
/// stored where z would be and the sines `sinOffset` (outFeatures) elements on: the values
/// SineCosine.featuresRow makes of z (cosSin is lane by lane), without z going through memory.
/// Against 1.4.10's row pass over the stored z after the tile: features forward 0.91-0.92x at
/// 1024 and 0.93-0.95x at 4096 on AMD Zen 4. (cosSin on the interleaved vectors, before the
/// transpose, needs a second transpose for the sines: 2.0x the plain forward at 1024 against
/// the row pass's 1.6x, when measured in 1.2; a row pass piece by piece after each scatter, in
/// L1, gained nothing.)
struct FeatureOutputs<T: FastfoodFloat> {
    var table: T.CosSinTable
    var sinOffset: Int
}

/// Random features in a backward tile: the layer's dy is c * dsin - s * dcos with (c, s) =
/// cosSin(z, scale), phi's values, z = S u4 (+ bias) from the backward's own recompute and dphi
/// rows = [dcos | dsin] transposed in: lane for lane the numbers of the forward pass and
/// SineCosine.gradientRow (and so of the backward from the saved phi),
/// without a second forward pass or z going through memory. (The forward does the same with
/// FeatureOutputs.)
struct TileFeatures<T: FastfoodFloat> {
    /// dphi at the block's first column; the sin half is `sinOffset` (outFeatures) columns on.
    var rows: UnsafePointer<T>
    var ld: Int
    var sinOffset: Int
    var bias: UnsafePointer<T>?
    /// cosSin's constants (phi's scale 1 / sqrt(outFeatures)).
    var table: T.CosSinTable
    /// Scratch, one vector per column, indexed like the block: dcos transposed in, then the
    /// layer's dy in its place (TileKernels.featureGradient).
    var gradient: UnsafeMutablePointer<T.Vector>

    /// z = v * S (+ bias) at column i, as the forward's scatter makes y.
    @inline(__always)
    func z(_ v: T.Vector, scale s: UnsafePointer<T>, _ i: Int) -> T.Vector {
        // Broadcasts spelled out: the standard library's vector-scalar operators are lane loops
        // that LLVM does not always rebuild next to the polynomials (same IEEE operations).
        typealias V = T.Vector
        let scaled = v * V(repeating: s[i])
        return bias.map { scaled + V(repeating: $0[i]) } ?? scaled
    }

    /// The layer's dy at column i from u4 = `v` there: c * dsin - s * dcos, (c, s) = cosSin(z, scale).
    @inline(__always)
    func dz(_ v: T.Vector, scale s: UnsafePointer<T>, _ i: Int, dcos: T.Vector, dsin: T.Vector) -> T.Vector {
        let (cosine, sine) = T.cosSin(z(v, scale: s, i), table)
        return SineCosine.gradient(cos: cosine, sin: sine, dcos: dcos, dsin: dsin)
    }
}
