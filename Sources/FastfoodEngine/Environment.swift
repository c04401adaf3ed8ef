import Glibc

/// The library's environment variables, read in place: a Swift String of one could need an
/// allocation, and one that fails aborts the process.
enum Environment {
    /// The variable as a decimal integer (an optional +, then digits only; values above `limit`
    /// are `limit`), or nil when it is unset, empty or anything else.
    static func decimal(_ name: StaticString, limit: Int) -> Int? {
        let key = UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
        guard var p = UnsafePointer(getenv(key)) else { return nil }
        if p.pointee == 0x2b { p += 1 }
        var value = 0
        var digits = 0
        while p.pointee != 0 {
            let digit = Int(p.pointee) - 0x30
            guard 0 ... 9 ~= digit else { return nil }
            value = value > (limit - digit) / 10 ? limit : value * 10 + digit
            digits += 1
            p += 1
        }
        return digits > 0 ? value : nil
    }
}
