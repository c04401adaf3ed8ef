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
    public static func permutationDigest(_ layer: some LayerDescription) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0 ..< layer.shape.diagonalLength {
            var entry = UInt32(truncatingIfNeeded: layer.permutationEntry(i))
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

/// Whole-file reads and atomic writes with POSIX calls, reporting failures as sentences.
///
/// Paths are bytes, as POSIX has them: they go to the system exactly as the caller gave them
/// (no UTF-8 decoding, which would turn "a\xff" into another name), and appear in messages with
/// bytes that are not UTF-8 written as \xNN.
public enum FileIO {
    public struct Failure: Error {
        public let message: ErrorMessage
    }

    private static func describe(_ what: StaticString, _ path: UnsafePointer<CChar>) -> Failure {
        Failure(message: "\(what) '\(path: path)': \(cString: strerror(errno))")
    }

    /// Writes `count` bytes to `path` atomically: a temporary file in the same directory,
    /// flushed to disk, renamed over `path`, and the directory flushed. On failure the
    /// temporary file is removed and any previous file at `path` is untouched.
    ///
    /// A symbolic link at `path` is followed: the file it points to is replaced (atomically, in
    /// that file's directory) and the link stays. The temporary file is ".fastfood-XXXXXX" in
    /// that directory, so any valid file name (up to NAME_MAX bytes) can be saved.
    public static func writeAtomically(_ path: UnsafePointer<CChar>, _ bytes: UnsafeRawPointer, count: Int) throws(Failure) {
        var target = path
        var resolved: UnsafeMutablePointer<CChar>? = nil
        defer { free(resolved) }
        var linkStatus = stat()
        if lstat(path, &linkStatus) == 0 && linkStatus.st_mode & S_IFMT == S_IFLNK {
            guard let real = realpath(path, nil) else {
                throw describe("cannot follow the symbolic link", path)
            }
            resolved = real
            target = UnsafePointer(real)
        }
        // Directory part of the target, as bytes: "." without a slash, "/" for a root entry.
        // Names live in malloc'd memory (a Swift array that cannot be allocated would abort).
        let length = strlen(target)
        var slash = -1
        for i in 0 ..< length where target[i] == 0x2f { slash = i }
        let directoryLength = slash < 0 ? 1 : max(slash, 1)
        let suffix: StaticString = "/.fastfood-XXXXXX"
        guard let names = malloc(2 * (directoryLength + suffix.utf8CodeUnitCount + 1))?
            .bindMemory(to: CChar.self, capacity: 2 * (directoryLength + suffix.utf8CodeUnitCount + 1))
        else {
            errno = ENOMEM
            throw describe("cannot allocate a temporary file name next to", path)
        }
        defer { free(names) }
        let directory = names, temporary = names + directoryLength + 1
        if slash < 0 { directory[0] = 0x2e } else { memcpy(directory, target, directoryLength) }
        directory[directoryLength] = 0
        memcpy(temporary, directory, directoryLength)
        suffix.withUTF8Buffer { bytes in
            for (i, byte) in bytes.enumerated() { temporary[directoryLength + i] = CChar(bitPattern: byte) }
        }
        temporary[directoryLength + suffix.utf8CodeUnitCount] = 0

        let fd = mkstemp(temporary)
        guard fd >= 0 else { throw describe("cannot create a temporary file next to", path) }
        // mkstemp makes the file private (0600): give it the mode of the file it replaces, or the
        // usual 0644 for a new one.
        var existing = stat()
        fchmod(fd, stat(target, &existing) == 0 ? existing.st_mode & 0o777 : 0o644)
        var failure: Failure?
        var written = 0
        while written < count && failure == nil {
            let n = write(fd, bytes + written, count - written)
            if n < 0 {
                if errno == EINTR { continue }
                failure = describe("cannot write", temporary)
            } else {
                written += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = describe("cannot flush", temporary) }
        if close(fd) != 0 && failure == nil { failure = describe("cannot close", temporary) }
        if failure == nil && rename(temporary, target) != 0 {
            failure = describe("cannot rename the temporary file to", path)
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        // Make the rename itself durable.
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    public enum LoadFailure: Error {
        case io(ErrorMessage)
        case outOfMemory(ErrorMessage)
        case format(LayerFile.Failure)
    }

    /// Reads a layer file into memory from `malloc` (the caller frees it). The header is read and
    /// checked against the file's real size first, so only a consistent file is read in full.
    public static func readLayerFile(_ path: UnsafePointer<CChar>) throws(LoadFailure) -> (UnsafeMutableRawPointer, Int) {
        // O_NONBLOCK: opening a FIFO must not wait for a writer (it is rejected just below);
        // on a regular file the flag changes nothing.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .io(describe("cannot open", path).message) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .io(describe("cannot stat", path).message) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw .io("'\(path: path)' is not a regular file") }
        let size = Int(status.st_size)
        guard size >= LayerFile.headerSize + LayerFile.trailerSize else {
            throw .format(.badFormat("'\(path: path)' is \(size) bytes, too short for a fastfood layer"))
        }
        // The header alone first: only a file whose header matches its real size is read in full.
        guard let header = malloc(LayerFile.headerSize) else { throw .outOfMemory("cannot allocate a header buffer") }
        defer { free(header) }
        try readExactly(fd, header, count: LayerFile.headerSize, path: path)
        do throws(LayerFile.Failure) { _ = try LayerFile.validateHeader(UnsafeRawPointer(header), totalSize: size) }
        catch { throw .format(error) }
        guard let buffer = malloc(size) else {
            throw .outOfMemory("cannot allocate \(size) bytes to read '\(path: path)'")
        }
        buffer.copyMemory(from: header, byteCount: LayerFile.headerSize)
        do throws(LoadFailure) { try readExactly(fd, buffer + LayerFile.headerSize, count: size - LayerFile.headerSize, path: path) }
        catch { free(buffer); throw error }
        return (buffer, size)
    }

    private static func readExactly(_ fd: Int32, _ destination: UnsafeMutableRawPointer, count: Int,
                                    path: UnsafePointer<CChar>) throws(LoadFailure) {
        var done = 0
        while done < count {
            let n = read(fd, destination + done, count - done)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw .io(describe("cannot read", path).message) }
            if n == 0 { throw .format(.badFormat("'\(path: path)' ended early (it changed while it was read)")) }
            done += n
        }
    }
}
