import Glibc

/// Aligned heap memory that reports failure instead of trapping.
///
/// Swift's own allocators terminate the process when memory runs out; a library inside someone
/// else's training process must return an error instead, so every engine allocation goes here.
enum AlignedMemory {
    /// 64 bytes: one cache line, one 512-bit vector.
    static let alignment = 64

    /// `count` uninitialised elements, or nil if the size overflows or memory is exhausted.
    static func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T>? {
        let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !overflow else { return nil }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, alignment, bytes) == 0, let raw else { return nil }
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    static func free<T>(_ pointer: UnsafeMutablePointer<T>) {
        Glibc.free(pointer)
    }
}
