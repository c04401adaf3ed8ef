import FastfoodSIMD

/// The sweeps the transform plan in WalshHadamard is made of. A sweep reads each vector of its
/// range once, applies a few stages in registers and writes it back once.
extension WalshHadamard {
    /// Eight vectors held in registers.
    typealias Octet<V> = (V, V, V, V, V, V, V, V)

    /// The eight vectors at p, p + b, ..., p + 7b (b in bytes, one vector by default), and back.
    @inline(__always)
    static func loadOctet<V: SIMD>(_ p: UnsafeMutableRawPointer, stride b: Int = MemoryLayout<V>.stride) -> Octet<V> {
        return (p.loadUnaligned(as: V.self), (p + b).loadUnaligned(as: V.self),
                (p + 2 * b).loadUnaligned(as: V.self), (p + 3 * b).loadUnaligned(as: V.self),
                (p + 4 * b).loadUnaligned(as: V.self), (p + 5 * b).loadUnaligned(as: V.self),
                (p + 6 * b).loadUnaligned(as: V.self), (p + 7 * b).loadUnaligned(as: V.self))
    }

    @inline(__always)
    static func storeOctet<V: SIMD>(_ a: Octet<V>, _ p: UnsafeMutableRawPointer, stride b: Int = MemoryLayout<V>.stride) {
        p.storeBytes(of: a.0, as: V.self)
        (p + b).storeBytes(of: a.1, as: V.self)
        (p + 2 * b).storeBytes(of: a.2, as: V.self)
        (p + 3 * b).storeBytes(of: a.3, as: V.self)
        (p + 4 * b).storeBytes(of: a.4, as: V.self)
        (p + 5 * b).storeBytes(of: a.5, as: V.self)
        (p + 6 * b).storeBytes(of: a.6, as: V.self)
        (p + 7 * b).storeBytes(of: a.7, as: V.self)
    }

    /// (x, y) = (x + y, x - y).
    @inline(__always)
    static func butterfly<V: VectorArithmetic>(_ x: inout V, _ y: inout V) {
        let sum = x + y
        y = x - y
        x = sum
    }

    /// Strides 2 and 4 (in octet positions) of eight vectors.
    @inline(__always)
    static func strides2And4<V: VectorArithmetic>(_ a: inout Octet<V>) {
        butterfly(&a.0, &a.2); butterfly(&a.1, &a.3); butterfly(&a.4, &a.6); butterfly(&a.5, &a.7)
        butterfly(&a.0, &a.4); butterfly(&a.1, &a.5); butterfly(&a.2, &a.6); butterfly(&a.3, &a.7)
    }

    /// Stride 8 between two octets: (a.i, b.i) for every i.
    @inline(__always)
    static func stride8<V: VectorArithmetic>(_ a: inout Octet<V>, _ b: inout Octet<V>) {
        butterfly(&a.0, &b.0); butterfly(&a.1, &b.1); butterfly(&a.2, &b.2); butterfly(&a.3, &b.3)
        butterfly(&a.4, &b.4); butterfly(&a.5, &b.5); butterfly(&a.6, &b.6); butterfly(&a.7, &b.7)
    }
}

// MARK: - The first sweep of a row transform

extension WalshHadamard {
    /// The in-register stages and vector stride 1 of each pair of vectors (hadamardPair), then
    /// vector stride 2, four vectors at a time.
    @inline(never)
    static func radix4WithinVectors<T: FastfoodFloat>(_ p: UnsafeMutableRawPointer, count: Int, _: T.Type) {
        typealias V = T.Vector
        let vectorBytes = MemoryLayout<V>.stride
        var q = p
        let end = p + count * vectorBytes
        while q < end {
            var a0 = q.loadUnaligned(as: V.self), a1 = (q + vectorBytes).loadUnaligned(as: V.self)
            var a2 = (q + 2 * vectorBytes).loadUnaligned(as: V.self), a3 = (q + 3 * vectorBytes).loadUnaligned(as: V.self)
            T.hadamardPair(&a0, &a1)
            T.hadamardPair(&a2, &a3)
            q.storeBytes(of: a0 + a2, as: V.self)
            (q + vectorBytes).storeBytes(of: a1 + a3, as: V.self)
            (q + 2 * vectorBytes).storeBytes(of: a0 - a2, as: V.self)
            (q + 3 * vectorBytes).storeBytes(of: a1 - a3, as: V.self)
            q += 4 * vectorBytes
        }
    }

    /// The in-register stages and vector strides 1, 2 and 4 of eight consecutive vectors.
    @inline(__always)
    static func hadamardOctet<T: FastfoodFloat>(_ a: inout Octet<T.Vector>, _: T.Type) {
        T.hadamardPair(&a.0, &a.1)
        T.hadamardPair(&a.2, &a.3)
        T.hadamardPair(&a.4, &a.5)
        T.hadamardPair(&a.6, &a.7)
        strides2And4(&a)
    }

    /// As radix4WithinVectors, eight vectors at a time: vector strides 2 and 4 in registers too.
    @inline(never)
    static func radix8WithinVectors<T: FastfoodFloat>(_ p: UnsafeMutableRawPointer, count: Int, _: T.Type) {
        let octetBytes = 8 * MemoryLayout<T.Vector>.stride
        var q = p
        while q < p + count * MemoryLayout<T.Vector>.stride {
            var a: Octet<T.Vector> = loadOctet(q)
            hadamardOctet(&a, T.self)
            storeOctet(a, q)
            q += octetBytes
        }
    }

    /// As radix4WithinVectors, sixteen vectors at a time: vector strides 2, 4 and 8 in
    /// registers too.
    @inline(never)
    static func radix16WithinVectors<T: FastfoodFloat>(_ p: UnsafeMutableRawPointer, count: Int, _: T.Type) {
        let octetBytes = 8 * MemoryLayout<T.Vector>.stride
        var q = p
        while q < p + count * MemoryLayout<T.Vector>.stride {
            var a: Octet<T.Vector> = loadOctet(q), b: Octet<T.Vector> = loadOctet(q + octetBytes)
            hadamardOctet(&a, T.self)
            hadamardOctet(&b, T.self)
            stride8(&a, &b)
            storeOctet(a, q)
            storeOctet(b, q + octetBytes)
            q += 2 * octetBytes
        }
    }
}

// MARK: - Vertical sweeps

/// One to four vertical stages on 2^stages vectors in registers: vector k comes from load(k)
/// and goes to store(k, _). Stage s pairs k and k + 2^s, so with vectors h apart these are the
/// stages h, 2h, ... of a transform.
protocol VerticalNetwork {
    static var stages: Int { get }
    static func apply<V: VectorArithmetic>(_ load: (Int) -> V, _ store: (Int, V) -> Void)
}

extension WalshHadamard {
    enum Radix2: VerticalNetwork {
        static var stages: Int { 1 }

        @inline(__always)
        static func apply<V: VectorArithmetic>(_ load: (Int) -> V, _ store: (Int, V) -> Void) {
            let a0 = load(0), a1 = load(1)
            store(0, a0 + a1)
            store(1, a0 - a1)
        }
    }

    enum Radix4: VerticalNetwork {
        static var stages: Int { 2 }

        @inline(__always)
        static func apply<V: VectorArithmetic>(_ load: (Int) -> V, _ store: (Int, V) -> Void) {
            let a0 = load(0), a1 = load(1), a2 = load(2), a3 = load(3)
            let b0 = a0 + a1, b1 = a0 - a1, b2 = a2 + a3, b3 = a2 - a3
            store(0, b0 + b2)
            store(1, b1 + b3)
            store(2, b0 - b2)
            store(3, b1 - b3)
        }
    }

    enum Radix8: VerticalNetwork {
        static var stages: Int { 3 }

        @inline(__always)
        static func apply<V: VectorArithmetic>(_ load: (Int) -> V, _ store: (Int, V) -> Void) {
            var a = (load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7))
            butterfly(&a.0, &a.1); butterfly(&a.2, &a.3); butterfly(&a.4, &a.5); butterfly(&a.6, &a.7)
            strides2And4(&a)
            store(0, a.0); store(1, a.1); store(2, a.2); store(3, a.3)
            store(4, a.4); store(5, a.5); store(6, a.6); store(7, a.7)
        }
    }

    enum Radix16: VerticalNetwork {
        static var stages: Int { 4 }

        @inline(__always)
        static func apply<V: VectorArithmetic>(_ load: (Int) -> V, _ store: (Int, V) -> Void) {
            var a = (load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7))
            var b = (load(8), load(9), load(10), load(11), load(12), load(13), load(14), load(15))
            butterfly(&a.0, &a.1); butterfly(&a.2, &a.3); butterfly(&a.4, &a.5); butterfly(&a.6, &a.7)
            butterfly(&b.0, &b.1); butterfly(&b.2, &b.3); butterfly(&b.4, &b.5); butterfly(&b.6, &b.7)
            strides2And4(&a)
            strides2And4(&b)
            stride8(&a, &b)
            store(0, a.0); store(1, a.1); store(2, a.2); store(3, a.3)
            store(4, a.4); store(5, a.5); store(6, a.6); store(7, a.7)
            store(8, b.0); store(9, b.1); store(10, b.2); store(11, b.3)
            store(12, b.4); store(13, b.5); store(14, b.6); store(15, b.7)
        }
    }

    /// `stages` (1 to 4) stages from stride h, in one sweep over the vectors whose offset
    /// within their segment (of `segment` vectors, h >= segment) lies in `columns` (all of
    /// them: columns 0 ..< h, segment h).
    @inline(__always)
    static func sweep<T: FastfoodFloat>(
        _ p: UnsafeMutableRawPointer, count: Int, stride h: Int, stages: Int, _: T.Type, columns: Range<Int>, segment: Int
    ) {
        switch stages {
        case 1: sweep(p, count: count, stride: h, T.self, Radix2.self, columns: columns, segment: segment)
        case 2: sweep(p, count: count, stride: h, T.self, Radix4.self, columns: columns, segment: segment)
        case 3: sweep(p, count: count, stride: h, T.self, Radix8.self, columns: columns, segment: segment)
        default: sweep(p, count: count, stride: h, T.self, Radix16.self, columns: columns, segment: segment)
        }
    }

    @inline(never)
    static func sweep<T: FastfoodFloat, N: VerticalNetwork>(
        _ p: UnsafeMutableRawPointer, count: Int, stride h: Int, _: T.Type, _: N.Type, columns: Range<Int>, segment: Int
    ) {
        typealias V = T.Vector
        let vectorBytes = MemoryLayout<V>.stride
        let hb = h * vectorBytes
        var group = 0
        while group < count {
            var start = group
            while start < group + h {
                var q = p + (start + columns.lowerBound) * vectorBytes
                let end = q + columns.count * vectorBytes
                while q < end {
                    N.apply({ (q + $0 * hb).loadUnaligned(as: V.self) }, { (q + $0 * hb).storeBytes(of: $1, as: V.self) })
                    q += vectorBytes
                }
                start += segment
            }
            group += h << N.stages
        }
    }
}
