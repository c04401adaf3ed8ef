import FastfoodCore
import FastfoodSIMD

/// Dropout masks as the kernels apply them (the function is documented at Dropout): a factor per
/// (row, site, index), `1 / (1 - rate)` where kept and 0 where dropped, multiplied into the value
/// at the site. A tile (lane = row) makes a vector of factors per index: the per-row keys are one
/// UInt32 vector, and one hash of that vector serves two indices (the two 16-bit halves), so a
/// mask costs a few integer vector operations per 16 rows. The row path (fillRow) hashes a
/// vector of index pairs of one row at a time instead: both paths multiply by bit-identical
/// numbers in the same order.
struct SiteMask<T: FastfoodFloat> {
    let site: Dropout.Site
    let threshold: UInt32
    /// 1 / (1 - rate), rounded once.
    let scale: T

    /// nil for a rate of 0: the site is not touched at all (bit for bit the plain call).
    init?(_ dropout: Dropout, _ site: Dropout.Site) {
        let rate = dropout.rate(site)
        guard rate > 0 else { return nil }
        self.site = site
        threshold = Dropout.threshold(rate: rate)
        scale = T(1 / (1 - rate))
    }

    /// body(i, the draws of index first + i) for i < count, in order, for the rows whose keys
    /// are `keys` (UnitMasks.mixedKeys). One hash per pair of indices: an odd first index
    /// (the high half of its pair), the whole pairs in a loop without branches, and an even last
    /// one (the low half); the position constant (Dropout.positionConstant) follows the pairs by a
    /// wrapping add.
    @inline(__always)
    func forEachDraw(first: Int, count: Int, keys: T.Keys, _ body: (Int, T.Keys) -> Void) {
        guard count > 0 else { return }
        let siteTerm = Dropout.siteTerm(site)
        var pairTerm = Dropout.pairTerm(first >> 1)
        @inline(__always) func nextHash() -> T.Keys {
            let h = hashMixed(keys ^ T.Keys(repeating: Self.mixed(pairTerm ^ siteTerm)))
            pairTerm = pairTerm &+ Dropout.pairStep
            return h
        }
        var i = 0
        if first & 1 == 1 {
            body(0, high(nextHash()))
            i = 1
        }
        while i &+ 1 < count {
            let h = nextHash()
            body(i, low(h))
            body(i &+ 1, high(h))
            i = i &+ 2
        }
        if i < count { body(i, low(nextHash())) }
    }

    /// factors[i] = the factor vector of index first + i, i < count.
    @inline(__always)
    func fill(_ factors: MaskFactors<T>, first: Int, count: Int, keys: T.Keys) {
        forEachDraw(first: first, count: count, keys: keys) { i, draws in factors.store(i, draws: draws, limit: limit) }
    }

    /// values[i] = values[i] * (the factor vector of index first + i), i < count: the mask
    /// applied in place, the same multiplication the row path does.
    @inline(__always)
    func apply(to values: UnsafeMutablePointer<T.Vector>, first: Int, count: Int, keys: T.Keys) {
        forEachDraw(first: first, count: count, keys: keys) { i, draws in values[i] = values[i] * factorVector(draws) }
    }

    /// factors[j] = the factor of index first + j (Dropout.kept) of the row whose key is `key`,
    /// j < count, for the row path: the hashes of
    /// a vector of pairs of indices at a time (the tile makes a vector of rows at a time), so a
    /// row's masks cost a few vector operations per pair, not a scalar hash per index.
    @inline(__always)
    func fillRow(_ factors: UnsafeMutablePointer<T>, first: Int, count: Int, key: UInt64) {
        guard count > 0 else { return }
        let lanes = T.Keys.scalarCount
        let mixedKey = T.Keys(repeating: Self.mixed(UInt32(truncatingIfNeeded: key)))
        let siteTerm = Dropout.siteTerm(site)
        var steps = T.Keys()
        for l in 0 ..< lanes { steps[l] = UInt32(truncatingIfNeeded: l) &* Dropout.pairStep }
        var pair = first >> 1
        let endPair = (first + count + 1) >> 1
        while pair < endPair {
            // Lane l: the pair pair + l (its position constant, then hash32 as the tile does).
            let terms = (T.Keys(repeating: Dropout.pairTerm(pair)) &+ steps) ^ T.Keys(repeating: siteTerm)
            let h = hashMixed(mixedKey ^ Self.mixed(terms))
            let (low, high) = (factorVector(low(h)), factorVector(high(h)))
            // Index 2 (pair + l) is factors[2 (pair + l) - first], its odd neighbour the next one.
            let base = 2 * pair - first
            if base >= 0 && base + 2 * lanes <= count {
                for l in 0 ..< lanes {
                    factors[base + 2 * l] = low[l]
                    factors[base + 2 * l + 1] = high[l]
                }
            } else {
                for l in 0 ..< lanes {
                    let j = base + 2 * l
                    if j >= 0 && j < count { factors[j] = low[l] }
                    if j + 1 >= 0 && j + 1 < count { factors[j + 1] = high[l] }
                }
            }
            pair += lanes
        }
    }

    /// The draws of the even index of each lane's pair (the hash's low 16 bits) ...
    @inline(__always)
    private func low(_ h: T.Keys) -> T.Keys { h & T.Keys(repeating: 0xffff) }

    /// ... and of the odd one (its high 16 bits).
    @inline(__always)
    private func high(_ h: T.Keys) -> T.Keys { h &>> 16 }

    /// threshold - 1 (-1 for 0) in every lane: draws < 2^16, so draw > limit as signed integers
    /// is draw >= threshold.
    private var limit: T.Keys { T.Keys(repeating: threshold &- 1) }

    /// Per lane: `scale` where the draw keeps the value, 0 where it drops it.
    @inline(__always)
    private func factorVector(_ draws: T.Keys) -> T.Vector {
        T.dropoutFactors(draws: draws, limit: limit, scale: scale)
    }

    /// hash32's first step, x ^ (x >> 16). It is linear over xor, so hash32(key ^ c) equals
    /// hashMixed(mixed(key) ^ mixed(c)): keys are mixed once per unit and position constants once
    /// per pair of indices, which saves a vector shift and xor per hash.
    @inline(__always)
    static func mixed(_ x: T.Keys) -> T.Keys { x ^ (x &>> 16) }

    @inline(__always)
    static func mixed(_ x: UInt32) -> UInt32 { x ^ (x >> 16) }

    /// Dropout.hash32 lane by lane, after its first step (see mixed).
    @inline(__always)
    private func hashMixed(_ value: T.Keys) -> T.Keys {
        var x = value
        x = x &* T.Keys(repeating: 0x7feb_352d)
        x = x ^ (x &>> 15)
        x = x &* T.Keys(repeating: 0x846c_a68b)
        x = x ^ (x &>> 16)
        return x
    }
}

/// The dropout of one unit of rows: the three sites (nil where the rate is 0) and, for a tile,
/// the rows' keys (lane l: SiteMask.mixed of the low 32 bits of row firstRow + l's key; lanes past
/// the unit's rows are computed and never used).
struct UnitMasks<T: FastfoodFloat> {
    let input, permuted, output: SiteMask<T>?
    let dropout: Dropout
    let firstRow: Int
    let mixedKeys: T.Keys

    /// nil when every rate is 0: the plain kernels run, bit for bit the plain call.
    init?(_ dropout: Dropout?, firstRow: Int) {
        guard let dropout else { return nil }
        (input, permuted, output) = (SiteMask(dropout, .input), SiteMask(dropout, .permuted), SiteMask(dropout, .output))
        guard input != nil || permuted != nil || output != nil else { return nil }
        self.dropout = dropout
        self.firstRow = firstRow
        var keys = T.Keys()
        for l in 0 ..< keys.scalarCount { keys[l] = UInt32(truncatingIfNeeded: dropout.rowKey(firstRow + l)) }
        mixedKeys = SiteMask<T>.mixed(keys)
    }

    /// The key of row firstRow + row, for the row path.
    func rowKey(_ row: Int) -> UInt64 { dropout.rowKey(firstRow + row) }

    func mask(_ site: Dropout.Site) -> SiteMask<T>? {
        switch site {
        case .input: input
        case .permuted: permuted
        case .output: output
        }
    }

    /// Whether `site` drops anything.
    @inline(__always)
    func masks(_ site: Dropout.Site) -> Bool { mask(site) != nil }

    /// factors(site, in: buffer)[i] = the tile's factor vector of `site` at index offset + i, for
    /// i in `range`: made just before a kernel reads them, chunk by chunk, so they come back from
    /// L1. Nothing is written when the site keeps everything.
    @inline(__always)
    func fill(_ site: Dropout.Site, offset: Int, _ range: Range<Int>, into buffer: UnsafeMutablePointer<T.Vector>) {
        guard let mask = mask(site) else { return }
        mask.fill(MaskFactors(buffer, scale: mask.scale) + range.lowerBound, first: offset + range.lowerBound,
                  count: range.count, keys: mixedKeys)
    }

    /// The factor vectors of `site` that fill stored in `buffer` (nil when the site keeps
    /// everything).
    @inline(__always)
    func factors(_ site: Dropout.Site, in buffer: UnsafeMutablePointer<T.Vector>) -> MaskFactors<T>? {
        mask(site).map { MaskFactors(buffer, scale: $0.scale) }
    }

    /// values[i] *= the tile's factor vector of `site` at index first + i (nothing without a mask).
    @inline(__always)
    func apply(_ site: Dropout.Site, to values: UnsafeMutablePointer<T.Vector>, first: Int, count: Int) {
        mask(site)?.apply(to: values, first: first, count: count, keys: mixedKeys)
    }
}

/// A site's factor vectors in a scratch buffer, as SiteMask.fill stores them and the tile
/// kernels read them (factors[i], factors + offset). With AVX-512 each is kept as its lanes'
/// bits (2 bytes for 16 floats), stored from the compare's mask register and rebuilt by a
/// zero-masked move of `scale` when read: a 64-byte store takes two cycles on Zen 4, and the
/// hash loop ran 7.8 cycles per pair of positions storing two vectors, 6.4 storing two masks
/// (benchmarks/README.md, Dropout). Elsewhere the vectors themselves, which a multiply takes
/// straight from memory. The same factors either way, bit for bit.
struct MaskFactors<T: FastfoodFloat> {
    let base: UnsafeMutableRawPointer
    let scale: T

    @inline(__always)
    init(_ buffer: UnsafeMutablePointer<T.Vector>, scale: T) {
        base = UnsafeMutableRawPointer(buffer)
        self.scale = scale
    }

    @inline(__always)
    private init(base: UnsafeMutableRawPointer, scale: T) {
        self.base = base
        self.scale = scale
    }

    /// Bits with AVX-512 (its mask registers load them in one instruction), vectors elsewhere.
    #if FASTFOOD_AVX512
    private static var asBits: Bool { true }
    #else
    private static var asBits: Bool { false }
    #endif

    private static var stride: Int {
        Self.asBits ? MemoryLayout<T.Keys.LaneBits>.stride : MemoryLayout<T.Vector>.stride
    }

    /// Factor vector i: `scale` in the lanes where draws > limit (signed), 0 in the others.
    @inline(__always)
    func store(_ i: Int, draws: T.Keys, limit: T.Keys) {
        if Self.asBits {
            base.storeBytes(of: T.Keys.signedGreaterBits(draws, limit), toByteOffset: i &* Self.stride,
                            as: T.Keys.LaneBits.self)
        } else {
            base.storeBytes(of: T.dropoutFactors(draws: draws, limit: limit, scale: scale),
                            toByteOffset: i &* Self.stride, as: T.Vector.self)
        }
    }

    @inline(__always)
    subscript(i: Int) -> T.Vector {
        if Self.asBits {
            let bits = base.load(fromByteOffset: i &* Self.stride, as: T.Keys.LaneBits.self)
            return T.keptFactors(T.Keys.laneMask(bits), scale: scale)
        }
        return base.load(fromByteOffset: i &* Self.stride, as: T.Vector.self)
    }

    /// The factors from index i on.
    @inline(__always)
    static func + (factors: Self, i: Int) -> Self {
        Self(base: factors.base + i &* stride, scale: factors.scale)
    }
}

extension FastfoodFloat {
    /// Per lane: `scale` where draw > limit as signed integers (kept), 0 where not (dropped): the
    /// factor vector, whether made in registers (SiteMask) or stored (MaskFactors).
    @inline(__always)
    static func dropoutFactors(draws: Keys, limit: Keys, scale: Self) -> Vector {
        keptFactors(Keys.signedGreaterMask(draws, limit), scale: scale)
    }
}

extension Float {
    typealias Keys = SIMD16<UInt32>

    @inline(__always)
    static func keptFactors(_ kept: SIMD16<UInt32>, scale: Float) -> SIMD16<Float> {
        unsafeBitCast(kept & SIMD16(repeating: scale.bitPattern), to: SIMD16<Float>.self)
    }
}

extension Double {
    typealias Keys = SIMD8<UInt32>

    @inline(__always)
    static func keptFactors(_ kept32: SIMD8<UInt32>, scale: Double) -> SIMD8<Double> {
        unsafeBitCast(kept32.signExtendedLanes & SIMD8(repeating: scale.bitPattern), to: SIMD8<Double>.self)
    }
}
