import FastfoodCore
import FastfoodEngine
import Testing

/// Statistics of the Le et al. initialisation. Bounds are about 5 standard errors: a correct
/// implementation fails them with negligible probability, and the seeds are fixed anyway.
@Suite struct InitializationTests {
    @Test func signsGaussiansAndChiScales() throws {
        let sigma = 2.0
        let layer = try makeLayer(4096, 4 * 4096, bias: true, seed: 1)
        let s = layer.shape
        let n = s.blockSize
        let params = initialParameters(layer, seed: 77, sigma: sigma, as: Double.self)
        let count = Double(s.diagonalLength)

        let signs = params[s.signOffset ..< s.biasOffset]
        #expect(signs.allSatisfy { $0 == 1 || $0 == -1 })
        let plusFraction = Double(signs.filter { $0 == 1 }.count) / count
        #expect(abs(plusFraction - 0.5) < 5 * (0.25 / count).squareRoot())

        let g = Array(params[s.gaussianOffset ..< s.signOffset])
        let mean = g.reduce(0, +) / count
        let variance = g.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / count
        #expect(abs(mean) < 5 / count.squareRoot())
        #expect(abs(variance - 1) < 5 * (2 / count).squareRoot())

        // Undo the folded scales: s_i = S_i * ||G_k|| * sigma * sqrt(D) must be chi(D) samples.
        var chi: [Double] = []
        for k in 0 ..< s.blockCount {
            let gk = g[k * n ..< (k + 1) * n]
            let norm = gk.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in 0 ..< n { chi.append(params[s.scaleOffset + k * n + i] * norm * sigma * Double(n).squareRoot()) }
        }
        let chiMean = chi.reduce(0, +) / count
        let chiVariance = chi.reduce(0) { $0 + ($1 - chiMean) * ($1 - chiMean) } / count
        // chi(D): mean ~ sqrt(D - 1/2), variance ~ 1/2.
        #expect(abs(chiMean - (Double(n) - 0.5).squareRoot()) < 5 * (0.5 / count).squareRoot())
        #expect(abs(chiVariance - 0.5) < 0.05)
        #expect(params[s.biasOffset...].allSatisfy { $0 == 0 })
    }

    @Test func outputsHaveTheKernelsScale() throws {
        // Rows of V have norm chi(D)/sigma, so E[y_i^2] = ||x||^2 / sigma^2.
        let sigma = 3.0
        let layer = try makeLayer(1024, 8192, seed: 2)
        let params = initialParameters(layer, seed: 8, sigma: sigma, as: Double.self)
        var random = TestRandom(4)
        let x = random.array(1024)
        let y = try forward(layer, params, x, batch: 1, ldx: 1024, ldy: 8192)
        let meanSquare = y.reduce(0) { $0 + $1 * $1 } / 8192
        let expected = x.reduce(0) { $0 + $1 * $1 } / (sigma * sigma)
        #expect(abs(meanSquare / expected - 1) < 0.1)
    }

    @Test(arguments: [1, 2, 3, 16, 1000])
    func chiSamplerMoments(degrees: Int) {
        var rng = SplitMix64(state: UInt64(degrees))
        let samples = (0 ..< 40000).map { _ in rng.nextChi(degrees: degrees) }
        let mean = samples.reduce(0, +) / 40000
        let meanSquare = samples.reduce(0) { $0 + $1 * $1 } / 40000
        // E[chi^2] = degrees exactly; Var[chi^2] = 2 * degrees.
        #expect(abs(meanSquare - Double(degrees)) < 5 * (2 * Double(degrees) / 40000).squareRoot())
        #expect(samples.allSatisfy { $0 >= 0 })
        #expect(mean > 0)
    }
}
