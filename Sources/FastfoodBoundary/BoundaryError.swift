import CFastfood
import FastfoodThreadLocal
import Glibc

/// A failure detected at the C boundary: the status to return and the sentence to record.
struct BoundaryError: Error {
    let status: fastfood_status
    let message: String

    static func invalidArgument(_ message: String) -> BoundaryError {
        BoundaryError(status: FASTFOOD_ERROR_INVALID_ARGUMENT, message: message)
    }
    static func nullPointer(_ argument: String) -> BoundaryError {
        BoundaryError(status: FASTFOOD_ERROR_NULL_POINTER, message: "\(argument) is NULL")
    }
    static func sizeOverflow(_ message: String) -> BoundaryError {
        BoundaryError(status: FASTFOOD_ERROR_SIZE_OVERFLOW, message: message)
    }
    static func outOfMemory(_ message: String) -> BoundaryError {
        BoundaryError(status: FASTFOOD_ERROR_OUT_OF_MEMORY, message: message)
    }
}

/// Runs one exported call: returns FASTFOOD_OK, or records "function: message" in the calling
/// thread's buffer and returns the failure's status. Nothing here can trap or print.
@inline(__always)
func exported(_ function: StaticString, _ body: () throws(BoundaryError) -> Void) -> fastfood_status {
    // No thread cancellation inside a call: a thread cancelled in a wait of the pool would leave
    // its mutex locked, one cancelled in a save would leak its temporary file. A pending
    // cancellation acts at the caller's next cancellation point after the call.
    var cancelState: Int32 = 0
    pthread_setcancelstate(Int32(PTHREAD_CANCEL_DISABLE), &cancelState)
    defer { pthread_setcancelstate(cancelState, nil) }
    do {
        try body()
        return FASTFOOD_OK
    } catch {
        recordMessage("\(function): \(error.message)")
        return error.status
    }
}

/// Copies `message` into the thread-local buffer, truncated to its capacity, NUL-terminated.
func recordMessage(_ message: String) {
    guard let buffer = fastfood_internal_message_buffer() else { return }
    let capacity = Int(FASTFOOD_MESSAGE_CAPACITY) - 1
    var length = 0
    for byte in message.utf8 {
        if length == capacity { break }
        buffer[length] = CChar(bitPattern: byte)
        length += 1
    }
    buffer[length] = 0
}

/// A size_t as the C caller wrote it (Swift imports size_t as Int, so huge values look negative).
func unsigned(_ value: Int) -> UInt { UInt(bitPattern: value) }
