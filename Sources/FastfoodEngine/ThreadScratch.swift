import Glibc

/// One grow-only, 64-byte-aligned work buffer per calling thread, freed when the thread exits.
///
/// Every compute call takes all its temporary memory here, sized for every worker that will help
/// it, before it writes any output: an allocation failure is reported with nothing modified, and
/// after the first call of a given size on a thread no call allocates again.
enum ThreadScratch {
    private struct Slot {
        var buffer: UnsafeMutableRawPointer?
        var capacity: Int
    }

    private static let key: pthread_key_t? = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { raw in
            guard let raw else { return }
            let slot = raw.assumingMemoryBound(to: Slot.self)
            Glibc.free(slot.pointee.buffer)
            Glibc.free(raw)
        }
        return created == 0 ? key : nil
    }()

    /// The calling thread's buffer, at least `bytes` long; nil if memory is exhausted. The
    /// contents are not preserved across calls that need to grow it.
    static func buffer(bytes: Int) -> UnsafeMutableRawPointer? {
        guard let key else { return nil }
        let slot: UnsafeMutablePointer<Slot>
        if let existing = pthread_getspecific(key) {
            slot = existing.assumingMemoryBound(to: Slot.self)
        } else {
            guard let raw = malloc(MemoryLayout<Slot>.stride) else { return nil }
            slot = raw.bindMemory(to: Slot.self, capacity: 1)
            slot.initialize(to: Slot(buffer: nil, capacity: 0))
            guard pthread_setspecific(key, raw) == 0 else {
                Glibc.free(raw)
                return nil
            }
        }
        if slot.pointee.capacity < bytes {
            Glibc.free(slot.pointee.buffer)
            slot.pointee = Slot(buffer: nil, capacity: 0)
            var fresh: UnsafeMutableRawPointer?
            guard posix_memalign(&fresh, AlignedMemory.alignment, max(bytes, 64)) == 0, let fresh else {
                return nil
            }
            slot.pointee = Slot(buffer: fresh, capacity: bytes)
        }
        return slot.pointee.buffer
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
