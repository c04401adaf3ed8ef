import FastfoodCore

/// Float and Double as the engine hands them to the selected kernels.
protocol EngineScalar: BinaryFloatingPoint {
    /// Rows per interleaved tile: one 512-bit vector of this type.
    static var tileRows: Int { get }
    static func forward(_ unit: ForwardUnit<Self>)
    static func backward(_ unit: BackwardUnit<Self>)
    static func transform(_ data: UnsafeMutablePointer<Self>, log2Length: Int)
}

extension Float: EngineScalar {
    static var tileRows: Int { 16 }
    static func forward(_ unit: ForwardUnit<Float>) { KernelTable.selected.forwardF32(unit) }
    static func backward(_ unit: BackwardUnit<Float>) { KernelTable.selected.backwardF32(unit) }
    static func transform(_ data: UnsafeMutablePointer<Float>, log2Length: Int) {
        KernelTable.selected.transformF32(data, log2Length)
    }
}

extension Double: EngineScalar {
    static var tileRows: Int { 8 }
    static func forward(_ unit: ForwardUnit<Double>) { KernelTable.selected.forwardF64(unit) }
    static func backward(_ unit: BackwardUnit<Double>) { KernelTable.selected.backwardF64(unit) }
    static func transform(_ data: UnsafeMutablePointer<Double>, log2Length: Int) {
        KernelTable.selected.transformF64(data, log2Length)
    }
}
