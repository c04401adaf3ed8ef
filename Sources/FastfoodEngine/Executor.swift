import FastfoodCPU

/// A parallel-for supplied by the caller (fastfood_set_executor): the framework's own thread
/// pool runs a call's tasks instead of the library's pool threads, so the two do not compete
/// for cores.
public struct Executor: @unchecked Sendable {
    // @unchecked: the context is the caller's, who promises it stays valid while installed.
    public typealias TaskFunction = @convention(c) (UnsafeMutableRawPointer?, Int, Int) -> Void
    public typealias Function = @convention(c) (
        UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, TaskFunction?, Int, Int
    ) -> Int32

    let function: Function
    let context: UnsafeMutableRawPointer?

    public init(function: Function, context: UnsafeMutableRawPointer?) {
        self.function = function
        self.context = context
    }
}

/// How a call handed to an executor went.
enum ExecutorOutcome {
    /// The executor returned 0 without running a task: the library's pool runs the call.
    case declined
    /// Every task ran once, on a free worker slot.
    case ran
    /// A task index or worker slot out of range, a task run twice or never, two tasks on one
    /// slot at once, or tasks run by an executor that then declined.
    case brokeContract
}

/// One parallel call handed to an executor. It lives on the caller's stack for the whole call;
/// its address is the `job` the executor passes back to `executorTask`.
///
/// The flags check the executor's work as it goes: one byte per task (run), one per worker
/// slot (in use), one for a broken contract. A task that would break the contract is not run:
/// running it could make two tasks share a slot's scratch.
struct ExecutorCall {
    let job: UnsafeRawPointer
    let invoke: (UnsafeRawPointer, Int, Int) -> Void
    let tasks: Int
    let workers: Int
    /// tasks + workers + 1 bytes, zero at the start.
    let flags: UnsafeMutablePointer<UInt8>
    /// The calling thread's floating-point control bits: every task computes under them.
    let fpControl: CUnsignedInt

    static func flagBytes(tasks: Int, workers: Int) -> Int { tasks + workers + 1 }

    func runTask(_ task: Int, worker: Int) {
        guard 0 ..< tasks ~= task, 0 ..< workers ~= worker,
              fastfood_internal_claim_flag(flags + task) == 0
        else { return markBroken() }
        let slot = flags + tasks + worker
        guard fastfood_internal_claim_flag(slot) == 0 else { return markBroken() }
        // A foreign thread keeps its own mode once the task is done.
        let own = fastfood_internal_fp_control()
        if own != fpControl { fastfood_internal_set_fp_control(fpControl) }
        invoke(job, task, worker)
        if own != fpControl { fastfood_internal_set_fp_control(own) }
        fastfood_internal_clear_flag(slot)
    }

    private func markBroken() { _ = fastfood_internal_claim_flag(flags + tasks + workers) }

    /// After the executor returned nonzero: every task ran exactly once and nothing broke.
    var completed: Bool {
        guard fastfood_internal_read_flag(flags + tasks + workers) == 0 else { return false }
        for task in 0 ..< tasks where fastfood_internal_read_flag(flags + task) == 0 { return false }
        return true
    }

    /// After the executor declined: whether it ran (or tried to run) anything anyway.
    var touched: Bool {
        for i in 0 ..< tasks + workers + 1 where fastfood_internal_read_flag(flags + i) != 0 { return true }
        return false
    }
}

/// The task function every executor gets: `job` is the ExecutorCall. A NULL job runs nothing,
/// and the call then finds its task unrun.
let executorTask: Executor.TaskFunction = { job, task, worker in
    job?.assumingMemoryBound(to: ExecutorCall.self).pointee.runTask(task, worker: worker)
}
