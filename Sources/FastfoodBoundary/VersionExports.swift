import CFastfood
import FastfoodThreadLocal
import FastfoodVersion

// Version and status strings. C strings are Swift static string literals: NUL-terminated and
// stored in the binary, so the pointers stay valid forever.

@c @implementation
public func fastfood_version_number() -> UInt32 {
    UInt32(FASTFOOD_VERSION_NUMBER)
}

@c @implementation
public func fastfood_version_string() -> UnsafePointer<CChar>? {
    fastfood_internal_version_string()  // FASTFOOD_VERSION_STRING, from the header itself
}

@c @implementation
public func fastfood_status_string(_ status: fastfood_status) -> UnsafePointer<CChar>? {
    switch status {
    case FASTFOOD_OK: cString("success")
    case FASTFOOD_ERROR_INVALID_ARGUMENT: cString("invalid argument")
    case FASTFOOD_ERROR_NULL_POINTER: cString("null pointer")
    case FASTFOOD_ERROR_SIZE_OVERFLOW: cString("size overflow")
    case FASTFOOD_ERROR_OUT_OF_MEMORY: cString("out of memory")
    case FASTFOOD_ERROR_IO: cString("input/output error")
    case FASTFOOD_ERROR_BAD_FORMAT: cString("bad file format")
    case FASTFOOD_ERROR_UNSUPPORTED_VERSION: cString("unsupported file version")
    default: cString("unknown status code")
    }
}

@c @implementation
public func fastfood_last_error_message() -> UnsafePointer<CChar>? {
    guard let buffer = fastfood_internal_message_buffer() else { return cString("") }
    return UnsafePointer(buffer)
}

private func cString(_ literal: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(literal.utf8Start).assumingMemoryBound(to: CChar.self)
}
