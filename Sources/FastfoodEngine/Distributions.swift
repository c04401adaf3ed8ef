import FastfoodCore
import Glibc

/// Samplers built on SplitMix64. They use the C math library (log, sqrt, sin, cos, pow), whose
/// routines glibc picks by CPU (with FMA or without), so their floating-point outputs are
/// reproducible for a given build, libm and CPU kind, not across all of them.
extension SplitMix64 {
    /// Two independent standard normal samples (Box-Muller).
    public mutating func nextGaussianPair() -> (Double, Double) {
        let radius = sqrt(-2 * log(nextUnitNonZero()))
        let angle = 2 * Double.pi * nextUnit()
        return (radius * cos(angle), radius * sin(angle))
    }

    /// A Gamma(shape, 1) sample, shape > 0 (Marsaglia and Tsang 2000; boosted for shape < 1).
    public mutating func nextGamma(shape: Double) -> Double {
        if shape < 1 {
            let boosted = nextGamma(shape: shape + 1)
            return boosted * pow(nextUnitNonZero(), 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / sqrt(9 * d)
        while true {
            let x = nextGaussianPair().0
            let t = 1 + c * x
            if t <= 0 { continue }
            let v = t * t * t
            let u = nextUnitNonZero()
            if u < 1 - 0.0331 * (x * x) * (x * x) { return d * v }
            if log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// A chi(degrees) sample: the norm of a `degrees`-dimensional standard Gaussian vector,
    /// drawn in O(1) as sqrt(2 * Gamma(degrees / 2)).
    public mutating func nextChi(degrees: Int) -> Double {
        sqrt(2 * nextGamma(shape: Double(degrees) / 2))
    }
}
