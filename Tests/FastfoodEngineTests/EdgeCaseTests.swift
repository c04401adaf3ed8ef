import FastfoodCore
import FastfoodEngine
import Glibc
import Testing

/// Runs `body` on a new thread (so it is that thread's first call into the engine) and returns
/// its result.
private func onFreshThread(_ body: @escaping @Sendable () -> Bool) -> Bool {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Bool
        var result = false
        init(_ body: @escaping @Sendable () -> Bool) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body))
    var thread = pthread_t()
    let created = pthread_create(&thread, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeUnretainedValue()
        box.result = box.body()
        return nil
    }, box.toOpaque())
    guard created == 0 else { box.release(); return false }
    pthread_join(thread, nil)
    let result = box.takeUnretainedValue().result
    box.release()
    return result
}

/// The engine product is as safe for Swift callers as the C boundary: batch 0 is a valid call on
/// every path (first call of a thread or not), and thread counts are clamped.
@Suite struct EdgeCaseTests {
    @Test func batchZeroIsValidAsAThreadsFirstCall() throws {
        let layer = try makeLayer(30, 70, bias: true, seed: 2)
        let n = layer.shape.parameterCount
        let ok = onFreshThread {
            let params = [Float](repeating: 0.5, count: n), x = [Float](repeating: 1, count: 30)
            var y = [Float](repeating: 0, count: 70), dp = [Float](repeating: 9, count: n)
            do {
                try params.withUnsafeBufferPointer { p in
                    try x.withUnsafeBufferPointer { xs in
                        try y.withUnsafeMutableBufferPointer { ys in
                            try layer.forward(params: p.baseAddress!, batch: 0, x: xs.baseAddress!, ldx: 30,
                                              y: ys.baseAddress!, ldy: 70)
                            try dp.withUnsafeMutableBufferPointer { g in
                                try layer.backward(params: p.baseAddress!, batch: 0, x: xs.baseAddress!, ldx: 30,
                                                   dy: ys.baseAddress!, lddy: 70, dx: nil, lddx: 30,
                                                   dparams: g.baseAddress!, accumulate: false)
                            }
                        }
                    }
                }
            } catch { return false }
            return dp.allSatisfy { $0 == 0 } // the sum over no rows
        }
        #expect(ok)
    }

    @Test(arguments: [false, true])
    func batchZeroWithGradientsAfterWarmUp(dropout: Bool) throws {
        let layer = try makeLayer(30, 70, bias: true, seed: 3)
        let n = layer.shape.parameterCount
        let params = [Double](repeating: 0.25, count: n)
        var random = TestRandom(5)
        let x = random.array(4 * 30), dy = random.array(4 * 140)
        var dx = [Double](repeating: 0, count: 4 * 30), dp = [Double](repeating: 0, count: n)
        let masks = dropout ? Dropout(input: 0.1, permuted: 0.1, output: 0.1, seed: 1, step: 1) : nil
        try params.withUnsafeBufferPointer { p in
            try x.withUnsafeBufferPointer { xs in
                try dy.withUnsafeBufferPointer { d in
                    try dx.withUnsafeMutableBufferPointer { gx in
                        try dp.withUnsafeMutableBufferPointer { g in
                            // Warm-up with rows, then batch 0 with dparams: every backward path.
                            for batch in [4, 0] {
                                try layer.backward(params: p.baseAddress!, batch: batch, x: xs.baseAddress!, ldx: 30,
                                                   dy: d.baseAddress!, lddy: 70, dx: gx.baseAddress!, lddx: 30,
                                                   dparams: g.baseAddress!, accumulate: false, dropout: masks)
                                try layer.featuresBackward(params: p.baseAddress!, batch: batch, x: xs.baseAddress!,
                                                           ldx: 30, dphi: d.baseAddress!, lddphi: 140,
                                                           dx: gx.baseAddress!, lddx: 30, dparams: g.baseAddress!,
                                                           accumulate: batch == 0)
                            }
                        }
                    }
                }
            }
        }
        #expect(dp.allSatisfy { $0 == 0 })
    }

    /// Batch 0 is the sum over no rows: without accumulate the requested gradient sections (and
    /// the bias's) become 0 and a skipped one keeps the caller's values; with accumulate nothing
    /// changes (old + 0). The boundary answers batch 0 itself; this is the engine's own answer.
    @Test(arguments: [false, true])
    func batchZeroWritesOnlyTheRequestedSections(accumulate: Bool) throws {
        let layer = try makeLayer(30, 70, bias: true, seed: 4)
        let shape = layer.shape, n = shape.parameterCount
        let params = [Double](repeating: 0.25, count: n), x = [Double](repeating: 1, count: 30)
        let dy = [Double](repeating: 1, count: 70)
        var dp = (0 ..< n).map { Double($0) + 1 }
        try params.withUnsafeBufferPointer { p in
            try x.withUnsafeBufferPointer { xs in
                try dy.withUnsafeBufferPointer { d in
                    try dp.withUnsafeMutableBufferPointer { g in
                        try layer.backward(params: p.baseAddress!, batch: 0, x: xs.baseAddress!, ldx: 30,
                                           dy: d.baseAddress!, lddy: 70, dx: nil, lddx: 30, dparams: g.baseAddress!,
                                           accumulate: accumulate,
                                           sections: GradientSections(scale: false, gaussian: true, sign: true))
                    }
                }
            }
        }
        let kept = (0 ..< n).filter { i in accumulate || shape.layout.scale.contains(i) }
        #expect(kept.allSatisfy { dp[$0] == Double($0) + 1 })
        #expect((0 ..< n).allSatisfy { i in kept.contains(i) || dp[i] == 0 })
    }

    @Test func threadCountsAreClamped() {
        let before = Threading.threadCount
        Threading.setThreadCount(-1)
        #expect(Threading.threadCount == 1)
        Threading.setThreadCount(0)
        #expect(Threading.threadCount >= 1)
        Threading.setThreadCount(before)
        #expect(Threading.threadCount == before)
    }
}
