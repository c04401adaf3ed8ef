import FastfoodCore
import Glibc

/// The Fastfood initialisation of Le, Sarlos and Smola (2013) with every scale folded into S:
/// B_i = +-1, G_i ~ N(0, 1), S_i = s_i / ||G_k|| / (sigma sqrt(D)) with s_i ~ chi(D), bias 0.
/// Computed in Double and rounded once, so the Float result is the rounded Double result.
/// Every initialisation hands its values to an InitializationSink as it makes them, so the same
/// code stores them (ParameterWriter) or only checks them (RepresentabilityCheck): the boundary
/// checks a whole initialisation, then stores it, without a second parameter array.
enum Initialization {
    /// B of block k: bit i % 64 of the (i / 64)-th draw of its signs stream, 0 giving +1.
    static func randomSigns<Sink: InitializationSink>(into sink: inout Sink, count n: Int, seed: UInt64, block k: Int) {
        var signs = SplitMix64(seed: seed, purpose: .signs, block: k)
        var bits: UInt64 = 0
        for i in 0 ..< n {
            if i % 64 == 0 { bits = signs.next() }
            sink.put(.sign, block: k, i, (bits >> UInt64(i % 64)) & 1 == 0 ? 1 : -1)
        }
    }

    static func fill<Sink: InitializationSink>(_ shape: LayerShape, seed: UInt64, sigma: Double, into sink: inout Sink) {
        let n = shape.blockSize
        let scale = 1 / (sigma * Double(n).squareRoot()) * shape.initialScaleFactor
        for k in 0 ..< shape.blockCount {
            randomSigns(into: &sink, count: n, seed: seed, block: k)

            var gaussian = SplitMix64(seed: seed, purpose: .gaussian, block: k)
            var sumOfSquares = 0.0
            var i = 0
            while i < n {
                let (z0, z1) = gaussian.nextGaussianPair()
                sink.put(.gaussian, block: k, i, z0)
                sumOfSquares += z0 * z0
                if i + 1 < n {
                    sink.put(.gaussian, block: k, i + 1, z1)
                    sumOfSquares += z1 * z1
                }
                i += 2
            }
            let inverseNorm = 1 / sumOfSquares.squareRoot()

            var chi = SplitMix64(seed: seed, purpose: .chi, block: k)
            for i in 0 ..< n { sink.put(.scale, block: k, i, chi.nextChi(degrees: n) * inverseNorm * scale) }
        }
    }
}

/// A diagonal of the parameters (the bias is always 0 and needs no sink).
enum Diagonal {
    case scale, gaussian, sign

    /// Its name in the header's formulas.
    var name: StaticString {
        switch self {
        case .scale: "S"
        case .gaussian: "G"
        case .sign: "B"
        }
    }
}

/// Receives an initialisation's values, computed in Double, one element at a time.
protocol InitializationSink {
    mutating func put(_ diagonal: Diagonal, block k: Int, _ i: Int, _ value: Double)
}

/// Stores each value, rounded once to T, at its place in the parameter layout (block k's slice
/// of its diagonal, from ParameterLayout.block like every other pointer into the parameters).
struct ParameterWriter<T: BinaryFloatingPoint>: InitializationSink {
    let layout: ParameterLayout
    let params: UnsafeMutablePointer<T>

    @inline(__always)
    func put(_ diagonal: Diagonal, block k: Int, _ i: Int, _ value: Double) {
        let slices = layout.block(k, of: params)
        let slice = switch diagonal {
        case .scale: slices.scale
        case .gaussian: slices.gaussian
        case .sign: slices.sign
        }
        slice[i] = T(value)
    }
}

/// Stores nothing: records the first value that T cannot hold (not finite once rounded, or an S
/// flushed to 0 or subnormal where S must be normal).
struct RepresentabilityCheck<T: BinaryFloatingPoint>: InitializationSink {
    let scaleMustBeNormal: Bool
    var failure: UnrepresentableValue?

    @inline(__always)
    mutating func put(_ diagonal: Diagonal, block k: Int, _ i: Int, _ value: Double) {
        guard failure == nil else { return }
        let rounded = T(value)
        let isScale = diagonal == .scale
        if !rounded.isFinite || (isScale && scaleMustBeNormal && !rounded.isNormal) {
            failure = UnrepresentableValue(value: Double(rounded), diagonal: diagonal.name)
        }
    }
}

/// An initialisation's first value that the element type cannot hold: rounded to that type
/// (and back to Double, exactly), and its diagonal ("S", "G" or "B"). Not generic, so that an
/// unspecialised caller needs no type metadata made at run time (which allocates: see the
/// header's MEMORY section).
public struct UnrepresentableValue: Sendable {
    public let value: Double
    public let diagonal: StaticString
}

extension LayerDescription {
    /// Fills the parameterCount elements at `params` (sigma finite and > 0: the boundary checks).
    public func initializeParameters<T: FastfoodScalar>(seed: UInt64, sigma: Double, into params: UnsafeMutablePointer<T>) {
        initializeParameters(preset: .rbf, seed: seed, value: sigma, into: params)
    }
}

/// The initialisations a caller can choose (fastfood_init_params_preset_*).
public enum InitPreset: UInt32, Sendable {
    /// Le et al. for a Gaussian kernel; value = sigma. Same as initializeParameters(seed:sigma:).
    case rbf = 0
    /// Variance preserving; value = gain. B = +-1, G ~ N(0, 1), S_i = gain / (||G_k|| sqrt(in)):
    /// every row of the layer's matrix then has expected squared norm gain^2 over the input
    /// coordinates, so for inputs with independent zero-mean entries of variance v the outputs
    /// have variance gain^2 v on average (as He / Glorot do for dense layers; gain sqrt(2)
    /// before a ReLU). Exact for in_features = D, in expectation over the permutations otherwise.
    case variance = 1
    /// Near identity; value = epsilon >= 0. B = 1, G_i = 1 + epsilon z, S_i = (1 + epsilon z') / D
    /// with z, z' ~ N(0, 1): the diagonals are nearly constant and the layer is nearly the
    /// orthogonal map (1/D) H PI H (norm preserving when in = out = D).
    case nearIdentity = 2
}

extension Initialization {
    static func fill<Sink: InitializationSink>(
        _ shape: LayerShape, preset: InitPreset, seed: UInt64, value: Double, into sink: inout Sink
    ) {
        switch preset {
        case .rbf:
            fill(shape, seed: seed, sigma: value, into: &sink)
            return
        case .variance, .nearIdentity:
            break
        }
        let n = shape.blockSize
        for k in 0 ..< shape.blockCount {
            var gaussian = SplitMix64(seed: seed, purpose: .gaussian, block: k)
            var noise = SplitMix64(seed: seed, purpose: .chi, block: k)
            if preset == .variance {
                randomSigns(into: &sink, count: n, seed: seed, block: k)
                var sumOfSquares = 0.0
                for i in 0 ..< n {
                    let z = gaussian.nextGaussianPair().0
                    sink.put(.gaussian, block: k, i, z)
                    sumOfSquares += z * z
                }
                let scale = value / (sumOfSquares.squareRoot() * Double(shape.inFeatures).squareRoot())
                    * shape.initialScaleFactor
                for i in 0 ..< n { sink.put(.scale, block: k, i, scale) }
            } else {
                for i in 0 ..< n {
                    sink.put(.sign, block: k, i, 1)
                    sink.put(.gaussian, block: k, i, 1 + value * gaussian.nextGaussianPair().0)
                    sink.put(.scale, block: k, i, (1 + value * noise.nextGaussianPair().0) / Double(n)
                                                  * shape.initialScaleFactor)
                }
            }
        }
    }

    // Specialised for both element types: the generic entry points dispatch to these.
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func store<T: BinaryFloatingPoint>(
        _ shape: LayerShape, preset: InitPreset, seed: UInt64, value: Double, params: UnsafeMutablePointer<T>
    ) {
        var writer = ParameterWriter(layout: shape.layout, params: params)
        fill(shape, preset: preset, seed: seed, value: value, into: &writer)
        if shape.hasBias {
            (params + shape.layout.bias.lowerBound).update(repeating: 0, count: shape.layout.bias.count)
        }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    static func check<T: BinaryFloatingPoint>(
        _ shape: LayerShape, preset: InitPreset, seed: UInt64, value: Double, as _: T.Type
    ) -> UnrepresentableValue? {
        var check = RepresentabilityCheck<T>(scaleMustBeNormal: preset != .nearIdentity)
        fill(shape, preset: preset, seed: seed, value: value, into: &check)
        return check.failure
    }
}

extension LayerDescription {
    /// Fills the parameterCount elements at `params`; allocates nothing.
    public func initializeParameters<T: FastfoodScalar>(preset: InitPreset, seed: UInt64, value: Double,
                                                        into params: UnsafeMutablePointer<T>) {
        Initialization.store(shape, preset: preset, seed: seed, value: value, params: params)
    }

    /// The same initialisation, computed and checked but stored nowhere: its first value that T
    /// cannot hold, if any. Deterministic, so initializeParameters then stores the values checked.
    public func firstUnrepresentableValue<T: FastfoodScalar>(preset: InitPreset, seed: UInt64, value: Double,
                                                             as type: T.Type) -> UnrepresentableValue? {
        Initialization.check(shape, preset: preset, seed: seed, value: value, as: type)
    }
}

extension LayerShape {
    /// Every initialisation describes one function of x. A normalised layer divides S by D in
    /// the forward, so its S starts D times larger (exact: D is a power of two) and the layer
    /// computes what the unnormalised one does with the same seed.
    var initialScaleFactor: Double { isNormalized ? Double(blockSize) : 1 }
}
