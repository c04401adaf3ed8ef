/// The sizes of a Fastfood layer and of its parameter layout, with overflow-checked arithmetic.
public struct LayerShape: Sendable, Equatable {
    public let inFeatures: Int
    public let outFeatures: Int
    /// D: the smallest power of two >= inFeatures.
    public let blockSize: Int
    public let log2BlockSize: Int
    /// K = ceil(outFeatures / D).
    public let blockCount: Int
    public let hasBias: Bool
    /// Each H is orthonormal (H / sqrt(D)): the layer computes (S / D) H G PI H B x, so S, G, B
    /// and their gradients are all O(1) (FASTFOOD_LAYER_NORMALIZED).
    public let isNormalized: Bool

    /// Largest accepted inFeatures (and block size). Keeps permutation entries in 32 bits.
    public static let maxInFeatures = 1 << 30

    public enum Failure: Error, Equatable {
        case zeroInFeatures
        case zeroOutFeatures
        case inFeaturesTooLarge
        /// The parameter array would not fit in the address space (in bytes of Double).
        case parameterCountOverflows
    }

    public init(inFeatures: Int, outFeatures: Int, hasBias: Bool, isNormalized: Bool = false) throws(Failure) {
        // Negative values are sizes >= 2^63 seen through a C size_t: too large, not zero.
        guard inFeatures != 0 else { throw .zeroInFeatures }
        guard outFeatures != 0 else { throw .zeroOutFeatures }
        guard inFeatures > 0, inFeatures <= LayerShape.maxInFeatures else { throw .inFeaturesTooLarge }
        guard outFeatures > 0 else { throw .parameterCountOverflows }
        var log2 = 0
        while (1 << log2) < inFeatures { log2 += 1 }
        let blockSize = 1 << log2
        // ceil(out / D) without overflowing out + D - 1.
        let blockCount = outFeatures / blockSize + (outFeatures % blockSize == 0 ? 0 : 1)
        // 3*K*D (+ out) elements of 8 bytes must stay addressable.
        let (kd, o1) = blockCount.multipliedReportingOverflow(by: blockSize)
        let (threeKD, o2) = kd.multipliedReportingOverflow(by: 3)
        let (total, o3) = threeKD.addingReportingOverflow(hasBias ? outFeatures : 0)
        let (_, o4) = total.multipliedReportingOverflow(by: MemoryLayout<Double>.stride)
        guard !(o1 || o2 || o3 || o4) else { throw .parameterCountOverflows }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.blockSize = blockSize
        self.log2BlockSize = log2
        self.blockCount = blockCount
        self.hasBias = hasBias
        self.isNormalized = isNormalized
    }

    /// K * D: the length of each of the S, G and B sections.
    public var diagonalLength: Int { blockCount * blockSize }

    /// 3*K*D, plus outFeatures with a bias (the sections: ParameterLayout).
    public var parameterCount: Int { 3 * diagonalLength + (hasBias ? outFeatures : 0) }

    /// How many outputs block k produces after truncation to outFeatures.
    @inline(__always)
    public func outputsOfBlock(_ k: Int) -> Int {
        min(blockSize, outFeatures - k * blockSize)
    }
}

extension LayerShape {
    /// The layer flag bits as fastfood.h and the file format spell them.
    public static let biasFlag: UInt32 = 0x1
    public static let normalizedFlag: UInt32 = 0x2
    public static let knownFlagBits: UInt32 = biasFlag | normalizedFlag

    public var flagBits: UInt32 { (hasBias ? LayerShape.biasFlag : 0) | (isNormalized ? LayerShape.normalizedFlag : 0) }
}
