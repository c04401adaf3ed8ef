/// The standalone FWHT: `count` vectors of length 2^log2Length whose starts are `stride` apart,
/// in place, on the selected kernel variant. The boundary validates the sizes.
public func walshHadamardTransform(
    _ data: UnsafeMutablePointer<Float>, log2Length: Int, count: Int, stride: Int
) {
    for c in 0 ..< count { Float.transform(data + c * stride, log2Length: log2Length) }
}

public func walshHadamardTransform(
    _ data: UnsafeMutablePointer<Double>, log2Length: Int, count: Int, stride: Int
) {
    for c in 0 ..< count { Double.transform(data + c * stride, log2Length: log2Length) }
}
