import CFastfood
import FastfoodEngine

// The standalone fast Walsh-Hadamard transform.

func transform<T: FastfoodScalar>(
    _ name: StaticString, _ data: UnsafeMutablePointer<T>?, _ n: Int, _ count: Int, _ stride: Int
) -> fastfood_status {
    exported(name) { () throws(BoundaryError) in
        guard n > 0 else {
            throw n == 0 ? .invalidArgument("n is 0; it must be a power of two >= 1")
                         : .sizeOverflow("n (\(unsigned(n))) is larger than any addressable array")
        }
        guard n & (n - 1) == 0 else {
            throw .invalidArgument("n (\(n)) is not a power of two")
        }
        try Validate.rowCount(count, "count")
        if count == 0 { return }
        let data = try Validate.nonNull(data, "data")
        // With a single vector the stride is never used.
        try Validate.matrix(T.self, rows: count, width: n, stride: count == 1 ? n : stride,
                            name: "data", strideName: "stride", widthName: "n")
        walshHadamardTransform(data, log2Length: n.trailingZeroBitCount, count: count, stride: stride)
    }
}

@c @implementation public func fastfood_fwht_f32(_ data: UnsafeMutablePointer<Float>?, _ n: Int, _ count: Int,
    _ stride: Int) -> fastfood_status {
    transform("fastfood_fwht_f32", data, n, count, stride)
}
@c @implementation public func fastfood_fwht_f64(_ data: UnsafeMutablePointer<Double>?, _ n: Int, _ count: Int,
    _ stride: Int) -> fastfood_status {
    transform("fastfood_fwht_f64", data, n, count, stride)
}
