/// The fast Walsh-Hadamard transform: in place, unnormalised, natural (Sylvester) order.
///
/// Everything is built on "vertical" stages over arrays of vectors: a butterfly on two whole
/// vectors (a + b, a - b). Two users:
///   - a row transform of n contiguous scalars: the stages of stride below the vector width run
///     inside registers on pairs of vectors (`hadamardPair`), fused with the first vector strides
///     into the first sweep; the rest are vertical stages over the n / width vectors;
///   - the layer's interleaved tiles, where lane l of every vector belongs to row l, so every
///     stage is vertical.
/// Vertical stages run two at a time (radix 4: four vectors in registers, one sweep over memory
/// per two stages): first in chunks of at most `cacheBlockBytes`, so they stay in L1, then the
/// outer stages in groups that make one trip through L2 each (outerStages).
///
/// Every path applies the stages in increasing stride order with the same butterfly, so all of
/// them produce bit-identical results.
enum WalshHadamard {
    static let cacheBlockBytes = 32 * 1024

    /// Row transform of the n = 2^log2Length contiguous scalars at `data` (any alignment).
    @inline(__always)
    static func transform<T: FastfoodFloat>(_ data: UnsafeMutablePointer<T>, log2Length: Int) {
        let n = 1 << log2Length
        let width = T.Vector.scalarCount
        if n < width {
            transformScalar(data, length: n)
        } else {
            transformVectors(UnsafeMutableRawPointer(data), count: n / width, T.self, withinVectors: true)
        }
    }

    /// Transforms `count` (a power of two) vectors at `p` as one sequence of vectors: each lane
    /// is an independent transform of length `count`. With `withinVectors`, the in-register
    /// stages are applied first, which makes it a row transform of count * width scalars.
    /// `firstStride` > 1 skips stages a caller has already applied (see permutedFirstStages).
    /// `fill`, when given, produces the vectors of each L1 chunk (a range of vector indices)
    /// just before the chunk's stages run, so they are transformed while still in L1 instead
    /// of being written out to L2 by one sweep and read back by the next. `drain`, likewise,
    /// reads finished vectors while they are in L1: it is called once for each range of a
    /// partition of 0 ..< count, each range starting at a multiple of 32 vectors and a multiple of
    /// 32 long, or all of count.
    @inline(__always)
    static func transformVectors<T: FastfoodFloat>(
        _ p: UnsafeMutableRawPointer, count: Int, _: T.Type, withinVectors: Bool, firstStride: Int = 1,
        fill: (Range<Int>) -> Void = { _ in }, drain: (Range<Int>) -> Void = { _ in }
    ) {
        let vectorBytes = MemoryLayout<T.Vector>.stride
        let chunk = chunkLength(count: count, vectorBytes: vectorBytes)
        var base = 0
        while base < count {
            fill(base ..< base + chunk)
            stages(p + base * vectorBytes, count: chunk, firstStride: firstStride, T.self, withinVectors: withinVectors)
            base += chunk
        }
        if chunk < count {
            outerStages(p, count: count, firstStride: chunk, T.self, drain: drain)
        } else {
            drain(0 ..< count)
        }
    }

    /// Vectors per L1 chunk: cacheBlockBytes or half of it, whichever costs fewer trips through
    /// L2 for the outer stages (see outerStageGroup), then fewer radix-2 passes. At 1024 and 4096
    /// vectors, 512-vector chunks would cost two radix-2 passes (one in L1, one in the outer
    /// trip) for no trip less.
    @inline(__always)
    static func chunkLength(count: Int, vectorBytes: Int) -> Int {
        let limit = max(8, cacheBlockBytes / vectorBytes)
        guard count > limit else { return count }
        func cost(_ chunk: Int) -> Int {
            var outer = (count / chunk).trailingZeroBitCount, trips = 0, radix2 = chunk.trailingZeroBitCount % 2
            while outer > 0 {
                let stages = outerStageGroup(outer)
                trips += 1
                radix2 += stages % 2
                outer -= stages
            }
            return 4 * trips + radix2
        }
        return cost(limit / 2) < cost(limit) ? limit / 2 : limit
    }

    /// How many of the `remaining` outer stages the next trip through L2 applies: at most four,
    /// i.e. at most 16 segments at a time, spread evenly over the fewest trips (5 = 3 + 2,
    /// 6 = 3 + 3). Segments are a multiple of 4 KiB apart, so their vectors in one column share
    /// an L1 set: 16 of them (of 12 ways) still ran well at D = 4096, but all six outer stages
    /// of D = 16384 in one trip (64 segments) took 14% longer for a whole layer.
    @inline(__always)
    static func outerStageGroup(_ remaining: Int) -> Int {
        let trips = (remaining + 3) / 4
        return (remaining + trips - 1) / trips
    }

    /// The stages of stride firstStride ... count / 2 when one segment of firstStride vectors no
    /// longer fits in L1. A stage of stride h combines only vectors in the same column (offset
    /// within a segment of h vectors). So a group of up to four stages (outerStageGroup) runs
    /// on the 2 to 16 segments it combines a block of columns at a time, small enough to stay
    /// in L1 across the group's passes: one trip through L2 per group instead of one per pass.
    /// The last trip hands each block to `drain` as soon as its columns are final.
    @inline(__always)
    static func outerStages<T: FastfoodFloat>(
        _ p: UnsafeMutableRawPointer, count: Int, firstStride: Int, _: T.Type, drain: (Range<Int>) -> Void
    ) {
        let vectorBytes = MemoryLayout<T.Vector>.stride
        var stride = firstStride
        while stride < count {
            let stages = outerStageGroup((count / stride).trailingZeroBitCount)
            let span = stride << stages
            let columns = max(1, min(stride, cacheBlockBytes / (vectorBytes << stages)))
            var base = 0
            while base < count {
                let q = p + base * vectorBytes
                var first = 0
                while first < stride {
                    let block = first ..< first + columns
                    if stages >= 2 {
                        radix4(q, count: span, stride: stride, T.self, columns: block, segment: stride)
                    }
                    if stages == 4 {
                        radix4(q, count: span, stride: 4 * stride, T.self, columns: block, segment: stride)
                    } else if stages % 2 == 1 {
                        let last = stride << (stages - 1)
                        radix2(q, count: span, stride: last, T.self, columns: block, segment: stride)
                    }
                    if span == count {
                        // The last trip: these columns are final in every segment.
                        for segment in 0 ..< 1 << stages {
                            let start = base + segment * stride + first
                            drain(start ..< start + columns)
                        }
                    }
                    first += columns
                }
                base += span
            }
            stride = span
        }
    }

    /// The stages of stride firstStride, 2 firstStride, ..., count / 2 (in vectors).
    @inline(__always)
    static func stages<T: FastfoodFloat>(
        _ p: UnsafeMutableRawPointer, count: Int, firstStride: Int, _: T.Type, withinVectors: Bool
    ) {
        var stride = firstStride
        var within = withinVectors
        if within && count < 4 {
            let vectorBytes = MemoryLayout<T.Vector>.stride
            if count == 1 {
                p.storeBytes(of: T.hadamardWithinVector(p.loadUnaligned(as: T.Vector.self)), as: T.Vector.self)
            } else {
                var a = p.loadUnaligned(as: T.Vector.self), b = (p + vectorBytes).loadUnaligned(as: T.Vector.self)
                T.hadamardPair(&a, &b)
                p.storeBytes(of: a, as: T.Vector.self)
                (p + vectorBytes).storeBytes(of: b, as: T.Vector.self)
                stride = 2
            }
            within = false
        }
        if within, count >= 4 {
            // The first sweep takes as many vector strides as leaves an even number for radix 4.
            let vectorStages = count.trailingZeroBitCount
            if count >= 16 && vectorStages % 2 == 0 {
                radix16WithinVectors(p, count: count, T.self)
                stride = 16
            } else if count >= 8 && vectorStages % 2 == 1 {
                radix8WithinVectors(p, count: count, T.self)
                stride = 8
            } else {
                radix4WithinVectors(p, count: count, T.self)
                stride = 4
            }
        }
        while stride * 4 <= count {
            radix4(p, count: count, stride: stride, T.self)
            stride *= 4
        }
        if stride * 2 <= count {
            radix2(p, count: count, stride: stride, T.self)
        }
    }

    /// The in-register stages and vector stride 1 of each pair of vectors (hadamardPair), then
    /// vector stride 2, four vectors at a time.
    @inline(never)
    static func radix4WithinVectors<T: FastfoodFloat>(_ p: UnsafeMutableRawPointer, count: Int, _: T.Type) {
        typealias V = T.Vector
        let vectorBytes = MemoryLayout<V>.stride
        var q = p
        let end = p + count * vectorBytes
        while q < end {
            var a0 = q.loadUnaligned(as: V.self), a1 = (q + vectorBytes).loadUnaligned(as: V.self)
            var a2 = (q + 2 * vectorBytes).loadUnaligned(as: V.self), a3 = (q + 3 * vectorBytes).loadUnaligned(as: V.self)
            T.hadamardPair(&a0, &a1)
            T.hadamardPair(&a2, &a3)
            q.storeBytes(of: a0 + a2, as: V.self)
            (q + vectorBytes).storeBytes(of: a1 + a3, as: V.self)
            (q + 2 * vectorBytes).storeBytes(of: a0 - a2, as: V.self)
            (q + 3 * vectorBytes).storeBytes(of: a1 - a3, as: V.self)
            q += 4 * vectorBytes
        }
    }

    /// Eight vectors held in registers.
    typealias Octet<V> = (V, V, V, V, V, V, V, V)

    /// The eight vectors at p, p + 1, ... (in vectors), and back.
    @inline(__always)
    static func loadOctet<V: SIMD>(_ p: UnsafeMutableRawPointer) -> Octet<V> {
        let b = MemoryLayout<V>.stride
        return (p.loadUnaligned(as: V.self), (p + b).loadUnaligned(as: V.self),
                (p + 2 * b).loadUnaligned(as: V.self), (p + 3 * b).loadUnaligned(as: V.self),
                (p + 4 * b).loadUnaligned(as: V.self), (p + 5 * b).loadUnaligned(as: V.self),
                (p + 6 * b).loadUnaligned(as: V.self), (p + 7 * b).loadUnaligned(as: V.self))
    }

    @inline(__always)
    static func storeOctet<V: SIMD>(_ a: Octet<V>, _ p: UnsafeMutableRawPointer) {
        let b = MemoryLayout<V>.stride
        p.storeBytes(of: a.0, as: V.self)
        (p + b).storeBytes(of: a.1, as: V.self)
        (p + 2 * b).storeBytes(of: a.2, as: V.self)
        (p + 3 * b).storeBytes(of: a.3, as: V.self)
        (p + 4 * b).storeBytes(of: a.4, as: V.self)
        (p + 5 * b).storeBytes(of: a.5, as: V.self)
        (p + 6 * b).storeBytes(of: a.6, as: V.self)
        (p + 7 * b).storeBytes(of: a.7, as: V.self)
    }

    /// The in-register stages and vector strides 1, 2 and 4 of eight consecutive vectors.
    @inline(__always)
    static func hadamardOctet<T: FastfoodFloat>(_ a: inout Octet<T.Vector>, _: T.Type) {
        T.hadamardPair(&a.0, &a.1)
        T.hadamardPair(&a.2, &a.3)
        T.hadamardPair(&a.4, &a.5)
        T.hadamardPair(&a.6, &a.7)
        butterfly(&a.0, &a.2); butterfly(&a.1, &a.3); butterfly(&a.4, &a.6); butterfly(&a.5, &a.7)
        butterfly(&a.0, &a.4); butterfly(&a.1, &a.5); butterfly(&a.2, &a.6); butterfly(&a.3, &a.7)
    }

    /// As radix4WithinVectors, eight vectors at a time: vector strides 2 and 4 in registers too.
    @inline(never)
    static func radix8WithinVectors<T: FastfoodFloat>(_ p: UnsafeMutableRawPointer, count: Int, _: T.Type) {
        let octetBytes = 8 * MemoryLayout<T.Vector>.stride
        var q = p
        while q < p + count * MemoryLayout<T.Vector>.stride {
            var a: Octet<T.Vector> = loadOctet(q)
            hadamardOctet(&a, T.self)
            storeOctet(a, q)
            q += octetBytes
        }
    }

    /// As radix4WithinVectors, sixteen vectors at a time: vector strides 2, 4 and 8 in
    /// registers too.
    @inline(never)
    static func radix16WithinVectors<T: FastfoodFloat>(_ p: UnsafeMutableRawPointer, count: Int, _: T.Type) {
        let octetBytes = 8 * MemoryLayout<T.Vector>.stride
        var q = p
        while q < p + count * MemoryLayout<T.Vector>.stride {
            var a: Octet<T.Vector> = loadOctet(q), b: Octet<T.Vector> = loadOctet(q + octetBytes)
            hadamardOctet(&a, T.self)
            hadamardOctet(&b, T.self)
            butterfly(&a.0, &b.0); butterfly(&a.1, &b.1); butterfly(&a.2, &b.2); butterfly(&a.3, &b.3)
            butterfly(&a.4, &b.4); butterfly(&a.5, &b.5); butterfly(&a.6, &b.6); butterfly(&a.7, &b.7)
            storeOctet(a, q)
            storeOctet(b, q + octetBytes)
            q += 2 * octetBytes
        }
    }

    /// (x, y) = (x + y, x - y).
    @inline(__always)
    static func butterfly<V: SIMD>(_ x: inout V, _ y: inout V) where V.Scalar: FloatingPoint {
        let sum = x + y
        y = x - y
        x = sum
    }

    /// Stages h and 2h on groups of four vectors h apart, in registers. (Radix-16 passes were
    /// measured slower, in L1 and from L2: LLVM splits part of a purely vertical 16-point
    /// add/sub network into 128-bit pieces. The first sweep escapes that: its constant-geometry
    /// shuffles break the chain.)
    @inline(__always)
    static func radix4<T: FastfoodFloat>(_ p: UnsafeMutableRawPointer, count: Int, stride h: Int, _: T.Type) {
        radix4(p, count: count, stride: h, T.self, columns: 0 ..< h, segment: h)
    }

    /// Stage h.
    @inline(__always)
    static func radix2<T: FastfoodFloat>(_ p: UnsafeMutableRawPointer, count: Int, stride h: Int, _: T.Type) {
        radix2(p, count: count, stride: h, T.self, columns: 0 ..< h, segment: h)
    }

    /// Textbook radix-2 loops for lengths below one vector.
    @inline(__always)
    static func transformScalar<T: FastfoodFloat>(_ data: UnsafeMutablePointer<T>, length n: Int) {
        var half = 1
        while half < n {
            var start = 0
            while start < n {
                for i in start ..< start + half {
                    let a = data[i], b = data[i + half]
                    data[i] = a + b
                    data[i + half] = a - b
                }
                start += 2 * half
            }
            half *= 2
        }
    }
}

extension WalshHadamard {
    /// Stages h and 2h on the vectors whose offset within their segment (of `segment`
    /// vectors, h >= segment) lies in `columns` (all of them: columns 0 ..< h, segment h).
    @inline(never)
    static func radix4<T: FastfoodFloat>(
        _ p: UnsafeMutableRawPointer, count: Int, stride h: Int, _: T.Type, columns: Range<Int>, segment: Int
    ) {
        typealias V = T.Vector
        let vectorBytes = MemoryLayout<V>.stride
        let hb = h * vectorBytes
        var group = 0
        while group < count {
            var start = group
            while start < group + h {
                var q = p + (start + columns.lowerBound) * vectorBytes
                let end = q + columns.count * vectorBytes
                while q < end {
                    let a0 = q.loadUnaligned(as: V.self)
                    let a1 = (q + hb).loadUnaligned(as: V.self)
                    let a2 = (q + 2 * hb).loadUnaligned(as: V.self)
                    let a3 = (q + 3 * hb).loadUnaligned(as: V.self)
                    let b0 = a0 + a1, b1 = a0 - a1, b2 = a2 + a3, b3 = a2 - a3
                    q.storeBytes(of: b0 + b2, as: V.self)
                    (q + hb).storeBytes(of: b1 + b3, as: V.self)
                    (q + 2 * hb).storeBytes(of: b0 - b2, as: V.self)
                    (q + 3 * hb).storeBytes(of: b1 - b3, as: V.self)
                    q += vectorBytes
                }
                start += segment
            }
            group += 4 * h
        }
    }

    /// Stage h on a block of columns, as radix4 above.
    @inline(never)
    static func radix2<T: FastfoodFloat>(
        _ p: UnsafeMutableRawPointer, count: Int, stride h: Int, _: T.Type, columns: Range<Int>, segment: Int
    ) {
        typealias V = T.Vector
        let vectorBytes = MemoryLayout<V>.stride
        let hb = h * vectorBytes
        var group = 0
        while group < count {
            var start = group
            while start < group + h {
                var q = p + (start + columns.lowerBound) * vectorBytes
                let end = q + columns.count * vectorBytes
                while q < end {
                    let a0 = q.loadUnaligned(as: V.self)
                    let a1 = (q + hb).loadUnaligned(as: V.self)
                    q.storeBytes(of: a0 + a1, as: V.self)
                    (q + hb).storeBytes(of: a0 - a1, as: V.self)
                    q += vectorBytes
                }
                start += segment
            }
            group += 2 * h
        }
    }
}
