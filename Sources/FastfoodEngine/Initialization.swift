import Glibc

/// The Fastfood initialisation of Le, Sarlos and Smola (2013) with every scale folded into S:
/// B_i = +-1, G_i ~ N(0, 1), S_i = s_i / ||G_k|| / (sigma sqrt(D)) with s_i ~ chi(D), bias 0.
/// Computed in Double and rounded once, so the Float result is the rounded Double result.
enum Initialization {
    static func fill<T: BinaryFloatingPoint>(
        _ shape: LayerShape, seed: UInt64, sigma: Double, params: UnsafeMutablePointer<T>
    ) {
        let n = shape.blockSize
        let scale = 1 / (sigma * Double(n).squareRoot())
        for k in 0 ..< shape.blockCount {
            let offset = k * n
            let s = params + shape.scaleOffset + offset
            let g = params + shape.gaussianOffset + offset
            let b = params + shape.signOffset + offset

            var signs = SplitMix64(seed: seed, purpose: .signs, block: k)
            var bits: UInt64 = 0
            for i in 0 ..< n {
                if i % 64 == 0 { bits = signs.next() }
                b[i] = (bits >> UInt64(i % 64)) & 1 == 0 ? 1 : -1
            }

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
            (params + shape.biasOffset).update(repeating: 0, count: shape.outFeatures)
        }
    }
}

extension FastfoodLayer {
    /// Fills the parameterCount elements at `params` (sigma finite and > 0: the boundary checks).
    public func initializeParameters(seed: UInt64, sigma: Double, into params: UnsafeMutablePointer<Float>) {
        Initialization.fill(shape, seed: seed, sigma: sigma, params: params)
    }

    public func initializeParameters(seed: UInt64, sigma: Double, into params: UnsafeMutablePointer<Double>) {
        Initialization.fill(shape, seed: seed, sigma: sigma, params: params)
    }
}
