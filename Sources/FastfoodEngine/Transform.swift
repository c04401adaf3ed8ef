/// The standalone FWHT: `count` vectors of length 2^log2Length whose starts are `stride` apart,
/// in place, on the selected kernel variant. The boundary validates the sizes.
@_specialize(where T == Float) @_specialize(where T == Double)
public func walshHadamardTransform<T: FastfoodScalar>(
    _ data: UnsafeMutablePointer<T>, log2Length: Int, count: Int, stride: Int
) {
    for c in 0 ..< count { T.transform(data + c * stride, log2Length: log2Length) }
}
