import CFastfood
import FastfoodEngine

// The process-wide thread count and executor, and the kernel variant in use.

@c @implementation
public func fastfood_set_num_threads(_ n: Int) -> fastfood_status {
    exported("fastfood_set_num_threads") { () throws(BoundaryError) in
        guard n >= 0, n <= Threading.maxThreadCount else {
            throw .invalidArgument("n (\(unsigned(n))) exceeds the maximum of \(Threading.maxThreadCount) threads (0 means one per CPU)")
        }
        guard Threading.setThreadCount(n) else { throw insideExecutor }
    }
}

@c @implementation
public func fastfood_get_num_threads() -> Int {
    Threading.threadCount
}

@c @implementation
public func fastfood_cpu_variant() -> UnsafePointer<CChar>? {
    UnsafeRawPointer(kernelVariant.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c @implementation
public func fastfood_set_executor(_ executor: fastfood_executor?, _ context: UnsafeMutableRawPointer?) -> fastfood_status {
    exported("fastfood_set_executor") { () throws(BoundaryError) in
        guard Threading.setExecutor(executor.map { Executor(function: $0, context: context) }) else {
            throw insideExecutor
        }
    }
}

/// fastfood_set_num_threads or fastfood_set_executor called by an executor on the thread whose
/// call it is running: both wait for the call in flight, which would never end.
private var insideExecutor: BoundaryError {
    .invalidArgument("called by an executor on the thread whose call it is running (it would wait for that call to finish, which never happens)")
}
