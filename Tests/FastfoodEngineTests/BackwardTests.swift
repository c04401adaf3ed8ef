import FastfoodCore
import FastfoodEngine
import Testing

/// Gradients against central finite differences in float64. With L = sum(dy * y), L is linear in
/// each single parameter and input, so the central difference is exact up to rounding.
@Suite struct BackwardTests {
    static let shapes = listedShapes.filter { $0.inFeatures != 1000 }  // 1000x1000: forward test only

    struct Problem {
        let layer: FastfoodLayer
        let params: [Double]
        let x: [Double]
        let dy: [Double]
        let batch: Int, ldx: Int, lddy: Int, lddx: Int

        init(_ shape: Shape, batch: Int = 5) throws {
            layer = try makeLayer(shape.inFeatures, shape.outFeatures, bias: shape.bias, seed: 19)
            params = testParameters(layer, seed: 23)
            self.batch = batch
            ldx = shape.inFeatures + 2
            lddy = shape.outFeatures + 1
            lddx = shape.inFeatures + 3
            var random = TestRandom(29)
            x = random.array(batch * ldx)
            dy = random.array(batch * lddy)
        }

        func loss(params p: [Double], x input: [Double]) throws -> Double {
            let y = try forward(layer, p, input, batch: batch, ldx: ldx, ldy: lddy)
            var sum = 0.0
            for r in 0 ..< batch {
                for i in 0 ..< layer.shape.outFeatures { sum += dy[r * lddy + i] * y[r * lddy + i] }
            }
            return sum
        }
    }

    // 5 rows: the row path; 7: a padded double tile on the generic variant only (SmallestTiles:
    // avx2 and AVX-512 run a double backward with parameter gradients below 8 rows row by row
    // since 1.4.0); 11: a tile and 3 rows.
    @Test(arguments: shapes, [5, 7, 11])
    func gradientsMatchCentralDifferences(shape: Shape, batch: Int) throws {
        let problem = try Problem(shape, batch: batch)
        let g = try backward(problem.layer, problem.params, problem.x, problem.dy, batch: problem.batch,
                             ldx: problem.ldx, lddy: problem.lddy, lddx: problem.lddx)
        let h = 1e-3
        var numeric = [Double](repeating: 0, count: problem.params.count)
        var p = problem.params
        for i in p.indices {
            let saved = p[i]
            p[i] = saved + h
            let plus = try problem.loss(params: p, x: problem.x)
            p[i] = saved - h
            let minus = try problem.loss(params: p, x: problem.x)
            p[i] = saved
            numeric[i] = (plus - minus) / (2 * h)
        }
        let s = problem.layer.shape
        let sections: [(String, Range<Int>)] = [
            ("dS", s.scaleOffset ..< s.gaussianOffset), ("dG", s.gaussianOffset ..< s.signOffset),
            ("dB", s.signOffset ..< s.biasOffset), ("dbias", s.biasOffset ..< s.parameterCount),
        ]
        for (name, range) in sections where !range.isEmpty {
            let error = relativeError(Array(g.dparams[range]), Array(numeric[range]))
            #expect(error < 1e-7, "\(name) relative error \(error)")
        }

        var numericDX: [Double] = [], analyticDX: [Double] = []
        var x = problem.x
        for r in 0 ..< problem.batch {
            for j in 0 ..< s.inFeatures {
                let index = r * problem.ldx + j
                let saved = x[index]
                x[index] = saved + h
                let plus = try problem.loss(params: problem.params, x: x)
                x[index] = saved - h
                let minus = try problem.loss(params: problem.params, x: x)
                x[index] = saved
                numericDX.append((plus - minus) / (2 * h))
                analyticDX.append(g.dx[r * problem.lddx + j])
            }
        }
        let error = relativeError(analyticDX, numericDX)
        #expect(error < 1e-7, "dx relative error \(error)")
    }

    // 13 rows: row by row, as every float backward with parameter gradients below a whole tile
    // since 1.4.0 (below 15 rows on avx512 since 1.4.11: SmallestTiles); 21: a tile and 5 rows.
    // Padded tiles of the other backward calls: Tests/CAPI/test_batch_sizes.c.
    @Test(arguments: shapes, [5, 13, 21])
    func floatGradientsAgreeWithDouble(shape: Shape, batch: Int) throws {
        let p = try Problem(shape, batch: batch)
        let g64 = try backward(p.layer, p.params, p.x, p.dy, batch: p.batch, ldx: p.ldx, lddy: p.lddy, lddx: p.lddx)
        let g32 = try backward(p.layer, p.params.map { Float($0) }, p.x.map { Float($0) }, p.dy.map { Float($0) },
                               batch: p.batch, ldx: p.ldx, lddy: p.lddy, lddx: p.lddx)
        #expect(relativeError(g32.dparams.map { Double($0) }, g64.dparams) < 1e-5)
        #expect(relativeError(g32.dx.map { Double($0) }, g64.dx) < 1e-5)
    }

    @Test func accumulateAddsExactlyTheFreshGradient() throws {
        for shape in [Shape(inFeatures: 37, outFeatures: 100, bias: true), Shape(inFeatures: 8, outFeatures: 8, bias: false)] {
            let p = try Problem(shape)
            let fresh = try backward(p.layer, p.params, p.x, p.dy, batch: p.batch, ldx: p.ldx, lddy: p.lddy, lddx: p.lddx)
            var random = TestRandom(31)
            let old = Gradients(dx: random.array(fresh.dx.count), dparams: random.array(fresh.dparams.count))
            let summed = try backward(p.layer, p.params, p.x, p.dy, batch: p.batch, ldx: p.ldx, lddy: p.lddy,
                                      lddx: p.lddx, accumulatingOnto: old)
            #expect(summed.dparams == zip(old.dparams, fresh.dparams).map { $0 + $1 })
            for r in 0 ..< p.batch {
                for j in 0 ..< p.lddx {
                    let i = r * p.lddx + j
                    // Padding between rows keeps its old value.
                    #expect(summed.dx[i] == (j < shape.inFeatures ? old.dx[i] + fresh.dx[i] : old.dx[i]))
                }
            }
        }
    }

    @Test func optionalOutputsDoNotChangeTheOthers() throws {
        let p = try Problem(Shape(inFeatures: 100, outFeatures: 300, bias: true))
        let both = try backward(p.layer, p.params, p.x, p.dy, batch: p.batch, ldx: p.ldx, lddy: p.lddy, lddx: p.lddx)
        let dxOnly = try backward(p.layer, p.params, nil, p.dy, batch: p.batch, ldx: p.ldx, lddy: p.lddy,
                                  lddx: p.lddx, wantParams: false)
        let paramsOnly = try backward(p.layer, p.params, p.x, p.dy, batch: p.batch, ldx: p.ldx, lddy: p.lddy,
                                      lddx: p.lddx, wantDX: false)
        #expect(dxOnly.dx == both.dx)
        #expect(dxOnly.dparams.allSatisfy { $0 == 0 })  // untouched
        #expect(paramsOnly.dparams == both.dparams)
        #expect(paramsOnly.dx.allSatisfy { $0 == 0 })   // untouched
    }

    @Test func batchGradientIsTheSumOfRowGradients() throws {
        // Guards against reusing one sample's dy for the whole batch (a known Caffe defect).
        let p = try Problem(Shape(inFeatures: 37, outFeatures: 100, bias: true), batch: 4)
        let all = try backward(p.layer, p.params, p.x, p.dy, batch: 4, ldx: p.ldx, lddy: p.lddy, lddx: p.lddx)
        var sum = [Double](repeating: 0, count: all.dparams.count)
        for r in 0 ..< 4 {
            let one = try backward(p.layer, p.params, Array(p.x[r * p.ldx ..< (r + 1) * p.ldx]),
                                   Array(p.dy[r * p.lddy ..< (r + 1) * p.lddy]), batch: 1,
                                   ldx: p.ldx, lddy: p.lddy, lddx: p.lddx)
            for i in sum.indices { sum[i] += one.dparams[i] }
            #expect(Array(all.dx[r * p.lddx ..< r * p.lddx + 37]) == Array(one.dx[0 ..< 37]))
        }
        #expect(relativeError(all.dparams, sum) < 1e-13)
    }

    /// The backward from the forward's phi is the plain backward of dy = c * dsin - s * dcos, bit for
    /// bit (Swift never fuses the products), on the tile rows and the leftover rows (batch 11), and
    /// so is the backward that recomputes phi from x.
    @Test func featuresBackwardFromPhiIsTheBackwardOfItsDy() throws {
        let layer = try makeLayer(30, 70, bias: true, seed: 5)
        let params = testParameters(layer, seed: 9)
        let (batch, out, ldx, ldphi) = (11, 70, 31, 143)
        var random = TestRandom(13)
        let x = random.array(batch * ldx), dphi = random.array(batch * ldphi)
        var phi = [Double](repeating: 0, count: batch * ldphi)
        var dy = [Double](repeating: 0, count: batch * out)
        try params.withUnsafeBufferPointer { p in
            try x.withUnsafeBufferPointer { xs in
                try phi.withUnsafeMutableBufferPointer { f in
                    try layer.featuresForward(params: p.baseAddress!, batch: batch, x: xs.baseAddress!, ldx: ldx,
                                              phi: f.baseAddress!, ldphi: ldphi)
                }
            }
        }
        for r in 0 ..< batch {
            for i in 0 ..< out {
                let (c, s) = (phi[r * ldphi + i], phi[r * ldphi + out + i])
                dy[r * out + i] = c * dphi[r * ldphi + out + i] - s * dphi[r * ldphi + i]
            }
        }
        let expected = try backward(layer, params, x, dy, batch: batch, ldx: ldx, lddy: out, lddx: 30)
        let fromPhi = try featuresBackward(layer, params, x, phi: phi, dphi, batch: batch, ldx: ldx, ldphi: ldphi)
        #expect(fromPhi.dx == expected.dx)
        #expect(fromPhi.dparams == expected.dparams)
        #expect(fromPhi.dparams.contains { $0 != 0 })
        // The recomputing backward from x forms dy from the same phi values (since 1.4.1).
        let recomputed = try featuresBackward(layer, params, x, phi: nil, dphi, batch: batch, ldx: ldx, ldphi: ldphi)
        #expect(recomputed.dx == fromPhi.dx)
        #expect(recomputed.dparams == fromPhi.dparams)
    }

    /// The features backward into fresh dx (in_features wide rows) and dparams: from the saved
    /// `phi`, or recomputing it from x when `phi` is nil.
    private func featuresBackward(_ layer: FastfoodLayer, _ params: [Double], _ x: [Double], phi: [Double]?,
                                  _ dphi: [Double], batch: Int, ldx: Int, ldphi: Int) throws -> Gradients<Double> {
        let lddx = layer.shape.inFeatures
        var g = Gradients(dx: [Double](repeating: 0, count: batch * lddx),
                          dparams: [Double](repeating: 0, count: params.count))
        let saved = phi ?? []
        try params.withUnsafeBufferPointer { p in
            try x.withUnsafeBufferPointer { xs in
                try saved.withUnsafeBufferPointer { f in
                    try dphi.withUnsafeBufferPointer { d in
                        try g.dx.withUnsafeMutableBufferPointer { gx in
                            try g.dparams.withUnsafeMutableBufferPointer { gp in
                                if phi == nil {
                                    try layer.featuresBackward(params: p.baseAddress!, batch: batch, x: xs.baseAddress!,
                                                               ldx: ldx, dphi: d.baseAddress!, lddphi: ldphi,
                                                               dx: gx.baseAddress!, lddx: lddx,
                                                               dparams: gp.baseAddress!, accumulate: false)
                                } else {
                                    try layer.featuresBackward(params: p.baseAddress!, batch: batch, x: xs.baseAddress!,
                                                               ldx: ldx, phi: f.baseAddress!, ldphi: ldphi,
                                                               dphi: d.baseAddress!, lddphi: ldphi, dx: gx.baseAddress!,
                                                               lddx: lddx, dparams: gp.baseAddress!, accumulate: false)
                                }
                            }
                        }
                    }
                }
            }
        }
        return g
    }
}
