import FastfoodCore

/// An immutable Fastfood layer: its shape, its seed and the K fixed permutations drawn from it.
/// It owns no trainable numbers; those are passed to every call in the documented layout.
///
/// Two forms share every operation (LayerDescription): `FastfoodLayer`, a class that frees its
/// permutations when the last reference goes (what Swift code should use), and `LayerCore`, the
/// plain value inside it, whose memory comes from malloc alone. The C boundary keeps LayerCore
/// values in malloc'd handles, so creating a layer can fail cleanly when memory runs out (a Swift
/// object allocation would abort the process instead).
public protocol LayerDescription {
    var core: LayerCore { get }
}

extension LayerDescription {
    public var shape: LayerShape { core.shape }
    public var seed: UInt64 { core.seed }

    /// Permutation entry `index` (0 ..< K*D).
    public func permutationEntry(_ index: Int) -> Int { Int(core.storage[index]) }

    /// Copies all K*D permutation entries.
    public func copyPermutation(into destination: UnsafeMutablePointer<Int>) {
        for i in 0 ..< core.shape.diagonalLength { destination[i] = Int(core.storage[i]) }
    }
}

/// The layer as a value: shape, seed and the permutation tables (2*K*D entries of malloc'd
/// memory: the permutations, then their inverses). Copies share the tables; exactly one owner
/// calls `deallocate()`.
public struct LayerCore: LayerDescription, @unchecked Sendable {
    // @unchecked: the tables are written once in `make` and only read afterwards.
    public let shape: LayerShape
    public let seed: UInt64
    let storage: UnsafeMutablePointer<UInt32>
    /// The shape and tables as the kernels read them.
    let kernelLayer: KernelLayer

    public var core: LayerCore { self }

    /// Draws the permutations from `seed`; nil if their memory cannot be allocated. Allocates
    /// nothing else.
    public static func make(shape: LayerShape, seed: UInt64) -> LayerCore? {
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
        return LayerCore(shape: shape, seed: seed, storage: storage,
                         kernelLayer: KernelLayer(shape: shape, permutation: storage,
                                                  inversePermutation: storage + shape.diagonalLength))
    }

    /// Frees the tables. The value and its copies must not be used afterwards.
    public func deallocate() { AlignedMemory.free(storage) }

    /// Durstenfeld's Fisher-Yates shuffle of the identity, driven by the block's stream.
    static func drawPermutation(_ out: UnsafeMutablePointer<UInt32>, length: Int, seed: UInt64, block: Int) {
        for i in 0 ..< length { out[i] = UInt32(truncatingIfNeeded: i) }
        var rng = SplitMix64(seed: seed, purpose: .permutation, block: block)
        var i = length - 1
        while i > 0 {
            let j = Int(rng.next(below: UInt64(i + 1)))
            let t = out[i]
            out[i] = out[j]
            out[j] = t
            i -= 1
        }
    }
}

/// The layer for Swift code: owns its LayerCore and frees it with the last reference.
public final class FastfoodLayer: LayerDescription, @unchecked Sendable {
    // @unchecked: immutable after init (see LayerCore).
    public let core: LayerCore

    private init(core: LayerCore) { self.core = core }

    deinit { core.deallocate() }

    /// Draws the permutations from `seed`; nil if their memory cannot be allocated.
    public static func make(shape: LayerShape, seed: UInt64) -> FastfoodLayer? {
        guard let core = LayerCore.make(shape: shape, seed: seed) else { return nil }
        return FastfoodLayer(core: core)
    }
}
