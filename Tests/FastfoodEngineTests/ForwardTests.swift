import FastfoodCore
import FastfoodEngine
import Testing

struct Shape: CustomTestStringConvertible, Sendable {
    let inFeatures: Int, outFeatures: Int, bias: Bool
    var testDescription: String { "\(inFeatures) -> \(outFeatures)\(bias ? " + bias" : "")" }
}

/// The shapes the core issue lists: d = 1, d not a power of two, n < D, n not a multiple of D,
/// several blocks; with and without bias.
let listedShapes: [Shape] = [
    Shape(inFeatures: 1, outFeatures: 1, bias: false),
    Shape(inFeatures: 3, outFeatures: 5, bias: true),
    Shape(inFeatures: 8, outFeatures: 8, bias: false),
    Shape(inFeatures: 100, outFeatures: 37, bias: true),
    Shape(inFeatures: 64, outFeatures: 200, bias: false),
    Shape(inFeatures: 1000, outFeatures: 1000, bias: true),
    Shape(inFeatures: 257, outFeatures: 1030, bias: true),
]

@Suite struct ForwardTests {
    // 15 rows: a padded float tile where the kernels take one for 15 rows (SmallestTiles: avx2
    // and AVX-512; the generic variant runs them row by row).
    @Test(arguments: listedShapes, [1, 5, 15])
    func matchesDenseMatrixBuiltFromDefinition(shape: Shape, batch: Int) throws {
        let layer = try makeLayer(shape.inFeatures, shape.outFeatures, bias: shape.bias, seed: 11)
        let params = testParameters(layer)
        let w = denseMatrix(layer, params)
        let (d, n) = (shape.inFeatures, shape.outFeatures)
        let ldx = d + 3, ldy = n + 2  // strides larger than the rows
        var random = TestRandom(3)
        let x = random.array(batch * ldx)
        let canary = -777.0
        let y = try forward(layer, params, x, batch: batch, ldx: ldx, ldy: ldy, fill: canary)
        var got: [Double] = [], want: [Double] = []
        for r in 0 ..< batch {
            for i in 0 ..< n {
                var sum = shape.bias ? params[layer.shape.biasOffset + i] : 0
                for j in 0 ..< d { sum += w[i * d + j] * x[r * ldx + j] }
                want.append(sum)
                got.append(y[r * ldy + i])
            }
            #expect(y[r * ldy + n ..< (r + 1) * ldy].allSatisfy { $0 == canary })
        }
        #expect(relativeError(got, want) < 1e-12)

        // float32 against float64
        let y32 = try forward(layer, params.map { Float($0) }, x.map { Float($0) }, batch: batch,
                              ldx: ldx, ldy: ldy)
        let got32 = (0 ..< batch).flatMap { r in (0 ..< n).map { Double(y32[r * ldy + $0]) } }
        #expect(relativeError(got32, want) < 1e-5)
    }

    @Test func rowsAreIndependent() throws {
        // The batched call equals row-by-row calls bit for bit.
        let layer = try makeLayer(100, 300, bias: true)
        let params = testParameters(layer)
        var random = TestRandom(8)
        let x = random.array(7 * 100)
        let all = try forward(layer, params, x, batch: 7, ldx: 100, ldy: 300)
        for r in 0 ..< 7 {
            let one = try forward(layer, params, Array(x[r * 100 ..< (r + 1) * 100]), batch: 1, ldx: 100, ldy: 300)
            #expect(Array(all[r * 300 ..< (r + 1) * 300]) == one)
        }
    }
}
