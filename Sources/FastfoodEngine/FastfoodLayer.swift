/// An immutable Fastfood layer: its shape, its seed and the K fixed permutations drawn from it.
/// It owns no trainable numbers; those are passed to every call in the documented layout.
public final class FastfoodLayer: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init; the permutation memory is
    // written once in `make` and only read afterwards, so sharing across threads is safe.
    public let shape: LayerShape
    public let seed: UInt64
    /// 2*K*D entries: the permutations, then their inverses (see KernelLayer).
    private let storage: UnsafeMutablePointer<UInt32>
    /// The shape and tables as the kernels read them.
    let kernelLayer: KernelLayer

    private init(shape: LayerShape, seed: UInt64, storage: UnsafeMutablePointer<UInt32>) {
        self.shape = shape
        self.seed = seed
        self.storage = storage
        kernelLayer = KernelLayer(shape: shape, permutation: storage,
                                  inversePermutation: storage + shape.diagonalLength)
    }

    deinit { AlignedMemory.free(storage) }

    /// Draws the permutations from `seed`; nil if their memory cannot be allocated.
    public static func make(shape: LayerShape, seed: UInt64) -> FastfoodLayer? {
        let d = shape.blockSize
        let (entries, overflow) = shape.diagonalLength.multipliedReportingOverflow(by: 2)
        guard !overflow, let storage = AlignedMemory.allocate(UInt32.self, count: entries) else {
            return nil
        }
        let inverse = storage + shape.diagonalLength
        for k in 0 ..< shape.blockCount {
            let block = storage + k * d
            drawPermutation(block, length: d, seed: seed, block: k)
            for i in 0 ..< d { inverse[k * d + Int(block[i])] = UInt32(truncatingIfNeeded: i) }
        }
        return FastfoodLayer(shape: shape, seed: seed, storage: storage)
    }

    /// Durstenfeld's Fisher-Yates shuffle of the identity, driven by the block's stream.
    static func drawPermutation(_ out: UnsafeMutablePointer<UInt32>, length: Int, seed: UInt64, block: Int) {
        for i in 0 ..< length { out[i] = UInt32(truncatingIfNeeded: i) }
        var rng = SplitMix64(seed: seed, purpose: .permutation, block: block)
        var i = length - 1
        while i > 0 {
            let j = Int(rng.next(below: UInt64(i + 1)))
            out.swapAt(i, j)
            i -= 1
        }
    }

    /// Permutation entry `index` (0 ..< K*D).
    public func permutationEntry(_ index: Int) -> Int { Int(storage[index]) }

    /// Copies all K*D permutation entries.
    public func copyPermutation(into destination: UnsafeMutablePointer<Int>) {
        for i in 0 ..< shape.diagonalLength { destination[i] = Int(storage[i]) }
    }
}

extension UnsafeMutablePointer {
    @inline(__always)
    fileprivate func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]
        self[i] = self[j]
        self[j] = t
    }
}
