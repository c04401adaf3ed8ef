import Glibc

/// Grow-only, 64-byte-aligned work buffers per calling thread, freed when the thread exits.
///
/// Every compute call takes all its temporary memory here, sized for every worker that will help
/// it, before it writes any output: an allocation failure is reported with nothing modified, and
/// after the first call of a given size on a thread no call allocates again.
///
/// A call holds its buffer (a Lease) until it returns. A thread can be inside two calls at once:
/// an executor (fastfood_set_executor) may make fastfood calls from the thread whose call it is
/// running. The inner call then gets the thread's next buffer, not the outer call's: sharing it
/// overwrote the outer call's partial gradients, and freed it when the inner call needed more.
enum ThreadScratch {
    /// A call's work buffer, at least the bytes it asked for; the thread's until release().
    struct Lease {
        let buffer: UnsafeMutableRawPointer
        fileprivate let level: UnsafeMutablePointer<Level>

        func release() { level.pointee.inUse = false }
    }

    /// The thread's first buffer (pthread-specific); each level links to the one a call nested in
    /// it uses.
    private static let key: pthread_key_t? = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { raw in
            var level = raw?.assumingMemoryBound(to: Level.self)
            while let current = level {
                level = current.pointee.next
                Glibc.free(current.pointee.buffer)
                Glibc.free(current)
            }
        }
        return created == 0 ? key : nil
    }()

    /// The calling thread's first buffer that no call of this thread holds, grown to at least
    /// `bytes`; nil if memory is exhausted. Contents are not preserved between leases.
    static func lease(bytes: Int) -> Lease? {
        guard let key else { return nil }
        var level: UnsafeMutablePointer<Level>
        if let first = pthread_getspecific(key) {
            level = first.assumingMemoryBound(to: Level.self)
        } else {
            guard let first = Level.make() else { return nil }
            guard pthread_setspecific(key, first) == 0 else {
                Glibc.free(first)
                return nil
            }
            level = first
        }
        while level.pointee.inUse {
            if let next = level.pointee.next {
                level = next
            } else {
                guard let next = Level.make() else { return nil }
                level.pointee.next = next
                level = next
            }
        }
        if level.pointee.buffer == nil || level.pointee.capacity < bytes {
            Glibc.free(level.pointee.buffer)
            (level.pointee.buffer, level.pointee.capacity) = (nil, 0)
            var fresh: UnsafeMutableRawPointer?
            guard posix_memalign(&fresh, AlignedMemory.alignment, max(bytes, 64)) == 0, let fresh else {
                return nil
            }
            (level.pointee.buffer, level.pointee.capacity) = (fresh, bytes)
        }
        guard let buffer = level.pointee.buffer else { return nil }
        level.pointee.inUse = true
        return Lease(buffer: buffer, level: level)
    }
}

/// One buffer of a thread's chain.
fileprivate struct Level {
    var buffer: UnsafeMutableRawPointer?
    var capacity: Int
    var inUse: Bool
    var next: UnsafeMutablePointer<Level>?

    /// A new, empty level (malloc'd: it outlives every call, until the thread exits).
    static func make() -> UnsafeMutablePointer<Level>? {
        guard let raw = malloc(MemoryLayout<Level>.stride) else { return nil }
        let level = raw.bindMemory(to: Level.self, capacity: 1)
        level.initialize(to: Level(buffer: nil, capacity: 0, inUse: false, next: nil))
        return level
    }
}

extension ThreadScratch {
    /// Sizes of a call's scratch regions, rounded to whole cache lines, with overflow reported as nil.
    enum Size {
        static func region<T>(_ type: T.Type, count: Int) -> Int? {
            let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
            guard !overflow, bytes <= Int.max - 64 else { return nil }
            return (bytes + 63) / 64 * 64
        }

        /// a + b * c, or nil on overflow.
        static func total(_ a: Int, plus b: Int, times c: Int) -> Int? {
            let (product, o1) = b.multipliedReportingOverflow(by: c)
            let (sum, o2) = a.addingReportingOverflow(product)
            return o1 || o2 ? nil : sum
        }
    }
}
