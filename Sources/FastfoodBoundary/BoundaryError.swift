import CFastfood
import FastfoodCore
import FastfoodEngine
import FastfoodThreadLocal
import Glibc

/// A failure detected at the C boundary: the status to return. Its sentence is an ErrorMessage,
/// written into the thread's pending buffer as the failure is detected (no heap memory: the
/// library reports failures even when every malloc fails).
struct BoundaryError: Error {
    let status: fastfood_status

    init(status: fastfood_status, message: ErrorMessage) {
        self.status = status
    }

    static func invalidArgument(_ message: ErrorMessage) -> BoundaryError {
        BoundaryError(status: FASTFOOD_ERROR_INVALID_ARGUMENT, message: message)
    }
    static func nullPointer(_ argument: StaticString) -> BoundaryError {
        BoundaryError(status: FASTFOOD_ERROR_NULL_POINTER, message: "\(argument) is NULL")
    }
    static func sizeOverflow(_ message: ErrorMessage) -> BoundaryError {
        BoundaryError(status: FASTFOOD_ERROR_SIZE_OVERFLOW, message: message)
    }
    static func outOfMemory(_ message: ErrorMessage) -> BoundaryError {
        BoundaryError(status: FASTFOOD_ERROR_OUT_OF_MEMORY, message: message)
    }
}

/// Runs one exported call: returns FASTFOOD_OK, or records "function: message" in the calling
/// thread's buffer and returns the failure's status. Nothing here can trap, print or allocate.
@inline(__always)
func exported(_ function: StaticString, _ body: () throws(BoundaryError) -> Void) -> fastfood_status {
    // No thread cancellation inside a call: a thread cancelled in a wait of the pool would leave
    // its mutex locked, one cancelled in a save would leak its temporary file. A pending
    // cancellation acts at the caller's next cancellation point after the call.
    var cancelState: Int32 = 0
    pthread_setcancelstate(Int32(PTHREAD_CANCEL_DISABLE), &cancelState)
    defer { pthread_setcancelstate(cancelState, nil) }
    do throws(BoundaryError) {
        try body()
        return FASTFOOD_OK
    } catch {
        recordMessage(function)
        return error.status
    }
}

/// Writes "function: " and the pending sentence into the thread-local message buffer,
/// truncated to its capacity, NUL-terminated.
func recordMessage(_ function: StaticString) {
    guard let buffer = fastfood_internal_message_buffer() else { return }
    let capacity = Int(FASTFOOD_MESSAGE_CAPACITY) - 1
    var length = 0
    func append(_ byte: UInt8) {
        guard length < capacity else { return }
        buffer[length] = CChar(bitPattern: byte)
        length += 1
    }
    function.withUTF8Buffer { for b in $0 { append(b) } }
    append(0x3a)  // ':'
    append(0x20)
    var pending = ErrorMessage.buffer
    while pending.pointee != 0 {
        append(UInt8(bitPattern: pending.pointee))
        pending += 1
    }
    buffer[length] = 0
}

/// A size_t as the C caller wrote it (Swift imports size_t as Int, so huge values look negative).
func unsigned(_ value: Int) -> UInt { UInt(bitPattern: value) }
