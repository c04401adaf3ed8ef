/// Dropout inside the transform (paper section 6.1): on the input (before B), after PI, and after
/// S (before the bias). Each kept value is divided by 1 - rate (inverted dropout), so inference
/// needs no change.
///
/// Masks are a function of (seed, step, row, site, index), never stored: the backward pass
/// regenerates exactly the forward pass's masks, and no mask depends on the thread count or on
/// which kernel (interleaved tile or single row) computes a row. Since 1.1 (cheap enough to
/// generate 16 rows at a time in vector registers):
///
///     k    = mix(mix(mix(seed ^ 0xd1b54a32d192ed03) ^ step) ^ row)       (64 bits, per row)
///     h    = hash32(low32(k) ^ (index >> 1) * 0x9e3779b9 ^ site * 0x632be5ab)   (mod 2^32)
///     draw = index even ? h & 0xffff : h >> 16
///     kept iff draw >= threshold,   threshold = min(65535, round(rate * 65536))
///
/// with mix the SplitMix64 output function, hash32(x) = x ^= x >> 16; x *= 0x7feb352d;
/// x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16 (all mod 2^32), site 1 = input (index < in),
/// 2 = after PI (index = block * D + i), 3 = after S (index < out). A value is dropped with
/// probability threshold / 65536, within 2^-17 of the rate.
public struct Dropout: Sendable {
    public var input: Double
    public var permuted: Double
    public var output: Double
    public var seed: UInt64
    public var step: UInt64

    public init(input: Double, permuted: Double, output: Double, seed: UInt64, step: UInt64) {
        (self.input, self.permuted, self.output, self.seed, self.step) = (input, permuted, output, seed, step)
    }

    public enum Site: UInt32, Sendable {
        case input = 1, permuted = 2, output = 3
    }

    /// The per-row key k.
    @inline(__always)
    public func rowKey(_ row: Int) -> UInt64 {
        SplitMix64.mix(SplitMix64.mix(SplitMix64.mix(seed ^ 0xd1b5_4a32_d192_ed03) ^ step) ^ UInt64(truncatingIfNeeded: row))
    }

    /// Whether any site drops anything (rates of 0 everywhere are the plain call, bit for bit).
    public var dropsAnything: Bool { input > 0 || permuted > 0 || output > 0 }

    /// The rate of a site.
    public func rate(_ site: Site) -> Double {
        switch site {
        case .input: input
        case .permuted: permuted
        case .output: output
        }
    }

    /// Draws below this are dropped (0: the site keeps everything).
    public static func threshold(rate: Double) -> UInt32 {
        UInt32(min(65535, (rate * 65536).rounded()))
    }

    /// The constant that hashes with a row's key for (site, index): one per pair of indices,
    /// pairTerm(index >> 1) ^ siteTerm(site).
    @inline(__always)
    public static func positionConstant(_ site: Site, _ index: Int) -> UInt32 {
        pairTerm(index >> 1) ^ siteTerm(site)
    }

    /// pair * 0x9e3779b9 (mod 2^32); pairTerm(pair + 1) = pairTerm(pair) &+ pairStep.
    @inline(__always)
    public static func pairTerm(_ pair: Int) -> UInt32 { UInt32(truncatingIfNeeded: pair) &* pairStep }

    @inline(__always)
    public static var pairStep: UInt32 { 0x9e37_79b9 }

    /// site * 0x632be5ab (mod 2^32).
    @inline(__always)
    public static func siteTerm(_ site: Site) -> UInt32 { site.rawValue &* 0x632b_e5ab }

    @inline(__always)
    public static func hash32(_ value: UInt32) -> UInt32 {
        var x = value
        x ^= x >> 16
        x &*= 0x7feb_352d
        x ^= x >> 15
        x &*= 0x846c_a68b
        x ^= x >> 16
        return x
    }

    /// Whether position `index` of `site` is kept for the row whose key is `key`.
    @inline(__always)
    public static func kept(_ key: UInt64, _ site: Site, _ index: Int, threshold: UInt32) -> Bool {
        let h = hash32(UInt32(truncatingIfNeeded: key) ^ positionConstant(site, index))
        let draw = index & 1 == 0 ? h & 0xffff : h >> 16
        return draw >= threshold
    }
}
