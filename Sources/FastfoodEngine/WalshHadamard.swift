/// The fast Walsh-Hadamard transform: in place, unnormalised, natural (Sylvester) order.
///
/// Structure: strides below the vector width run inside registers (`hadamardWithinVector`);
/// larger strides run as radix-4 passes of whole-vector butterflies (two stages per sweep over
/// memory). Arrays larger than `cacheBlockBytes` are first transformed chunk by chunk so the
/// early stages stay in L1, then the remaining stages sweep the whole array.
enum WalshHadamard {
    static let cacheBlockBytes = 16 * 1024

    /// Transforms the n = 2^log2Length elements at `data`.
    @inline(__always)
    static func transform<T: FastfoodFloat>(_ data: UnsafeMutablePointer<T>, log2Length: Int) {
        let n = 1 << log2Length
        let width = T.Vector.scalarCount
        if n < width {
            transformScalar(data, length: n)
            return
        }
        let chunk = min(n, cacheBlockBytes / MemoryLayout<T>.stride)
        var base = 0
        while base < n {
            withinVectors(data + base, length: chunk)
            vectorStages(data + base, length: chunk, fromStride: width)
            base += chunk
        }
        if chunk < n {
            vectorStages(data, length: n, fromStride: chunk)
        }
    }

    /// Textbook radix-2 loops for lengths below one vector.
    @inline(__always)
    static func transformScalar<T: FastfoodFloat>(_ data: UnsafeMutablePointer<T>, length n: Int) {
        var half = 1
        while half < n {
            var start = 0
            while start < n {
                for i in start ..< start + half {
                    let a = data[i], b = data[i + half]
                    data[i] = a + b
                    data[i + half] = a - b
                }
                start += 2 * half
            }
            half *= 2
        }
    }

    /// All stages of stride < vector width, on each vector of the array.
    @inline(__always)
    static func withinVectors<T: FastfoodFloat>(_ data: UnsafeMutablePointer<T>, length n: Int) {
        let width = T.Vector.scalarCount
        var i = 0
        while i < n {
            let p = UnsafeMutableRawPointer(data + i)
            p.storeBytes(of: T.hadamardWithinVector(p.loadUnaligned(as: T.Vector.self)),
                         as: T.Vector.self)
            i += width
        }
    }

    /// Stages of stride fromStride, 2*fromStride, ..., n/2 (fromStride >= vector width).
    @inline(__always)
    static func vectorStages<T: FastfoodFloat>(
        _ data: UnsafeMutablePointer<T>, length n: Int, fromStride: Int
    ) {
        var stride = fromStride
        while stride * 4 <= n {
            radix4Pass(data, length: n, stride: stride)
            stride *= 4
        }
        if stride < n {
            radix2Pass(data, length: n, stride: stride)
        }
    }

    /// Stages `stride` and `2*stride` in one sweep.
    @inline(__always)
    static func radix4Pass<T: FastfoodFloat>(
        _ data: UnsafeMutablePointer<T>, length n: Int, stride h: Int
    ) {
        let width = T.Vector.scalarCount
        let raw = UnsafeMutableRawPointer(data)
        let hBytes = h * MemoryLayout<T>.stride
        var group = 0
        while group < n {
            var j = group
            while j < group + h {
                let p0 = raw + j * MemoryLayout<T>.stride
                let p1 = p0 + hBytes, p2 = p1 + hBytes, p3 = p2 + hBytes
                let a0 = p0.loadUnaligned(as: T.Vector.self)
                let a1 = p1.loadUnaligned(as: T.Vector.self)
                let a2 = p2.loadUnaligned(as: T.Vector.self)
                let a3 = p3.loadUnaligned(as: T.Vector.self)
                let b0 = a0 + a1, b1 = a0 - a1, b2 = a2 + a3, b3 = a2 - a3
                p0.storeBytes(of: b0 + b2, as: T.Vector.self)
                p1.storeBytes(of: b1 + b3, as: T.Vector.self)
                p2.storeBytes(of: b0 - b2, as: T.Vector.self)
                p3.storeBytes(of: b1 - b3, as: T.Vector.self)
                j += width
            }
            group += 4 * h
        }
    }

    @inline(__always)
    static func radix2Pass<T: FastfoodFloat>(
        _ data: UnsafeMutablePointer<T>, length n: Int, stride h: Int
    ) {
        let width = T.Vector.scalarCount
        let raw = UnsafeMutableRawPointer(data)
        let hBytes = h * MemoryLayout<T>.stride
        var group = 0
        while group < n {
            var j = group
            while j < group + h {
                let p0 = raw + j * MemoryLayout<T>.stride
                let p1 = p0 + hBytes
                let a0 = p0.loadUnaligned(as: T.Vector.self)
                let a1 = p1.loadUnaligned(as: T.Vector.self)
                p0.storeBytes(of: a0 + a1, as: T.Vector.self)
                p1.storeBytes(of: a0 - a1, as: T.Vector.self)
                j += width
            }
            group += 2 * h
        }
    }
}

/// Public entry points: `count` vectors of length 2^log2Length whose starts are `stride` apart.
/// The caller guarantees the memory; the boundary validates the sizes.
public func walshHadamardTransform(
    _ data: UnsafeMutablePointer<Float>, log2Length: Int, count: Int, stride: Int
) {
    for c in 0 ..< count { WalshHadamard.transform(data + c * stride, log2Length: log2Length) }
}

public func walshHadamardTransform(
    _ data: UnsafeMutablePointer<Double>, log2Length: Int, count: Int, stride: Int
) {
    for c in 0 ..< count { WalshHadamard.transform(data + c * stride, log2Length: log2Length) }
}
