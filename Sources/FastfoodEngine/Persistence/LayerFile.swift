import FastfoodCore
import Glibc

/// The saved form of a layer and its parameters (format version 1), little-endian throughout:
///
///     offset  size  field
///          0     8  magic "FFLAYER\0"
///          8     4  format version (1)
///         12     4  header size in bytes (64)
///         16     8  in_features
///         24     8  out_features
///         32     8  seed
///         40     4  layer flags (FASTFOOD_LAYER_BIAS 1, FASTFOOD_LAYER_NORMALIZED 2)
///         44     4  element type: 1 = float32, 2 = float64 (IEEE 754)
///         48     8  parameter count (must be 3*K*D (+ out_features), as the shape says)
///         56     8  permutation digest: FNV-1a 64 of every permutation entry as a 4-byte LE integer
///         64     -  the parameters, count * element size bytes
///        end     8  CRC-64/XZ of every byte before it
///
/// Loading checks, in order, before writing anything the caller owns: the buffer holds a header;
/// magic; version; header size; the shape is valid; the parameter count matches the shape; the
/// total size matches the buffer exactly (so a lying header can never cause a large allocation
/// or a read past the end); the checksum; then the permutation regenerated from the seed against
/// the stored digest (so a file loads identically on every machine and version, or not at all).
public enum LayerFile {
    public static let magic: [UInt8] = Array("FFLAYER\0".utf8)
    public static let version: UInt32 = 1
    public static let headerSize = 64
    public static let trailerSize = 8

    public enum ElementType: UInt32, Sendable {
        case float32 = 1
        case float64 = 2
        var size: Int { self == .float32 ? 4 : 8 }
    }

    /// What a valid header says.
    public struct Info: Sendable, Equatable {
        public let shape: LayerShape
        public let seed: UInt64
        public let elementType: ElementType
        public let permutationDigest: UInt64
        public var flags: UInt32 { shape.flagBits }
    }

    public enum Failure: Error, Equatable {
        case badFormat(ErrorMessage)
        case unsupportedVersion(UInt32)
    }

    /// Total bytes for a layer's file, or nil if it would overflow.
    public static func size(of shape: LayerShape, _ type: ElementType) -> Int? {
        let (payload, o1) = shape.parameterCount.multipliedReportingOverflow(by: type.size)
        let (total, o2) = payload.addingReportingOverflow(headerSize + trailerSize)
        return o1 || o2 ? nil : total
    }

    /// Writes the file image of `layer` + `params` (parameterCount elements of `type`) into
    /// `buffer`, which holds at least size(of:) bytes.
    public static func write(_ layer: some LayerDescription, params: UnsafeRawPointer, type: ElementType,
                             into buffer: UnsafeMutableRawPointer) {
        let shape = layer.shape
        var out = buffer
        func put(_ bytes: [UInt8]) { for b in bytes { out.storeBytes(of: b, as: UInt8.self); out += 1 } }
        func put32(_ v: UInt32) { out.storeBytes(of: v.littleEndian, toByteOffset: 0, as: UInt32.self); out += 4 }
        func put64(_ v: UInt64) { out.storeBytes(of: v.littleEndian, toByteOffset: 0, as: UInt64.self); out += 8 }
        put(magic)
        put32(version)
        put32(UInt32(headerSize))
        put64(UInt64(shape.inFeatures))
        put64(UInt64(shape.outFeatures))
        put64(layer.seed)
        put32(shape.flagBits)
        put32(type.rawValue)
        put64(UInt64(shape.parameterCount))
        put64(permutationDigest(layer))
        // IEEE 754 little-endian: on x86-64 the bytes are already in order.
        let payload = shape.parameterCount * type.size
        out.copyMemory(from: params, byteCount: payload)
        out += payload
        put64(CRC64.checksum(UnsafeRawPointer(buffer), count: headerSize + payload))
    }

    /// Validates a whole file image (see the type's documentation) and returns its header.
    public static func validate(_ bytes: UnsafeRawPointer, count: Int) throws(Failure) -> Info {
        let info = try validateHeader(bytes, totalSize: count)
        let stored = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: count - trailerSize, as: UInt64.self))
        guard CRC64.checksum(bytes, count: count - trailerSize) == stored else {
            throw .badFormat("checksum mismatch: the data is corrupted")
        }
        return info
    }

    /// Validates the first headerSize bytes of an image of `totalSize` bytes: everything but the
    /// checksum, so a file's size can be checked before it is read.
    public static func validateHeader(_ bytes: UnsafeRawPointer, totalSize count: Int) throws(Failure) -> Info {
        guard count >= headerSize + trailerSize else {
            throw .badFormat("\(count) bytes is too short for a fastfood layer (at least \(headerSize + trailerSize))")
        }
        func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        for (i, b) in magic.enumerated() where bytes.load(fromByteOffset: i, as: UInt8.self) != b {
            throw .badFormat("not a fastfood layer (wrong magic bytes)")
        }
        let fileVersion = u32(8)
        guard fileVersion == version else {
            if fileVersion > version { throw .unsupportedVersion(fileVersion) }
            throw .badFormat("format version \(fileVersion) does not exist")
        }
        guard u32(12) == UInt32(headerSize) else {
            throw .badFormat("header size \(u32(12)) is not \(headerSize)")
        }
        let flags = u32(40)
        guard flags & ~LayerShape.knownFlagBits == 0 else {
            throw .badFormat("unknown layer flag bits 0x\(hex: flags & ~LayerShape.knownFlagBits)")
        }
        guard let type = ElementType(rawValue: u32(44)) else {
            throw .badFormat("element type \(u32(44)) is neither 1 (float32) nor 2 (float64)")
        }
        let (inRaw, outRaw) = (u64(16), u64(24))
        guard inRaw <= UInt64(Int.max), outRaw <= UInt64(Int.max) else {
            throw .badFormat("in_features \(inRaw) or out_features \(outRaw) is out of range")
        }
        let shape: LayerShape
        do throws(LayerShape.Failure) {
            shape = try LayerShape(inFeatures: Int(inRaw), outFeatures: Int(outRaw), hasBias: flags & LayerShape.biasFlag != 0,
                               isNormalized: flags & LayerShape.normalizedFlag != 0)
        } catch {
            throw .badFormat("in_features \(inRaw) and out_features \(outRaw) do not describe a valid layer")
        }
        guard u64(48) == UInt64(shape.parameterCount) else {
            throw .badFormat("parameter count \(u64(48)) does not match the shape (\(shape.parameterCount))")
        }
        guard let expected = size(of: shape, type) else {
            throw .badFormat("size is \(count) bytes but the header describes more than an address space holds")
        }
        guard expected == count else {
            throw .badFormat("size is \(count) bytes but the header describes \(expected)")
        }
        return Info(shape: shape, seed: u64(32), elementType: type, permutationDigest: u64(56))
    }

    /// Copies the parameters of a validated image into `params`.
    public static func readParameters(_ bytes: UnsafeRawPointer, _ info: Info, into params: UnsafeMutableRawPointer) {
        params.copyMemory(from: bytes + headerSize, byteCount: info.shape.parameterCount * info.elementType.size)
    }

    /// FNV-1a 64 of the permutation entries, each as 4 little-endian bytes.
    static func permutationDigest(_ layer: some LayerDescription) -> UInt64 {
        digest(of: layer.core.storage, count: layer.shape.diagonalLength)
    }

    /// The digest of the permutations `shape` and `seed` draw, drawn block by block into
    /// `block` (blockSize entries): what a file must store, without building the layer.
    static func permutationDigest(_ shape: LayerShape, seed: UInt64, block: UnsafeMutablePointer<UInt32>) -> UInt64 {
        var hash = fnvOffset
        for k in 0 ..< shape.blockCount {
            LayerCore.drawPermutation(block, length: shape.blockSize, seed: seed, block: k)
            hash = digest(of: block, count: shape.blockSize, continuing: hash)
        }
        return hash
    }

    private static let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325

    private static func digest(of entries: UnsafePointer<UInt32>, count: Int, continuing start: UInt64 = fnvOffset) -> UInt64 {
        var hash = start
        for i in 0 ..< count {
            var entry = entries[i]
            for _ in 0 ..< 4 {
                hash = (hash ^ UInt64(entry & 0xff)) &* 0x0000_0100_0000_01b3
                entry >>= 8
            }
        }
        return hash
    }
}

/// CRC-64/XZ (ECMA-182 polynomial, reflected, initial and final value all ones): the checksum of
/// xz files. Any single-bit error, and any burst up to 64 bits, changes it.
enum CRC64 {
    static let table: [UInt64] = (0 ..< 256).map { n in
        var crc = UInt64(n)
        for _ in 0 ..< 8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xc96c_5795_d787_0f42 : crc >> 1 }
        return crc
    }

    static func checksum(_ bytes: UnsafeRawPointer, count: Int) -> UInt64 {
        var crc: UInt64 = ~0
        table.withUnsafeBufferPointer { t in
            for i in 0 ..< count {
                let byte = bytes.load(fromByteOffset: i, as: UInt8.self)
                crc = t[Int((crc ^ UInt64(byte)) & 0xff)] ^ (crc >> 8)
            }
        }
        return ~crc
    }
}

