import FastfoodCPU

/// Which calls write their output with non-temporal stores (the tile path's whole, 64-byte
/// aligned vectors, in the AVX-512 variant; ForwardUnit.streamsOutput, BackwardUnit.streamsDX):
/// those whose output (a forward's y, batch x outFeatures elements, 2 outFeatures for random
/// features; a backward's dx when stored, not added) takes at least a quarter of the CPU's largest
/// cache, the size at which glibc 2.38's memcpy turns to them too. An output that large would not
/// stay in the cache for its reader anyway, and a plain store first reads each line into the
/// cache, evicting something else. On AMD EPYC Zen 4 (32 MiB L3), 128 rows, one thread: the
/// features forward 0.79-0.85x at 16384 (16 MiB) and 0.89-0.95x at 8192 (8 MiB), the plain forward
/// 0.84-0.90x and the backward 0.93-0.96x at 16384 (8 MiB); with the output read once right after
/// the call, 0.82-0.94x / 0.92-1.07x / 0.89-0.97x / 0.93x. Below the threshold they did not pay:
/// 1.00-1.09x at 4096 (benchmarks/README.md, "Non-temporal stores"). Values are bit for bit the
/// same.
///
/// FASTFOOD_STREAM_BYTES (a decimal byte count, read once, on first use) replaces the threshold:
/// 0 streams every output of the tile path; anything larger than the outputs never.
enum StreamingStores {
    static let minimumBytes: Int = {
        if let bytes = Environment.decimal("FASTFOOD_STREAM_BYTES", limit: Int.max) { return bytes }
        let cache = fastfood_internal_last_level_cache_bytes()
        return cache > 0 ? cache / 4 : Int.max
    }()

    /// Whether a call whose output is `elements` elements of T streams it.
    static func pays<T>(outputElements elements: Int, of _: T.Type) -> Bool {
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        return overflow || bytes >= minimumBytes
    }
}
