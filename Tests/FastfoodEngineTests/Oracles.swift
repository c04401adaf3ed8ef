import FastfoodCore
import FastfoodEngine

// Reference computations that share no code with the engine: explicit matrices built from the
// definitions, applied with plain O(n^2) loops.

/// The Sylvester Hadamard matrix of order n (a power of two), built by H_2n = [[H, H], [H, -H]].
func sylvesterHadamard(_ n: Int) -> [[Double]] {
    var h: [[Double]] = [[1]]
    while h.count < n {
        let m = h.count
        var next = [[Double]](repeating: [Double](repeating: 0, count: 2 * m), count: 2 * m)
        for i in 0 ..< m {
            for j in 0 ..< m {
                next[i][j] = h[i][j]
                next[i][j + m] = h[i][j]
                next[i + m][j] = h[i][j]
                next[i + m][j + m] = -h[i][j]
            }
        }
        h = next
    }
    return h
}

func multiply(_ matrix: [[Double]], _ v: [Double]) -> [Double] {
    matrix.map { row in zip(row, v).reduce(0) { $0 + $1.0 * $1.1 } }
}

/// W (outFeatures x inFeatures, row-major), built column by column: column j is
/// S H G PI H B e_j for every block, concatenated and truncated.
func denseMatrix(_ layer: FastfoodLayer, _ params: [Double]) -> [Double] {
    let shape = layer.shape
    let n = shape.blockSize
    let h = sylvesterHadamard(n)
    var w = [Double](repeating: 0, count: shape.outFeatures * shape.inFeatures)
    for j in 0 ..< shape.inFeatures {
        for k in 0 ..< shape.blockCount {
            let offset = k * n
            var u = [Double](repeating: 0, count: n)
            u[j] = params[shape.signOffset + offset + j]                 // B e_j
            u = multiply(h, u)                                            // H
            u = (0 ..< n).map { u[layer.permutationEntry(offset + $0)] }  // PI
            u = (0 ..< n).map { u[$0] * params[shape.gaussianOffset + offset + $0] } // G
            u = multiply(h, u)                                            // H
            for i in 0 ..< shape.outputsOfBlock(k) {                      // S, truncated
                w[(offset + i) * shape.inFeatures + j] = params[shape.scaleOffset + offset + i] * u[i]
            }
        }
    }
    return w
}

/// Deterministic test data in [-1, 1).
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed | 1 }
    mutating func next() -> Double {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Double(state >> 11) * 0x1p-52 - 1
    }
    mutating func array(_ count: Int) -> [Double] { (0 ..< count).map { _ in next() } }
}

/// max |a - b| / max |b|: the normwise relative error of a against the reference b.
func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var diff = 0.0, scale = 0.0
    for (x, y) in zip(a, b) {
        diff = max(diff, abs(x - y))
        scale = max(scale, abs(y))
    }
    return scale > 0 ? diff / scale : diff
}

func makeLayer(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = false, seed: UInt64 = 1) throws -> FastfoodLayer {
    let shape = try LayerShape(inFeatures: inFeatures, outFeatures: outFeatures, hasBias: bias)
    guard let layer = FastfoodLayer.make(shape: shape, seed: seed) else { throw ComputeFailure.outOfMemory }
    return layer
}

/// Parameters from the library's initialisation, perturbed so every entry (bias too) matters.
func testParameters(_ layer: FastfoodLayer, seed: UInt64 = 7) -> [Double] {
    let params = initialParameters(layer, seed: seed, as: Double.self)
    var random = TestRandom(seed)
    return params.map { $0 + 0.1 * random.next() }
}

// Array-based wrappers around the engine's pointer API, for Float and Double alike.

/// The engine's generic entry points under short names, for tests written once for Float and
/// Double.
protocol EngineFloat: FastfoodScalar {}
extension Float: EngineFloat {}
extension Double: EngineFloat {}

extension EngineFloat {
    static func forward(_ layer: FastfoodLayer, _ p: UnsafePointer<Self>, _ batch: Int, _ x: UnsafePointer<Self>,
                        _ ldx: Int, _ y: UnsafeMutablePointer<Self>, _ ldy: Int) throws(ComputeFailure) {
        try layer.forward(params: p, batch: batch, x: x, ldx: ldx, y: y, ldy: ldy)
    }
    static func backward(_ layer: FastfoodLayer, _ p: UnsafePointer<Self>, _ batch: Int, _ x: UnsafePointer<Self>?,
                         _ ldx: Int, _ dy: UnsafePointer<Self>, _ lddy: Int, _ dx: UnsafeMutablePointer<Self>?,
                         _ lddx: Int, _ dp: UnsafeMutablePointer<Self>?, _ accumulate: Bool) throws(ComputeFailure) {
        try layer.backward(params: p, batch: batch, x: x, ldx: ldx, dy: dy, lddy: lddy, dx: dx, lddx: lddx,
                           dparams: dp, accumulate: accumulate)
    }
    static func transform(_ data: UnsafeMutablePointer<Self>, _ log2n: Int, _ count: Int, _ stride: Int) {
        walshHadamardTransform(data, log2Length: log2n, count: count, stride: stride)
    }
    static func initialize(_ layer: FastfoodLayer, _ seed: UInt64, _ sigma: Double, _ p: UnsafeMutablePointer<Self>) {
        layer.initializeParameters(seed: seed, sigma: sigma, into: p)
    }
}

func forward<T: EngineFloat>(
    _ layer: FastfoodLayer, _ params: [T], _ x: [T], batch: Int, ldx: Int, ldy: Int, fill: T = 0
) throws -> [T] {
    var y = [T](repeating: fill, count: batch * ldy)
    try params.withUnsafeBufferPointer { p in
        try x.withUnsafeBufferPointer { xp in
            try y.withUnsafeMutableBufferPointer { yp in
                try T.forward(layer, p.baseAddress!, batch, xp.baseAddress!, ldx, yp.baseAddress!, ldy)
            }
        }
    }
    return y
}

struct Gradients<T: EngineFloat> {
    var dx: [T]
    var dparams: [T]
}

/// dx and dparams; `start` given means FASTFOOD_ACCUMULATE into those values.
func backward<T: EngineFloat>(
    _ layer: FastfoodLayer, _ params: [T], _ x: [T]?, _ dy: [T], batch: Int, ldx: Int, lddy: Int,
    lddx: Int, wantDX: Bool = true, wantParams: Bool = true, accumulatingOnto start: Gradients<T>? = nil
) throws -> Gradients<T> {
    var g = start ?? Gradients(dx: [T](repeating: 0, count: batch * lddx),
                               dparams: [T](repeating: 0, count: layer.shape.parameterCount))
    let xCopy = x ?? []
    try params.withUnsafeBufferPointer { p in
        try xCopy.withUnsafeBufferPointer { xp in
            try dy.withUnsafeBufferPointer { dyp in
                try g.dx.withUnsafeMutableBufferPointer { dxp in
                    try g.dparams.withUnsafeMutableBufferPointer { dpp in
                        try T.backward(layer, p.baseAddress!, batch, x == nil ? nil : xp.baseAddress, ldx,
                                       dyp.baseAddress!, lddy, wantDX ? dxp.baseAddress : nil, lddx,
                                       wantParams ? dpp.baseAddress : nil, start != nil)
                    }
                }
            }
        }
    }
    return g
}

func transform<T: EngineFloat>(_ v: [T]) -> [T] {
    var out = v
    out.withUnsafeMutableBufferPointer { T.transform($0.baseAddress!, v.count.trailingZeroBitCount, 1, v.count) }
    return out
}

func initialParameters<T: EngineFloat>(_ layer: FastfoodLayer, seed: UInt64, sigma: Double = 1, as: T.Type) -> [T] {
    var params = [T](repeating: 0, count: layer.shape.parameterCount)
    params.withUnsafeMutableBufferPointer { T.initialize(layer, seed, sigma, $0.baseAddress!) }
    return params
}
