import FastfoodCore

/// The element types of every engine operation: Float and Double. One generic entry point per
/// operation takes either; the requirement is how the engine finds the selected kernel
/// variant's functions for the type (no conformance outside the engine can provide one).
public protocol FastfoodScalar: BinaryFloatingPoint, Sendable {
    /// The selected kernel variant's functions for this type (KernelTable).
    static var _kernels: ScalarKernels<Self> { get }
}

extension Float: FastfoodScalar {
    public static var _kernels: ScalarKernels<Float> { KernelTable.selected.float32 }
}

extension Double: FastfoodScalar {
    public static var _kernels: ScalarKernels<Double> { KernelTable.selected.float64 }
}

extension FastfoodScalar {
    static var tileRows: Int { _kernels.tileRows }
    static var smallestTiles: SmallestTiles { _kernels.smallestTiles }
    static func forward(_ unit: ForwardUnit<Self>) { _kernels.forward(unit) }
    static func backward(_ unit: BackwardUnit<Self>) { _kernels.backward(unit) }
    static func transform(_ data: UnsafeMutablePointer<Self>, log2Length: Int) { _kernels.transform(data, log2Length) }
}
