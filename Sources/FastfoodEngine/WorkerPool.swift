import FastfoodCPU
import Glibc
import Synchronization

/// A persistent pool of worker threads shared by every call in the process.
///
/// `run(tasks:maxWorkers:_:)` hands out task indices 0 ..< tasks to the calling thread (worker 0)
/// and up to maxWorkers - 1 pool threads (workers 1 ...). Which worker runs which task varies;
/// the kernels make results independent of that (per-task outputs, fixed reduction order).
/// One job runs at a time: a call that finds the pool busy runs its tasks on its own thread,
/// which gives the same results.
///
/// Waking a sleeping thread takes 20-25 us here, longer than a 16-row tile of a 1024-wide layer
/// takes to compute; with a wake-up at the start of each job and another at its end, a 2-thread
/// 128 x 4096 forward took about 60 us over its ideal 285 (about 10 with polling). So pool
/// threads poll for `spinNanoseconds` after a job before they sleep, and the caller polls for
/// the last tasks before it sleeps: back-to-back calls, as in a training loop, find their
/// workers awake.
enum WorkerPool {
    // Process-wide state in static storage, not a class instance: nothing here is allocated, so
    // the first call can run, and fail with a status, when memory is exhausted (an allocation
    // that fails in Swift aborts the process). Every `nonisolated(unsafe) static var` is read and
    // written only with `mutex` held; the atomics mirror some of them for reading without it.

    // Statically initialised pthread objects in the library's data (process_state.c): a
    // pthread object must stay at one address, which a Swift global does not promise.
    nonisolated(unsafe) private static let mutex = fastfood_internal_pool_mutex()!
    nonisolated(unsafe) private static let workAvailable = fastfood_internal_pool_work_available()!
    nonisolated(unsafe) private static let jobFinished = fastfood_internal_pool_job_finished()!

    /// The thread count, mirrored for a forked child, which must not touch the mutex (another
    /// thread of the parent may have held it at the fork). It starts at the default
    /// (FASTFOOD_NUM_THREADS or the usable CPUs), read when the library is first used.
    private static let configuredHint = Atomic<Int>(defaultThreadCount())
    /// Threads in use including the caller (>= 1).
    nonisolated(unsafe) private static var configured = configuredHint.load(ordering: .relaxed)
    /// Pool threads started (0 until the first parallel job: loading the library starts none).
    nonisolated(unsafe) private static var started = 0
    /// Pool threads with an index above this (indices start at 1) exit.
    nonisolated(unsafe) private static var keep = Int.max
    nonisolated(unsafe) private static var exited = 0

    nonisolated(unsafe) private static var busy = false
    /// The job in flight: a pointer to the caller's job value, which lives on the caller's stack
    /// for the whole job, and a capture-free function that runs one of its tasks. (A stored
    /// closure would put its context on the heap: one allocation per call.)
    nonisolated(unsafe) private static var job: UnsafeRawPointer?
    nonisolated(unsafe) private static var invoke: ((UnsafeRawPointer, Int, Int) -> Void)?
    /// Tasks not yet claimed: nextTask ..< endTask. The caller claims from the front, pool threads
    /// from the back, so from call to call each tends to get the same rows (their data is still in
    /// its own cache), and they still balance dynamically where they meet.
    nonisolated(unsafe) private static var nextTask = 0
    nonisolated(unsafe) private static var endTask = 0
    nonisolated(unsafe) private static var unfinished = 0
    nonisolated(unsafe) private static var workerLimit = 0
    /// The caller's floating-point control bits (MXCSR) for the job in flight: pool threads
    /// compute under them, so the rounding mode and flush-to-zero are the caller's on every thread.
    nonisolated(unsafe) private static var fpControl: UInt32 = 0
    /// Jobs posted so far (with `mutex` held), and its mirror for polling without the mutex.
    nonisolated(unsafe) private static var postedJobs = 0
    private static let postedJobsHint = Atomic<Int>(0)
    /// `unfinished`, mirrored for polling without the mutex.
    private static let unfinishedHint = Atomic<Int>(0)
    /// The caller's parallel-for (fastfood_set_executor), or nil: calls then use the pool threads.
    nonisolated(unsafe) private static var executor: Executor?
    /// The flags of the executor call in flight (ExecutorCall), grown to the largest call so far.
    nonisolated(unsafe) private static var executorFlags: UnsafeMutablePointer<UInt8>?
    nonisolated(unsafe) private static var executorFlagsCapacity = 0
    /// The thread whose call the executor is running, while it runs: setThreadCount or
    /// setExecutor from that thread would wait for its own call (they refuse instead).
    nonisolated(unsafe) private static var executorCaller: pthread_t?
    /// How long a thread polls before it sleeps on a condition variable.
    static let spinNanoseconds = 100_000

    /// In a child process forked from the one that loaded the library the pool threads do not
    /// exist, the mutex may be held by a thread that does not either, and the Swift runtime's
    /// thread-local caches are the parent's: every call there runs on the calling thread, and
    /// the thread count is only recorded.
    private static var inForkedChild: Bool { fastfood_internal_in_forked_child() != 0 }

    /// FASTFOOD_NUM_THREADS if it is a positive integer (at most maxThreads), else the number of
    /// usable CPUs.
    static func defaultThreadCount() -> Int {
        environmentThreadCount() ?? usableProcessors()
    }

    /// FASTFOOD_NUM_THREADS as a positive decimal integer (an optional +, then digits only; larger
    /// than maxThreads means maxThreads), else nil.
    private static func environmentThreadCount() -> Int? {
        guard let value = Environment.decimal("FASTFOOD_NUM_THREADS", limit: maxThreads + 1), value > 0 else { return nil }
        return min(value, maxThreads)
    }

    /// The CPUs the calling thread may run on (its affinity: a process under taskset or in a
    /// container with a cpuset gets one thread per CPU it has, not per CPU of the machine).
    static func usableProcessors() -> Int {
        max(1, min(Int(fastfood_internal_usable_cpus()), maxThreads))
    }

    static let maxThreads = 1024

    static var threadCount: Int {
        if WorkerPool.inForkedChild { return configuredHint.load(ordering: .relaxed) }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return configured
    }

    /// Sets the number of threads used by later calls (>= 1, <= maxThreads). Waits for a job in
    /// flight to finish. Surplus pool threads exit; new ones start with the next parallel job.
    /// Returns false, changing nothing, when called from inside an executor call on the thread
    /// whose call it runs.
    static func setThreadCount(_ count: Int) -> Bool {
        if WorkerPool.inForkedChild {
            configuredHint.store(count, ordering: .relaxed)
            return true
        }
        guard lockWhenIdle() else { return false }
        configured = count
        configuredHint.store(count, ordering: .relaxed)
        endPoolThreads(keeping: count - 1)
        pthread_mutex_unlock(mutex)
        return true
    }

    /// Runs later parallel calls on `newExecutor` (nil: on the pool threads). Waits for a job in
    /// flight to finish; installing one ends the pool threads (a call it declines starts them
    /// again). A forked child runs every call on its calling thread and records nothing.
    /// Returns false, changing nothing, as setThreadCount.
    static func setExecutor(_ newExecutor: Executor?) -> Bool {
        if WorkerPool.inForkedChild { return true }
        guard lockWhenIdle() else { return false }
        executor = newExecutor
        if newExecutor != nil { endPoolThreads(keeping: 0) }
        pthread_mutex_unlock(mutex)
        return true
    }

    /// Locks the mutex once no job is in flight. False, with the mutex not held, when the calling
    /// thread is the one whose call the executor is running: that job ends only after we return.
    private static func lockWhenIdle() -> Bool {
        pthread_mutex_lock(mutex)
        if let executorCaller, pthread_equal(executorCaller, pthread_self()) != 0 {
            pthread_mutex_unlock(mutex)
            return false
        }
        while busy { pthread_cond_wait(jobFinished, mutex) }
        return true
    }

    /// Ends the pool threads beyond the first `count` (mutex held, no job in flight).
    private static func endPoolThreads(keeping count: Int) {
        guard started > count else { return }
        // Ask the surplus threads to exit and wait until they have. The pool counts as busy
        // meanwhile (the wait releases the mutex): a concurrent call then runs on its own
        // thread instead of starting pool threads, which could be miscounted as leaving and
        // leave two threads with one index (one scratch slot).
        busy = true
        keep = count
        exited = 0
        let leaving = started - count
        pthread_cond_broadcast(workAvailable)
        while exited < leaving { pthread_cond_wait(jobFinished, mutex) }
        started = count
        keep = Int.max
        busy = false
        pthread_cond_broadcast(jobFinished)
    }

    /// Runs job.run(task:worker:) for every task in 0 ..< tasks, on at most maxWorkers threads
    /// (worker indices 0 ..< maxWorkers; the caller is worker 0), or on the installed executor.
    /// Returns when all are done; throws when the executor broke its contract.
    static func run<Job: PoolJob>(tasks: Int, maxWorkers: Int, _ job: Job) throws(ComputeFailure) {
        let workers = min(maxWorkers, tasks)
        if workers <= 1 || WorkerPool.inForkedChild {
            for task in 0 ..< tasks { job.run(task: task, worker: 0) }
            return
        }
        pthread_mutex_lock(mutex)
        if busy {
            pthread_mutex_unlock(mutex)
            for task in 0 ..< tasks { job.run(task: task, worker: 0) }
            return
        }
        if let executor {
            switch runOnExecutor(executor, tasks: tasks, workers: workers, job) {
            case .ran:
                pthread_mutex_unlock(mutex)
                return
            case .brokeContract:
                pthread_mutex_unlock(mutex)
                throw .executorBrokeContract
            case .declined:
                break  // the pool threads run it, as without an executor
            }
        }
        ensureStarted(workers - 1)
        withUnsafePointer(to: job) { pointer in
            WorkerPool.job = UnsafeRawPointer(pointer)
            invoke = { raw, task, worker in
                raw.assumingMemoryBound(to: Job.self).pointee.run(task: task, worker: worker)
            }
            busy = true
            nextTask = 0
            endTask = tasks
            unfinished = tasks
            unfinishedHint.store(tasks, ordering: .releasing)
            workerLimit = min(workers, started + 1)
            fpControl = UInt32(fastfood_internal_fp_control())
            postedJobs += 1
            postedJobsHint.store(postedJobs, ordering: .releasing)
            pthread_cond_broadcast(workAvailable)
            // The caller works too.
            while nextTask < endTask {
                let task = nextTask
                nextTask += 1
                pthread_mutex_unlock(mutex)
                job.run(task: task, worker: 0)
                pthread_mutex_lock(mutex)
                unfinished -= 1
                unfinishedHint.store(unfinished, ordering: .releasing)
            }
            if unfinished > 0 {
                pthread_mutex_unlock(mutex)
                WorkerPool.poll(until: { unfinishedHint.load(ordering: .acquiring) == 0 })
                pthread_mutex_lock(mutex)
            }
            while unfinished > 0 { pthread_cond_wait(jobFinished, mutex) }
            WorkerPool.job = nil
            invoke = nil
            busy = false
            pthread_cond_broadcast(jobFinished)
        }
        pthread_mutex_unlock(mutex)
    }

    /// Hands the job to the executor (mutex held on entry and on return, released while the
    /// executor runs; the pool counts as busy meanwhile, so one job at a time uses it).
    private static func runOnExecutor<Job: PoolJob>(_ executor: Executor, tasks: Int, workers: Int, _ job: Job)
        -> ExecutorOutcome {
        let bytes = ExecutorCall.flagBytes(tasks: tasks, workers: workers)
        if bytes > executorFlagsCapacity {
            // Grown to the largest call so far: later calls of that size allocate nothing.
            guard let grown = malloc(bytes) else { return .declined }
            free(executorFlags)
            executorFlags = grown.bindMemory(to: UInt8.self, capacity: bytes)
            executorFlagsCapacity = bytes
        }
        guard let flags = executorFlags else { return .declined }
        flags.update(repeating: 0, count: bytes)
        busy = true
        executorCaller = pthread_self()
        pthread_mutex_unlock(mutex)
        let outcome = withUnsafePointer(to: job) { pointer in
            var call = ExecutorCall(
                job: UnsafeRawPointer(pointer),
                invoke: { raw, task, worker in
                    raw.assumingMemoryBound(to: Job.self).pointee.run(task: task, worker: worker)
                },
                tasks: tasks, workers: workers, flags: flags, fpControl: fastfood_internal_fp_control())
            return withUnsafeMutablePointer(to: &call) { call -> ExecutorOutcome in
                let ran = executor.function(executor.context, UnsafeMutableRawPointer(call), executorTask, tasks, workers)
                if ran == 0 { return call.pointee.touched ? .brokeContract : .declined }
                return call.pointee.completed ? .ran : .brokeContract
            }
        }
        pthread_mutex_lock(mutex)
        busy = false
        executorCaller = nil
        pthread_cond_broadcast(jobFinished)
        return outcome
    }

    /// Starts pool threads up to `count` (mutex held). A thread that cannot be created is simply
    /// not used: the job runs on fewer threads with the same results.
    private static func ensureStarted(_ count: Int) {
        while started < count {
            // The worker's index travels as the argument's bit pattern: no context object to
            // allocate (a Swift allocation that fails aborts the process). The thread blocks the
            // asynchronous signals, which are the caller's threads' to handle.
            let index = UnsafeMutableRawPointer(bitPattern: started + 1)
            let result = fastfood_internal_start_pool_thread({ raw in
                fastfood_internal_name_pool_thread()
                WorkerPool.workerLoop(index: Int(bitPattern: raw))
                return nil
            }, index)
            if result != 0 { return }
            started += 1
        }
    }

    private static func workerLoop(index: Int) {
        pthread_mutex_lock(mutex)
        while true {
            if index > keep {
                exited += 1
                pthread_cond_broadcast(jobFinished)
                pthread_mutex_unlock(mutex)
                return
            }
            if let job, let invoke, index < workerLimit, nextTask < endTask {
                endTask -= 1
                let task = endTask
                let control = fpControl
                pthread_mutex_unlock(mutex)
                fastfood_internal_set_fp_control(CUnsignedInt(control))
                invoke(job, task, index)
                pthread_mutex_lock(mutex)
                unfinished -= 1
                unfinishedHint.store(unfinished, ordering: .releasing)
                if unfinished == 0 { pthread_cond_broadcast(jobFinished) }
                continue
            }
            // Nothing to do: poll a while for the next job, then sleep. A job posted after the
            // poll is seen here, under the mutex, before the wait.
            let seen = postedJobs
            pthread_mutex_unlock(mutex)
            WorkerPool.poll(until: { postedJobsHint.load(ordering: .acquiring) != seen })
            pthread_mutex_lock(mutex)
            if postedJobs == seen && index <= keep { pthread_cond_wait(workAvailable, mutex) }
        }
    }

    /// Returns when `done` holds or after spinNanoseconds.
    private static func poll(until done: () -> Bool) {
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        while !done() {
            for _ in 0 ..< 64 { fastfood_internal_cpu_relax() }
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let elapsed = (now.tv_sec - start.tv_sec) * 1_000_000_000 + (now.tv_nsec - start.tv_nsec)
            if elapsed >= spinNanoseconds { return }
        }
    }
}

/// The library-wide thread count (>= 1), used by every compute call.
public enum Threading {
    public static var threadCount: Int { WorkerPool.threadCount }
    /// 0 means one thread per usable CPU (the affinity mask); counts are clamped to 1 ...
    /// maxThreadCount (a negative count means 1). False (nothing changed) when called from inside
    /// an executor call on the thread whose call it runs: waiting for that call would never end.
    @discardableResult
    public static func setThreadCount(_ count: Int) -> Bool {
        let clamped = count == 0 ? WorkerPool.usableProcessors() : max(1, min(count, WorkerPool.maxThreads))
        return WorkerPool.setThreadCount(clamped)
    }
    public static let maxThreadCount = WorkerPool.maxThreads
    /// Later parallel calls run on `executor` (nil: on the library's pool threads). False as
    /// setThreadCount.
    @discardableResult
    public static func setExecutor(_ executor: Executor?) -> Bool { WorkerPool.setExecutor(executor) }
}

/// Work for the pool: a value describing one call, whose tasks are independent.
protocol PoolJob {
    func run(task: Int, worker: Int)
}
