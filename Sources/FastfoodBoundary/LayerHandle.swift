import CFastfood
import FastfoodEngine
import Glibc

/// The C handle (`fastfood_layer *`) is a malloc'd LayerCore: creating and destroying a layer
/// allocates with malloc alone, so running out of memory is a status, never an abort.
enum LayerHandle {
    /// A handle owning `layer`, or nil (with `layer` freed) if the handle's memory cannot be had.
    static func make(_ layer: LayerCore) -> OpaquePointer? {
        guard let raw = malloc(MemoryLayout<LayerCore>.stride) else {
            layer.deallocate()
            return nil
        }
        raw.bindMemory(to: LayerCore.self, capacity: 1).initialize(to: layer)
        return OpaquePointer(raw)
    }

    /// The layer behind a handle, or a NULL-pointer error naming the argument.
    static func layer(_ handle: OpaquePointer?, _ name: StaticString = "layer") throws(BoundaryError) -> LayerCore {
        guard let handle else { throw .nullPointer(name) }
        return UnsafeMutablePointer<LayerCore>(handle).pointee
    }

    /// The layer, or nil for a NULL handle (for the query functions that return 0 on NULL).
    static func layerIfAny(_ handle: OpaquePointer?) -> LayerCore? {
        guard let handle else { return nil }
        return UnsafeMutablePointer<LayerCore>(handle).pointee
    }

    static func release(_ handle: OpaquePointer) {
        let record = UnsafeMutablePointer<LayerCore>(handle)
        record.pointee.deallocate()
        record.deinitialize(count: 1)
        free(record)
    }
}
