/// Dropout inside the transform (paper section 6.1): on the input (before B), after PI, and after
/// S (before the bias). Each kept value is divided by 1 - rate (inverted dropout), so inference
/// needs no change.
///
/// Masks are a function of (seed, step, row, site, index), never stored: the backward pass
/// regenerates exactly the forward pass's masks, and no mask depends on the thread count. For row
/// r (its index within the call) with
///     k = mix(mix(mix(seed ^ 0xd1b54a32d192ed03) ^ step) ^ r),
/// position `index` of site s (1 = input, index < in; 2 = after PI, index = k*D + i;
/// 3 = after S, index < out) is kept iff (mix(k ^ (s << 62) ^ index) >> 11) * 2^-53 >= rate,
/// where mix is the SplitMix64 output function documented with fastfood_layer_create.
public struct Dropout: Sendable {
    public var input: Double
    public var permuted: Double
    public var output: Double
    public var seed: UInt64
    public var step: UInt64

    public init(input: Double, permuted: Double, output: Double, seed: UInt64, step: UInt64) {
        (self.input, self.permuted, self.output, self.seed, self.step) = (input, permuted, output, seed, step)
    }

    public enum Site: UInt64 {
        case input = 1, permuted = 2, output = 3
    }

    /// The per-row key k.
    @inline(__always)
    public func rowKey(_ row: Int) -> UInt64 {
        SplitMix64.mix(SplitMix64.mix(SplitMix64.mix(seed ^ 0xd1b5_4a32_d192_ed03) ^ step) ^ UInt64(truncatingIfNeeded: row))
    }

    @inline(__always)
    public static func kept(_ key: UInt64, _ site: Site, _ index: Int, rate: Double) -> Bool {
        let draw = SplitMix64.mix(key ^ (site.rawValue << 62) ^ UInt64(truncatingIfNeeded: index))
        return Double(draw >> 11) * 0x1p-53 >= rate
    }
}

/// Which sections of the parameter gradient a backward call computes (the others are left
/// untouched): partly adaptive training, or bias only.
public struct GradientSections: Sendable, Equatable {
    public var scale = true, gaussian = true, sign = true
    public init(scale: Bool = true, gaussian: Bool = true, sign: Bool = true) {
        (self.scale, self.gaussian, self.sign) = (scale, gaussian, sign)
    }
    public static let all = GradientSections()
}
