import FastfoodCore
import Glibc

/// The Fastfood initialisation of Le, Sarlos and Smola (2013) with every scale folded into S:
/// B_i = +-1, G_i ~ N(0, 1), S_i = s_i / ||G_k|| / (sigma sqrt(D)) with s_i ~ chi(D), bias 0.
/// Computed in Double and rounded once, so the Float result is the rounded Double result.
enum Initialization {
    /// B of block k: bit i % 64 of the (i / 64)-th draw of its signs stream, 0 giving +1.
    static func randomSigns<T: BinaryFloatingPoint>(_ b: UnsafeMutablePointer<T>, count n: Int, seed: UInt64, block k: Int) {
        var signs = SplitMix64(seed: seed, purpose: .signs, block: k)
        var bits: UInt64 = 0
        for i in 0 ..< n {
            if i % 64 == 0 { bits = signs.next() }
            b[i] = (bits >> UInt64(i % 64)) & 1 == 0 ? 1 : -1
        }
    }

    // Specialised for both element types: the generic entry points dispatch to these.
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func fill<T: BinaryFloatingPoint>(
        _ shape: LayerShape, seed: UInt64, sigma: Double, params: UnsafeMutablePointer<T>
    ) {
        let n = shape.blockSize
        let scale = 1 / (sigma * Double(n).squareRoot()) * shape.initialScaleFactor
        for k in 0 ..< shape.blockCount {
            let slices = shape.layout.block(k, of: params)
            let (s, g, b) = (slices.scale, slices.gaussian, slices.sign)

            randomSigns(b, count: n, seed: seed, block: k)

            var gaussian = SplitMix64(seed: seed, purpose: .gaussian, block: k)
            var sumOfSquares = 0.0
            var i = 0
            while i < n {
                let (z0, z1) = gaussian.nextGaussianPair()
                g[i] = T(z0)
                sumOfSquares += z0 * z0
                if i + 1 < n {
                    g[i + 1] = T(z1)
                    sumOfSquares += z1 * z1
                }
                i += 2
            }
            let inverseNorm = 1 / sumOfSquares.squareRoot()

            var chi = SplitMix64(seed: seed, purpose: .chi, block: k)
            for i in 0 ..< n { s[i] = T(chi.nextChi(degrees: n) * inverseNorm * scale) }
        }
        if shape.hasBias {
            (params + shape.layout.bias.lowerBound).update(repeating: 0, count: shape.layout.bias.count)
        }
    }
}

extension LayerDescription {
    /// Fills the parameterCount elements at `params` (sigma finite and > 0: the boundary checks).
    public func initializeParameters<T: FastfoodScalar>(seed: UInt64, sigma: Double, into params: UnsafeMutablePointer<T>) {
        Initialization.fill(shape, seed: seed, sigma: sigma, params: params)
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
    // Specialised for both element types: the generic entry points dispatch to these.
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func fill<T: BinaryFloatingPoint>(
        _ shape: LayerShape, preset: InitPreset, seed: UInt64, value: Double, params: UnsafeMutablePointer<T>
    ) {
        switch preset {
        case .rbf:
            fill(shape, seed: seed, sigma: value, params: params)
            return
        case .variance, .nearIdentity:
            break
        }
        let n = shape.blockSize
        for k in 0 ..< shape.blockCount {
            let slices = shape.layout.block(k, of: params)
            let (s, g, b) = (slices.scale, slices.gaussian, slices.sign)
            var gaussian = SplitMix64(seed: seed, purpose: .gaussian, block: k)
            var noise = SplitMix64(seed: seed, purpose: .chi, block: k)
            if preset == .variance {
                randomSigns(b, count: n, seed: seed, block: k)
                var sumOfSquares = 0.0
                for i in 0 ..< n {
                    let z = gaussian.nextGaussianPair().0
                    g[i] = T(z)
                    sumOfSquares += z * z
                }
                let scale = value / (sumOfSquares.squareRoot() * Double(shape.inFeatures).squareRoot())
                    * shape.initialScaleFactor
                for i in 0 ..< n { s[i] = T(scale) }
            } else {
                for i in 0 ..< n {
                    b[i] = 1
                    g[i] = T(1 + value * gaussian.nextGaussianPair().0)
                    s[i] = T((1 + value * noise.nextGaussianPair().0) / Double(n) * shape.initialScaleFactor)
                }
            }
        }
        if shape.hasBias {
            (params + shape.layout.bias.lowerBound).update(repeating: 0, count: shape.layout.bias.count)
        }
    }
}

extension LayerDescription {
    public func initializeParameters<T: FastfoodScalar>(preset: InitPreset, seed: UInt64, value: Double,
                                                        into params: UnsafeMutablePointer<T>) {
        Initialization.fill(shape, preset: preset, seed: seed, value: value, params: params)
    }
}

extension LayerShape {
    /// Every initialisation describes one function of x. A normalised layer divides S by D in
    /// the forward, so its S starts D times larger (exact: D is a power of two) and the layer
    /// computes what the unnormalised one does with the same seed.
    var initialScaleFactor: Double { isNormalized ? Double(blockSize) : 1 }
}
