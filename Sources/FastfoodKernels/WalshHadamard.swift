/// The fast Walsh-Hadamard transform: in place, unnormalised, natural (Sylvester) order.
///
/// Everything is built on "vertical" stages over arrays of vectors: a butterfly on two whole
/// vectors (a + b, a - b). Two users:
///   - a row transform of n contiguous scalars: the stages of stride below the vector width run
///     inside each vector (`hadamardWithinVector`) as the first sweep loads it, and that sweep
///     goes on with the first vector strides; the rest are vertical stages over the n / width
///     vectors;
///   - the layer's interleaved tiles, where lane l of every vector belongs to row l, so every
///     stage is vertical.
/// Vertical stages run up to four at a time (radix 16: sixteen vectors in registers, one sweep
/// over memory per four stages; fewer where the registers are narrower, see maxSweepStages):
/// first in chunks of at most `cacheBlockBytes`, so they stay in L1, then the outer stages in
/// groups that make one trip through L2 each (outerStages). The sweeps are in
/// WalshHadamardSweeps.swift.
///
/// Every path applies the stages in increasing stride order with the same butterfly, so all of
/// them produce bit-identical results.
import FastfoodSIMD

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
    /// 32 long, or all of count. `zeroFrom`: the caller promises that vectors
    /// zeroFrom ..< count are +0 (a layer's zero padding). `fill` is not called for the chunks
    /// wholly in that tail: they are neither written nor transformed (a stage maps +0 and +0 to
    /// +0 and +0) but read as +0 by the outer stages, which write them. The same bits, less work
    /// (9216 inputs padded to D = 16384).
    @inline(__always)
    static func transformVectors<T: FastfoodFloat>(
        _ p: UnsafeMutableRawPointer, count: Int, _: T.Type, withinVectors: Bool, firstStride: Int = 1,
        zeroFrom: Int = .max, fill: (Range<Int>) -> Void = { _ in }, drain: (Range<Int>) -> Void = { _ in }
    ) {
        let vectorBytes = MemoryLayout<T.Vector>.stride
        let chunk = chunkLength(count: count, vectorBytes: vectorBytes)
        let zeroFrom = max(1, zeroFrom) // the first chunk always runs: the last trip starts there
        var base = 0
        while base < count {
            if base < zeroFrom {
                fill(base ..< base + chunk)
                stages(p + base * vectorBytes, count: chunk, firstStride: firstStride, T.self, withinVectors: withinVectors)
            }
            base += chunk
        }
        if chunk < count {
            outerStages(p, count: count, firstStride: chunk, T.self, zeroFrom: zeroFrom, drain: drain)
        } else {
            drain(0 ..< count)
        }
    }

    /// Vectors per L1 chunk: cacheBlockBytes or half of it, whichever costs fewer trips through
    /// L2 for the outer stages (see outerStageGroup), then fewer sweeps in L1. For example, at
    /// 2048 vectors 256-vector chunks (two sweeps in L1, one radix-8 trip) beat 512-vector ones
    /// (three sweeps, one radix-4 trip); at 4096 vectors 512-vector chunks (one radix-8 trip)
    /// beat 256-vector ones (two radix-4 trips).
    @inline(__always)
    static func chunkLength(count: Int, vectorBytes: Int) -> Int {
        let limit = max(8, cacheBlockBytes / vectorBytes)
        guard count > limit else { return count }
        func cost(_ chunk: Int) -> Int {
            var inner = chunk.trailingZeroBitCount, outer = (count / chunk).trailingZeroBitCount
            var sweeps = 0, trips = 0
            while inner > 0 {
                inner -= sweepStages(inner)
                sweeps += 1
            }
            while outer > 0 {
                outer -= outerStageGroup(outer)
                trips += 1
            }
            return 4 * trips + sweeps
        }
        return cost(limit / 2) < cost(limit) ? limit / 2 : limit
    }

    /// How many of the `remaining` outer stages the next trip through L2 applies: at most three,
    /// i.e. one radix-8 sweep over 8 segments, spread evenly over the fewest trips (4 = 2 + 2,
    /// 5 = 3 + 2). Segments are a multiple of 4 KiB apart, so their vectors in one column share
    /// an L1 set, which has 12 ways: one radix-16 sweep over 16 segments evicts lines before it
    /// stores them (FWHT 2^16 fell from 57 to 45 GFLOP/s).
    @inline(__always)
    static func outerStageGroup(_ remaining: Int) -> Int {
        let trips = (remaining + 2) / 3
        return (remaining + trips - 1) / trips
    }

    /// The most vertical stages one sweep applies: 2^stages vectors must fit in the registers
    /// with room to spare. AVX-512 has 32 vector registers (radix 16); with AVX2 a 512-bit
    /// vector takes two of 16 registers (radix 8), with SSE four (radix 4). Measured (fwd+bwd,
    /// 128 x 1024 and 128 x 4096, ms): baseline 0.72 / 3.31 at radix 4, 0.78 / 3.64 at radix 8;
    /// AVX2 2.12 at radix 4, 1.98 at radix 8, 2.06 at radix 16 (at 4096); AVX-512 0.370 at
    /// radix 8, 0.347 at radix 16 (at 1024), FWHT 2^14 56 and 61 GFLOP/s.
    #if FASTFOOD_AVX512
    static let maxSweepStages = 4
    #elseif FASTFOOD_AVX2
    static let maxSweepStages = 3
    #else
    static let maxSweepStages = 2
    #endif

    /// How many of the `remaining` vertical stages the next sweep applies: as many as
    /// maxSweepStages allows, never leaving a single stage for a sweep of its own when it can
    /// be avoided (5 = 3 + 2 rather than 4 + 1).
    @inline(__always)
    static func sweepStages(_ remaining: Int) -> Int {
        let most = maxSweepStages
        if remaining <= most { return remaining }
        if remaining % most == 1 { return most - 1 }
        return most
    }

    /// The stages of stride firstStride ... count / 2 when one segment of firstStride vectors no
    /// longer fits in L1. A stage of stride h combines only vectors in the same column (offset
    /// within a segment of h vectors). So a group of up to three stages (outerStageGroup) runs
    /// on the 2 to 8 segments it combines a block of columns at a time, small enough to stay
    /// in L1 across the group's sweeps (one with AVX-512): one trip through L2 per group.
    /// The last trip hands each block to `drain` as soon as its columns are final. Segments
    /// that start at or past `zeroFrom` hold +0 that is not in memory (see transformVectors): a
    /// group of only such segments is skipped, and a group with some reads them as +0 and
    /// writes them.
    @inline(__always)
    static func outerStages<T: FastfoodFloat>(
        _ p: UnsafeMutableRawPointer, count: Int, firstStride: Int, _: T.Type, zeroFrom: Int,
        drain: (Range<Int>) -> Void
    ) {
        let vectorBytes = MemoryLayout<T.Vector>.stride
        var stride = firstStride
        var zero = zeroFrom // segments that start here or later are +0, not in memory
        while stride < count {
            let stages = outerStageGroup((count / stride).trailingZeroBitCount)
            let span = stride << stages
            let columns = max(1, min(stride, cacheBlockBytes / (vectorBytes << stages)))
            zero = zero >= count ? count : (zero + stride - 1) / stride * stride
            var base = 0
            while base < count {
                if base >= zero {
                    base += span
                    continue
                }
                let live = min(1 << stages, (zero - base) / stride)
                let q = p + base * vectorBytes
                var first = 0
                while first < stride {
                    let block = first ..< first + columns
                    var h = stride, left = stages
                    while left > 0 {
                        let n = sweepStages(left)
                        // Only the group's first sweep can meet segments that are not in memory.
                        sweep(q, count: span, stride: h, stages: n, T.self, columns: block, segment: stride,
                              live: left == stages ? live : .max)
                        h <<= n
                        left -= n
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

    /// The stages of stride firstStride, 2 firstStride, ..., count / 2 (in vectors), after the
    /// in-register ones when `withinVectors`, which the first sweep applies to each vector as
    /// it loads it.
    @inline(__always)
    static func stages<T: FastfoodFloat>(
        _ p: UnsafeMutableRawPointer, count: Int, firstStride: Int, _: T.Type, withinVectors: Bool
    ) {
        var stride = firstStride
        var remaining = (count / stride).trailingZeroBitCount
        if withinVectors {
            let n = sweepStages(remaining)
            switch n {
            case 0: withinVectorsSweep(p, count: count, T.self, Radix1.self)
            case 1: withinVectorsSweep(p, count: count, T.self, Radix2.self)
            case 2: withinVectorsSweep(p, count: count, T.self, Radix4.self)
            case 3: withinVectorsSweep(p, count: count, T.self, Radix8.self)
            default: withinVectorsSweep(p, count: count, T.self, Radix16.self)
            }
            stride <<= n
            remaining -= n
        }
        while remaining > 0 {
            let n = sweepStages(remaining)
            sweep(p, count: count, stride: stride, stages: n, T.self, columns: 0 ..< stride, segment: stride)
            stride <<= n
            remaining -= n
        }
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
