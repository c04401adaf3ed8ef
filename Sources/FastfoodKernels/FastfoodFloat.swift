/// The element types the engine computes in: Float and Double.
///
/// `Vector` is one 512-bit register's worth of elements. Generic kernels are written once against
/// this protocol and specialised for both types inside this module, so the hot loops compile to
/// concrete vector code.
///
/// Lanes are always named explicitly (`Vector(v[1], v[0], ...)`): LLVM turns such patterns into
/// single shuffle instructions, while the generic `evenHalf` / `lowHalf` helpers compile to
/// scalar code.
import FastfoodSIMD
#if FASTFOOD_AVX2 || FASTFOOD_AVX512
import FastfoodShuffles
#endif

protocol FastfoodFloat: BinaryFloatingPoint, SIMDScalar, Codable, Sendable {
    associatedtype Vector: VectorArithmetic where Vector.Scalar == Self

    /// What cosSin needs besides x, made once per call from phi's scale (SineCosine.table):
    /// Float's table of scaled sines, Double's scale itself.
    associatedtype CosSinTable
    static func cosSinTable(scale: Self) -> CosSinTable

    /// (cos x * scale, sin x * scale) lane by lane (see SineCosine.swift).
    static func cosSin(_ x: Vector, _ table: CosSinTable) -> (Vector, Vector)

    /// One UInt32 per lane of Vector: the dropout row keys of a tile (see DropoutMasks.swift).
    associatedtype Keys: KeyVector

    /// Per lane: `scale` where `kept` is all ones, 0 where it is 0 (dropped).
    static func keptFactors(_ kept: Keys, scale: Self) -> Vector

    /// Applies the Walsh-Hadamard stages of strides 1, 2, ..., Vector.scalarCount / 2 (in that
    /// order) to one vector, i.e. multiplies it by H of order Vector.scalarCount in registers.
    /// Each stage is one shuffle (the partners: v with each pair swapped) and one signedSum,
    /// bit for bit what the scalar butterfly computes. (Constant-geometry steps on pairs of
    /// vectors, evens + odds and evens - odds, take one two-source shuffle per stage and vector
    /// too, but also cover the first vector stride, so five shuffles against four here: the
    /// shuffle port is the bound of the first sweep, and FWHT 2^13 went 66 -> 71 GFLOP/s.)
    static func hadamardWithinVector(_ v: Vector) -> Vector

    /// Lane sums of W = Vector.scalarCount vectors: lane j of the result is the sum of the lanes
    /// of load(j). A tree of two-source shuffles and adds: 2W - 2 shuffles for W sums, half of
    /// what a transpose costs, all in registers. Leaf i holds input i with its log2(W) bits
    /// reversed, so every level pairs neighbours.
    static func laneSums(_ load: (Int) -> Vector) -> Vector

    /// Lane by lane: a in lanes lanes.lowerBound ..< lanes.upperBound, b in the others (one blend;
    /// for a transpose's partial first and last blocks, TileKernels.scatter).
    static func blend(_ a: Vector, in lanes: Range<Int>, else b: Vector) -> Vector

    /// Stores v at p, which must be 64-byte aligned, with a non-temporal store in the AVX-512
    /// variant (fastfood_shuffles.h): the line goes to memory without first being read into the
    /// cache, where it would evict something else. For outputs too large to stay in the cache
    /// (TileKernels.scatter). Weakly ordered: fenceStreamingStores() after the last, before the
    /// data is published. A plain store in the others: under FASTFOOD_CPU=avx2 on Zen 4 (two
    /// 32-byte stores per line) the float forwards gained as with AVX-512 but the double random
    /// features lost 2-4% (benchmarks/README.md, "Non-temporal stores"), and no AVX2-only CPU
    /// was at hand to decide on. One per element type: a single 64-byte integer store for both
    /// (v cast to SIMD8<Int64>, vmovntdq) made LLVM keep the double features' values in integer
    /// registers, and that forward took 1.33x the time at 8192.
    static func storeStreaming(_ v: Vector, at p: UnsafeMutableRawPointer)

    /// The steps of transposing the W x W matrix whose row i is load(i) up to the last one, into
    /// `scratch` (W vectors). Written in Swift the steps go through memory, which keeps LLVM from
    /// fusing them into one long shuffle chain per column (what it does with them in registers,
    /// at four times the shuffles); the AVX2 and AVX-512 versions transpose in registers with C
    /// intrinsics (fastfood_shuffles.h) and leave the columns themselves in scratch. Every lane
    /// of a row that is used is loaded before the scratch lanes at the same place are written,
    /// so load may read scratch. load may be called more than once for a row (the AVX2 version
    /// reads each half separately), so it must have no side effects.
    static func transposeSteps(_ load: (Int) -> Vector, scratch: UnsafeMutablePointer<Vector>)

    /// The last step: columns j and j + 1 (j even) of the matrix that transposeSteps put into
    /// `scratch`, made from scratch[j] and scratch[j + 1] only.
    static func transposedColumns(_ scratch: UnsafePointer<Vector>, _ j: Int) -> (Vector, Vector)
}

extension FastfoodFloat {
    /// Transposes the W x W matrix whose row i is load(i): store(j, column j), through `scratch`
    /// (transposeSteps). scratch[j] is read before store(j): load, store and scratch may address
    /// the same vectors.
    @inline(__always)
    static func transposeTile(
        _ load: (Int) -> Vector, _ store: (Int, Vector) -> Void, scratch: UnsafeMutablePointer<Vector>
    ) {
        transposeSteps(load, scratch: scratch)
        for j in stride(from: 0, to: Vector.scalarCount, by: 2) {
            let (a, b) = transposedColumns(scratch, j)
            store(j, a)
            store(j + 1, b)
        }
    }

    /// Transposes the W x W matrix held in W consecutive vectors at `tile` (row i = tile[i]).
    @inline(__always)
    static func transposeTile(_ tile: UnsafeMutablePointer<Vector>) {
        transposeTile({ tile[$0] }, { tile[$0] = $1 }, scratch: tile)
    }
}

extension FastfoodFloat {
    /// A whole row segment of an output: with storeStreaming when asked and p is 64-byte aligned
    /// (rows whose stride is not a multiple of 64 bytes have segments that are not), plainly
    /// otherwise.
    @inline(__always)
    static func store(_ v: Vector, at p: UnsafeMutableRawPointer, streaming: Bool) {
        if streaming && Int(bitPattern: p) & 63 == 0 {
            storeStreaming(v, at: p)
        } else {
            p.storeBytes(of: v, as: Vector.self)
        }
    }

    /// Makes every earlier storeStreaming store ordered before the stores after it (sfence).
    @inline(__always)
    static func fenceStreamingStores() {
        #if FASTFOOD_AVX512
        fastfood_store_fence()
        #endif
    }
}

extension Float: FastfoodFloat {
    typealias Vector = SIMD16<Float>

    @inline(__always)
    static func storeStreaming(_ v: SIMD16<Float>, at p: UnsafeMutableRawPointer) {
        #if FASTFOOD_AVX512
        fastfood_stream16_ps(p.assumingMemoryBound(to: Float.self), v)
        #else
        p.storeBytes(of: v, as: SIMD16<Float>.self)
        #endif
    }

    @inline(__always)
    static func blend(_ a: SIMD16<Float>, in lanes: Range<Int>, else b: SIMD16<Float>) -> SIMD16<Float> {
        var mask = SIMD16<UInt32>()
        for l in lanes { mask[l] = 0x8000_0000 }
        return SIMD16<Float>.blend(b, a, signOf: mask)
    }

    @inline(__always)
    static func hadamardWithinVector(_ v: SIMD16<Float>) -> SIMD16<Float> {
        typealias V = SIMD16<Float>
        var v = v
        v = signedSum(v, V(1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1),
                      V(v[1], v[0], v[3], v[2], v[5], v[4], v[7], v[6], v[9], v[8], v[11], v[10], v[13], v[12], v[15], v[14]))
        v = signedSum(v, V(1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1),
                      V(v[2], v[3], v[0], v[1], v[6], v[7], v[4], v[5], v[10], v[11], v[8], v[9], v[14], v[15], v[12], v[13]))
        v = signedSum(v, V(1, 1, 1, 1, -1, -1, -1, -1, 1, 1, 1, 1, -1, -1, -1, -1),
                      V(v[4], v[5], v[6], v[7], v[0], v[1], v[2], v[3], v[12], v[13], v[14], v[15], v[8], v[9], v[10], v[11]))
        v = signedSum(v, V(1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1),
                      V(v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]))
        return v
    }

    /// With AVX-512 the whole transpose in registers (fastfood_transpose16_ps: 64 shuffles, the
    /// columns stored into scratch), so the last step only reads scratch. The block swap below
    /// took three trips through scratch, 4 stores per row against 1, and on Zen 4 a 64-byte store
    /// takes two cycles: the forward went to 0.82-0.85x at 1024 and 4096 (benchmarks/README.md).
    /// On AVX2, see transposeInBlocks. Elsewhere, a recursive block swap: at step s, rows i and
    /// i+s exchange their off-diagonal s x s blocks, every new row one two-source shuffle.
    @inline(__always)
    static func transposeSteps(_ load: (Int) -> SIMD16<Float>, scratch t: UnsafeMutablePointer<SIMD16<Float>>) {
        #if FASTFOOD_AVX2
        transposeInBlocks(load, scratch: t)
        #elseif FASTFOOD_AVX512
        fastfood_transpose16_ps(UnsafeMutableRawPointer(t).assumingMemoryBound(to: Float.self), 16,
                                load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7),
                                load(8), load(9), load(10), load(11), load(12), load(13), load(14), load(15))
        #else
        typealias V = SIMD16<Float>
        for i in 0 ..< 8 {
            let a = load(i), b = load(i + 8)
            t[i] = V(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7])
            t[i + 8] = V(a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
        }
        for i in (0 ..< 16).lazy.filter({ $0 & 4 == 0 }) {
            let a = t[i], b = t[i + 4]
            t[i] = V(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], a[8], a[9], a[10], a[11], b[8], b[9], b[10], b[11])
            t[i + 4] = V(a[4], a[5], a[6], a[7], b[4], b[5], b[6], b[7], a[12], a[13], a[14], a[15], b[12], b[13], b[14], b[15])
        }
        for i in (0 ..< 16).lazy.filter({ $0 & 2 == 0 }) {
            let a = t[i], b = t[i + 2]
            t[i] = V(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5], a[8], a[9], b[8], b[9], a[12], a[13], b[12], b[13])
            t[i + 2] = V(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7], a[10], a[11], b[10], b[11], a[14], a[15], b[14], b[15])
        }
        #endif
    }

    @inline(__always)
    static func transposedColumns(_ t: UnsafePointer<SIMD16<Float>>, _ j: Int) -> (SIMD16<Float>, SIMD16<Float>) {
        #if FASTFOOD_AVX2 || FASTFOOD_AVX512
        return (t[j], t[j + 1])
        #else
        let a = t[j], b = t[j + 1]
        return (SIMD16(a[0], b[0], a[2], b[2], a[4], b[4], a[6], b[6], a[8], b[8], a[10], b[10], a[12], b[12], a[14], b[14]),
                SIMD16(a[1], b[1], a[3], b[3], a[5], b[5], a[7], b[7], a[9], b[9], a[11], b[11], a[13], b[13], a[15], b[15]))
        #endif
    }

    #if FASTFOOD_AVX2
    /// transposeSteps for AVX2, whose registers hold half a row: there the block swap's shuffles
    /// that cross 256-bit halves take several instructions, and its steps go through scratch
    /// (about 790 instructions a tile, callgrind). Instead the tile is four 8 x 8 blocks, each
    /// transposed in registers (24 shuffles, fastfood_shuffles.h) straight into scratch where
    /// its transpose belongs, so the last step (transposedColumns) only reads scratch. The
    /// diagonal blocks stay in place and the other two trade places, so both are read before
    /// either is written: each half row is read before the scratch lanes at its place are written
    /// (load may read scratch, as the contract allows; a row is loaded twice, and only the half
    /// not yet written is used).
    @inline(__always)
    static func transposeInBlocks(_ load: (Int) -> SIMD16<Float>, scratch t: UnsafeMutablePointer<SIMD16<Float>>) {
        typealias H = SIMD8<Float>
        @inline(__always) func half(_ v: SIMD16<Float>, _ h: Int) -> H {
            h == 0 ? H(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])
                : H(v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15])
        }
        /// Rows 8 rb ..< 8 rb + 8, columns 8 cb ..< 8 cb + 8.
        @inline(__always) func block(_ rb: Int, _ cb: Int) -> (H, H, H, H, H, H, H, H) {
            (half(load(8 * rb), cb), half(load(8 * rb + 1), cb), half(load(8 * rb + 2), cb), half(load(8 * rb + 3), cb),
             half(load(8 * rb + 4), cb), half(load(8 * rb + 5), cb), half(load(8 * rb + 6), cb), half(load(8 * rb + 7), cb))
        }
        let lanes = UnsafeMutableRawPointer(t).assumingMemoryBound(to: Float.self)
        /// Its transpose: scratch vectors 8 cb ..< 8 cb + 8, lanes 8 rb ..< 8 rb + 8.
        @inline(__always) func put(_ b: (H, H, H, H, H, H, H, H), _ rb: Int, _ cb: Int) {
            fastfood_transpose8_ps(lanes + 128 * cb + 8 * rb, 16, b.0, b.1, b.2, b.3, b.4, b.5, b.6, b.7)
        }
        put(block(0, 0), 0, 0)
        put(block(1, 1), 1, 1)
        let upper = block(0, 1), lower = block(1, 0)
        put(upper, 0, 1)
        put(lower, 1, 0)
    }
    #endif

    @inline(__always)
    static func laneSums(
        _ load: (Int) -> SIMD16<Float>
    ) -> SIMD16<Float> {
        typealias V = SIMD16<Float>
        @inline(__always) func pairSum(_ a: V, _ b: V) -> V {
            V(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7])
                + V(a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
        }
        @inline(__always) func quadSum(_ a: V, _ b: V) -> V {
            V(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], a[8], a[9], a[10], a[11], b[8], b[9], b[10], b[11])
                + V(a[4], a[5], a[6], a[7], b[4], b[5], b[6], b[7], a[12], a[13], a[14], a[15], b[12], b[13], b[14], b[15])
        }
        @inline(__always) func octSum(_ a: V, _ b: V) -> V {
            V(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5], a[8], a[9], b[8], b[9], a[12], a[13], b[12], b[13])
                + V(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7], a[10], a[11], b[10], b[11], a[14], a[15], b[14], b[15])
        }
        let u0 = quadSum(pairSum(load(0), load(8)), pairSum(load(4), load(12)))
        let u1 = quadSum(pairSum(load(2), load(10)), pairSum(load(6), load(14)))
        let u2 = quadSum(pairSum(load(1), load(9)), pairSum(load(5), load(13)))
        let u3 = quadSum(pairSum(load(3), load(11)), pairSum(load(7), load(15)))
        let a = octSum(u0, u1), b = octSum(u2, u3)
        return V(a[0], b[0], a[2], b[2], a[4], b[4], a[6], b[6], a[8], b[8], a[10], b[10], a[12], b[12], a[14], b[14])
            + V(a[1], b[1], a[3], b[3], a[5], b[5], a[7], b[7], a[9], b[9], a[11], b[11], a[13], b[13], a[15], b[15])
    }
}

extension Double: FastfoodFloat {
    typealias Vector = SIMD8<Double>

    @inline(__always)
    static func storeStreaming(_ v: SIMD8<Double>, at p: UnsafeMutableRawPointer) {
        #if FASTFOOD_AVX512
        fastfood_stream8_pd(p.assumingMemoryBound(to: Double.self), v)
        #else
        p.storeBytes(of: v, as: SIMD8<Double>.self)
        #endif
    }

    @inline(__always)
    static func blend(_ a: SIMD8<Double>, in lanes: Range<Int>, else b: SIMD8<Double>) -> SIMD8<Double> {
        var mask = SIMD8<UInt64>()
        for l in lanes { mask[l] = 1 << 63 }
        return SIMD8<Double>.blend(b, a, signOf: mask)
    }

    @inline(__always)
    static func hadamardWithinVector(_ v: SIMD8<Double>) -> SIMD8<Double> {
        typealias V = SIMD8<Double>
        var v = v
        v = signedSum(v, V(1, -1, 1, -1, 1, -1, 1, -1),
                      V(v[1], v[0], v[3], v[2], v[5], v[4], v[7], v[6]))
        v = signedSum(v, V(1, 1, -1, -1, 1, 1, -1, -1),
                      V(v[2], v[3], v[0], v[1], v[6], v[7], v[4], v[5]))
        v = signedSum(v, V(1, 1, 1, 1, -1, -1, -1, -1),
                      V(v[4], v[5], v[6], v[7], v[0], v[1], v[2], v[3]))
        return v
    }

    /// With AVX-512 in registers (fastfood_transpose8_pd: 24 shuffles, the columns stored into
    /// scratch), as for Float; elsewhere a block swap through scratch.
    @inline(__always)
    static func transposeSteps(_ load: (Int) -> SIMD8<Double>, scratch t: UnsafeMutablePointer<SIMD8<Double>>) {
        #if FASTFOOD_AVX512
        fastfood_transpose8_pd(UnsafeMutableRawPointer(t).assumingMemoryBound(to: Double.self), 8,
                               load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7))
        #else
        typealias V = SIMD8<Double>
        for i in 0 ..< 4 {
            let a = load(i), b = load(i + 4)
            t[i] = V(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3])
            t[i + 4] = V(a[4], a[5], a[6], a[7], b[4], b[5], b[6], b[7])
        }
        for i in (0 ..< 8).lazy.filter({ $0 & 2 == 0 }) {
            let a = t[i], b = t[i + 2]
            t[i] = V(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5])
            t[i + 2] = V(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7])
        }
        #endif
    }

    @inline(__always)
    static func transposedColumns(_ t: UnsafePointer<SIMD8<Double>>, _ j: Int) -> (SIMD8<Double>, SIMD8<Double>) {
        #if FASTFOOD_AVX512
        return (t[j], t[j + 1])
        #else
        let a = t[j], b = t[j + 1]
        return (SIMD8(a[0], b[0], a[2], b[2], a[4], b[4], a[6], b[6]), SIMD8(a[1], b[1], a[3], b[3], a[5], b[5], a[7], b[7]))
        #endif
    }

    @inline(__always)
    static func laneSums(
        _ load: (Int) -> SIMD8<Double>
    ) -> SIMD8<Double> {
        typealias V = SIMD8<Double>
        @inline(__always) func pairSum(_ a: V, _ b: V) -> V {
            V(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]) + V(a[4], a[5], a[6], a[7], b[4], b[5], b[6], b[7])
        }
        @inline(__always) func quadSum(_ a: V, _ b: V) -> V {
            V(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5]) + V(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7])
        }
        let a = quadSum(pairSum(load(0), load(4)), pairSum(load(2), load(6)))
        let b = quadSum(pairSum(load(1), load(5)), pairSum(load(3), load(7)))
        return V(a[0], b[0], a[2], b[2], a[4], b[4], a[6], b[6]) + V(a[1], b[1], a[3], b[3], a[5], b[5], a[7], b[7])
    }
}

extension FastfoodFloat {
    /// partner + v * sign for sign = +-1: one within-vector butterfly stage, where partner is v
    /// with the pairs swapped and sign is -1 on each pair's upper element. The product is exact,
    /// so the fused form rounds once, like the plain sum: the lower element gets hi + lo and the
    /// upper one lo - hi, bit for bit what the scalar butterfly computes. Where the CPU has FMA
    /// that is one instruction instead of two.
    @inline(__always)
    static func signedSum(_ v: Vector, _ sign: Vector, _ partner: Vector) -> Vector {
        #if FASTFOOD_AVX2 || FASTFOOD_AVX512
        return Vector.fusedMultiplyAdd(v, sign, partner)
        #else
        return partner + v * sign
        #endif
    }
}
