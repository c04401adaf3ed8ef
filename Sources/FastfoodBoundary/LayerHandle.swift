import CFastfood
import FastfoodEngine

/// The C handle (`fastfood_layer *`) is an unmanaged, retained FastfoodLayer.
enum LayerHandle {
    static func make(_ layer: FastfoodLayer) -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(layer).toOpaque())
    }

    /// The layer behind a handle, or a NULL-pointer error naming the argument.
    static func layer(_ handle: OpaquePointer?, _ name: String = "layer") throws(BoundaryError) -> FastfoodLayer {
        guard let handle else { throw .nullPointer(name) }
        return Unmanaged<FastfoodLayer>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    /// The layer, or nil for a NULL handle (for the query functions that return 0 on NULL).
    static func layerIfAny(_ handle: OpaquePointer?) -> FastfoodLayer? {
        guard let handle else { return nil }
        return Unmanaged<FastfoodLayer>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    static func release(_ handle: OpaquePointer) {
        Unmanaged<FastfoodLayer>.fromOpaque(UnsafeRawPointer(handle)).release()
    }
}
