import FastfoodEngine
import Testing

@Suite struct DeterminismTests {
    @Test func sameSeedGivesIdenticalLayersAndParameters() throws {
        let a = try makeLayer(300, 1000, bias: true, seed: 99)
        let b = try makeLayer(300, 1000, bias: true, seed: 99)
        let c = try makeLayer(300, 1000, bias: true, seed: 100)
        let entries = a.shape.diagonalLength
        #expect((0 ..< entries).allSatisfy { a.permutationEntry($0) == b.permutationEntry($0) })
        #expect(!(0 ..< entries).allSatisfy { a.permutationEntry($0) == c.permutationEntry($0) })
        let pa = initialParameters(a, seed: 5, as: Double.self)
        #expect(pa == initialParameters(b, seed: 5, as: Double.self))
        #expect(pa != initialParameters(a, seed: 6, as: Double.self))
        // Float initialisation is the rounded Double initialisation.
        #expect(initialParameters(a, seed: 5, as: Float.self) == pa.map { Float($0) })
    }

    @Test func everyBlockIsAPermutation() throws {
        let layer = try makeLayer(100, 1000, seed: 3)
        let n = layer.shape.blockSize
        for k in 0 ..< layer.shape.blockCount {
            let entries = Set((0 ..< n).map { layer.permutationEntry(k * n + $0) })
            #expect(entries == Set(0 ..< n))
        }
    }

    @Test func permutationsAreUniform() throws {
        // Where entry 0 lands over 8000 seeds, D = 8: each value about 1000 times.
        var counts = [Int](repeating: 0, count: 8)
        for seed in 0 ..< 8000 {
            counts[try makeLayer(8, 8, seed: UInt64(seed)).permutationEntry(0)] += 1
        }
        // Chi-square with 7 degrees of freedom; 24.3 is its 0.999 quantile.
        let chiSquare = counts.reduce(0.0) { $0 + Double(($1 - 1000) * ($1 - 1000)) / 1000 }
        #expect(chiSquare < 24.3, "counts \(counts)")
    }

    @Test func blocksDoNotDependOnOutputWidth() throws {
        let narrow = try makeLayer(64, 64, seed: 4), wide = try makeLayer(64, 640, seed: 4)
        #expect((0 ..< 64).allSatisfy { narrow.permutationEntry($0) == wide.permutationEntry($0) })
        let pn = initialParameters(narrow, seed: 1, as: Double.self)
        let pw = initialParameters(wide, seed: 1, as: Double.self)
        #expect(Array(pn[0 ..< 64]) == Array(pw[0 ..< 64]))  // S of block 0
    }
}
