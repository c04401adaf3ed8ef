/// SplitMix64 (Steele, Lea, Flood 2014): the one random generator of the library.
///
/// Every random quantity comes from a stream keyed by (seed, purpose, block), so a block's values
/// never depend on how many blocks a layer has, and the integer outputs (and hence permutations)
/// are identical on every machine. The formulas are part of the public contract (see the header).
package struct SplitMix64: Sendable {
    package var state: UInt64

    /// What a stream is used for; part of the stream key.
    package enum Purpose: UInt64, Sendable {
        case permutation = 1
        case signs = 2
        case gaussian = 3
        case chi = 4
    }

    package init(state: UInt64) { self.state = state }

    /// The stream for one purpose of one block: state = mix(seed ^ mix(mix(purpose) + block)).
    package init(seed: UInt64, purpose: Purpose, block: Int) {
        let key = SplitMix64.mix(SplitMix64.mix(purpose.rawValue) &+ UInt64(truncatingIfNeeded: block))
        state = SplitMix64.mix(seed ^ key)
    }

    /// The SplitMix64 output function.
    @inline(__always)
    package static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    @inline(__always)
    package mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        return SplitMix64.mix(state)
    }

    /// Uniform integer in [0, bound), bound > 0, without bias (Lemire 2019, multiply and reject).
    @inline(__always)
    package mutating func next(below bound: UInt64) -> UInt64 {
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }

    /// Uniform double in [0, 1) with 53 random bits.
    @inline(__always)
    package mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Uniform double in (0, 1]: safe to take the logarithm of.
    @inline(__always)
    package mutating func nextUnitNonZero() -> Double {
        (Double(next() >> 11) + 1) * 0x1p-53
    }
}
