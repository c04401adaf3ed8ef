import FastfoodSIMD

/// The sweeps the transform plan in WalshHadamard is made of. A sweep reads each vector of its
/// range once, applies a few stages in registers and writes it back once.
extension WalshHadamard {
    /// Eight vectors held in registers.
    typealias Octet<V> = (V, V, V, V, V, V, V, V)

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
    /// The in-register stages of every vector (hadamardWithinVector, as it is loaded), then N's
    /// vector strides 1, 2, ... on consecutive groups of 2^N.stages vectors.
    @inline(never)
    static func withinVectorsSweep<T: FastfoodFloat, N: VerticalNetwork>(
        _ p: UnsafeMutableRawPointer, count: Int, _: T.Type, _: N.Type
    ) {
        typealias V = T.Vector
        let vectorBytes = MemoryLayout<V>.stride
        var q = p
        let end = p + count * vectorBytes
        while q < end {
            N.apply({ T.hadamardWithinVector((q + $0 * vectorBytes).loadUnaligned(as: V.self)) },
                    { (q + $0 * vectorBytes).storeBytes(of: $1, as: V.self) })
            q += vectorBytes << N.stages
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
    /// No stage: what a sweep of a single vector reduces to (a row of one vector, a transform
    /// of length 1).
    enum Radix1: VerticalNetwork {
        static var stages: Int { 0 }

        @inline(__always)
        static func apply<V: VectorArithmetic>(_ load: (Int) -> V, _ store: (Int, V) -> Void) {
            store(0, load(0))
        }
    }

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
    /// them: columns 0 ..< h, segment h). With h == segment, `live` segments from p on are in
    /// memory and the rest are +0 that is not (see transformVectors): they are read as +0.
    @inline(__always)
    static func sweep<T: FastfoodFloat>(
        _ p: UnsafeMutableRawPointer, count: Int, stride h: Int, stages: Int, _: T.Type, columns: Range<Int>,
        segment: Int, live: Int = .max
    ) {
        switch stages {
        case 1: sweep(p, count: count, stride: h, T.self, Radix2.self, columns: columns, segment: segment, live: live)
        case 2: sweep(p, count: count, stride: h, T.self, Radix4.self, columns: columns, segment: segment, live: live)
        case 3: sweep(p, count: count, stride: h, T.self, Radix8.self, columns: columns, segment: segment, live: live)
        default: sweep(p, count: count, stride: h, T.self, Radix16.self, columns: columns, segment: segment, live: live)
        }
    }

    @inline(never)
    static func sweep<T: FastfoodFloat, N: VerticalNetwork>(
        _ p: UnsafeMutableRawPointer, count: Int, stride h: Int, _: T.Type, _: N.Type, columns: Range<Int>,
        segment: Int, live: Int
    ) {
        typealias V = T.Vector
        let vectorBytes = MemoryLayout<V>.stride
        let hb = h * vectorBytes
        let radix = 1 << N.stages
        var group = 0
        while group < count {
            // How many of this group's network inputs are in memory.
            let inputs = live >= count / h ? radix : min(radix, max(0, live - group / h))
            var start = group
            while start < group + h {
                var q = p + (start + columns.lowerBound) * vectorBytes
                let end = q + columns.count * vectorBytes
                if inputs == radix {
                    while q < end {
                        N.apply({ (q + $0 * hb).loadUnaligned(as: V.self) }, { (q + $0 * hb).storeBytes(of: $1, as: V.self) })
                        q += vectorBytes
                    }
                } else {
                    while q < end {
                        N.apply({ $0 < inputs ? (q + $0 * hb).loadUnaligned(as: V.self) : V() },
                                { (q + $0 * hb).storeBytes(of: $1, as: V.self) })
                        q += vectorBytes
                    }
                }
                start += segment
            }
            group += h << N.stages
        }
    }
}
