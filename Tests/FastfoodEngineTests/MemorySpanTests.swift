import FastfoodCore
import FastfoodEngine
import Testing

/// MemorySpan.overlaps (the boundary's check that outputs do not share memory with inputs)
/// against the definition: the set of bytes each span covers, listed one by one.
@Suite struct MemorySpanTests {
    /// The bytes of a span, from the definition (rows of width bytes, stride apart).
    static func bytes(_ s: MemorySpan) -> Set<UInt> {
        var set = Set<UInt>()
        for r in 0 ..< s.rows { for b in 0 ..< s.width { set.insert(s.start + r * s.stride + b) } }
        return set
    }

    static func randomSpan(_ random: inout TestRandom) -> MemorySpan {
        func draw(_ n: Int) -> UInt { UInt(Int((random.next() + 1) / 2 * Double(n)) % n) }
        let width = 1 + draw(12)
        let stride = width + draw(3) * draw(10)  // often the width: contiguous rows
        return MemorySpan(start: 1000 + draw(120), rows: 1 + draw(9), stride: stride, width: width)
    }

    @Test func agreesWithTheBytesTheSpansCover() {
        var random = TestRandom(41)
        var overlapping = 0, hullsMeetButApart = 0
        for _ in 0 ..< 20000 {
            let a = Self.randomSpan(&random), b = Self.randomSpan(&random)
            let expected = !Self.bytes(a).isDisjoint(with: Self.bytes(b))
            #expect(a.overlaps(b) == expected, "\(a) \(b)")
            #expect(b.overlaps(a) == expected, "\(b) \(a)")
            if expected { overlapping += 1 }
            let aEnd = a.start + (a.rows - 1) * a.stride + a.width, bEnd = b.start + (b.rows - 1) * b.stride + b.width
            if !expected && a.start < bEnd && b.start < aEnd { hullsMeetButApart += 1 }
        }
        // Both answers, and the case a hull test gets wrong, came up often enough to mean something.
        #expect(overlapping > 2000)
        #expect(hullsMeetButApart > 200)  // 426 of them with this seed
    }

    @Test func interleavedMatricesDoNotOverlap() {
        // x and y side by side in the rows of one buffer: [x0 y0 x1 y1 ...], 4-byte elements.
        let x = MemorySpan(start: 4096, rows: 1000, stride: 4 * 96, width: 4 * 64)
        let y = MemorySpan(start: 4096 + 4 * 64, rows: 1000, stride: 4 * 96, width: 4 * 32)
        #expect(!x.overlaps(y) && !y.overlaps(x))
        let wider = MemorySpan(start: 4096 + 4 * 64, rows: 1000, stride: 4 * 96, width: 4 * 33)
        #expect(x.overlaps(wider) && wider.overlaps(x))
    }

    @Test func sameRows() {
        let a = MemorySpan(start: 64, rows: 5, stride: 40, width: 16)
        #expect(a.isSameRows(as: MemorySpan(start: 64, rows: 5, stride: 40, width: 40)))
        #expect(!a.isSameRows(as: MemorySpan(start: 64, rows: 5, stride: 44, width: 16)))
        #expect(!a.isSameRows(as: MemorySpan(start: 68, rows: 5, stride: 40, width: 16)))
        // One row: any stride.
        #expect(MemorySpan(start: 64, rows: 1, stride: 16, width: 16)
            .isSameRows(as: MemorySpan(start: 64, rows: 1, stride: 99, width: 32)))
    }

    @Test func emptySpansOverlapNothing() {
        let a = MemorySpan(start: 64, rows: 3, stride: 8, width: 8)
        #expect(!a.overlaps(MemorySpan(start: 64, rows: 1, stride: 0, width: 0)))
        #expect(!a.overlaps(MemorySpan(start: 64, rows: 0, stride: 8, width: 8)))
    }
}
