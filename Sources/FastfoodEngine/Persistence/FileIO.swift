import FastfoodCore
import Glibc

/// Whole-file reads and atomic writes with POSIX calls, reporting failures as sentences.
///
/// Paths are bytes, as POSIX has them: they go to the system exactly as the caller gave them
/// (no UTF-8 decoding, which would turn "a\xff" into another name), and appear in messages with
/// bytes that are not UTF-8 written as \xNN.
enum FileIO {
    struct Failure: Error {
        let message: ErrorMessage
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
    static func writeAtomically(_ path: UnsafePointer<CChar>, _ bytes: UnsafeRawPointer, count: Int) throws(Failure) {
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

        let fd = createTemporary(temporary, nameLength: directoryLength + suffix.utf8CodeUnitCount)
        guard fd >= 0 else { throw describe("cannot create a temporary file next to", path) }
        // A replaced file keeps its mode; a new one has what the process's umask (and the
        // directory's default ACL) give 0666, as for any file the caller creates.
        var existing = stat()
        if stat(target, &existing) == 0 { fchmod(fd, existing.st_mode & 0o777) }
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

    /// Creates and opens (write-only, close-on-exec) a new file named by `name`, whose last six
    /// bytes are replaced by random letters and digits until the name is free. Not mkstemp: it
    /// makes the file 0600 whatever the umask, and its descriptor would leak into a program that
    /// another thread of the caller's process starts meanwhile. Returns -1 with errno set.
    private static func createTemporary(_ name: UnsafeMutablePointer<CChar>, nameLength: Int) -> Int32 {
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        // Distinct per process, thread (the stack address) and moment; EEXIST covers the rest.
        var local: UInt8 = 0
        let place = withUnsafePointer(to: &local) { UInt64(UInt(bitPattern: $0)) }
        var random = SplitMix64(state: UInt64(truncatingIfNeeded: now.tv_sec) &* 1_000_000_007
            ^ UInt64(truncatingIfNeeded: now.tv_nsec) ^ UInt64(truncatingIfNeeded: getpid()) << 40 ^ place)
        for _ in 0 ..< 1000 {
            var bits = random.next()
            for i in nameLength - 6 ..< nameLength {
                name[i] = CChar(bitPattern: alphabet.utf8Start[Int(bits % 62)])
                bits /= 62
            }
            let fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 || (errno != EEXIST && errno != EINTR) { return fd }
        }
        return -1  // errno is EEXIST
    }

    enum LoadFailure: Error {
        case io(ErrorMessage)
        case outOfMemory(ErrorMessage)
        case format(LayerFile.Failure)
    }

    /// Reads a layer file into memory from `malloc` (the caller frees it). The header is read and
    /// checked against the file's real size first, so only a consistent file is read in full.
    static func readLayerFile(_ path: UnsafePointer<CChar>) throws(LoadFailure) -> (UnsafeMutableRawPointer, Int) {
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
