import CFastfood
import FastfoodCore
import FastfoodEngine

// Creating, destroying and describing layers.

@c @implementation
public func fastfood_layer_create(
    _ in_features: Int, _ out_features: Int, _ seed: UInt64, _ flags: UInt32,
    _ out_layer: UnsafeMutablePointer<OpaquePointer?>?
) -> fastfood_status {
    exported("fastfood_layer_create") { () throws(BoundaryError) in
        let destination = try Validate.nonNull(out_layer, "out_layer")
        try Validate.flags(flags, allowed: FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED, "flags")
        let shape: LayerShape
        do throws(LayerShape.Failure) {
            shape = try LayerShape(inFeatures: in_features, outFeatures: out_features,
                                   hasBias: flags & FASTFOOD_LAYER_BIAS != 0,
                                   isNormalized: flags & FASTFOOD_LAYER_NORMALIZED != 0)
        } catch {
            throw describe(error, in_features: in_features, out_features: out_features)
        }
        guard let layer = LayerCore.make(shape: shape, seed: seed) else {
            throw .outOfMemory("could not allocate the permutations of a \(in_features) -> \(out_features) layer (\(shape.diagonalLength) entries)")
        }
        guard let handle = LayerHandle.make(layer) else {
            throw .outOfMemory("could not allocate the layer's handle")
        }
        destination.pointee = handle
    }
}

private func describe(_ failure: LayerShape.Failure, in_features: Int, out_features: Int) -> BoundaryError {
    switch failure {
    case .zeroInFeatures:
        .invalidArgument("in_features is 0; it must be at least 1")
    case .zeroOutFeatures:
        .invalidArgument("out_features is 0; it must be at least 1")
    case .inFeaturesTooLarge:
        .invalidArgument("in_features (\(unsigned(in_features))) exceeds FASTFOOD_MAX_IN_FEATURES (\(LayerShape.maxInFeatures))")
    case .parameterCountOverflows:
        out_features < 0
            ? .sizeOverflow("out_features (\(unsigned(out_features))) is larger than any addressable array")
            : .sizeOverflow("a \(in_features) -> \(out_features) layer would have more parameters than an address space holds")
    }
}

@c @implementation
public func fastfood_layer_destroy(_ layer: OpaquePointer?) {
    guard let layer else { return }
    LayerHandle.release(layer)
}

// The queries: 0 for a NULL layer, as documented.
@c @implementation public func fastfood_layer_in_features(_ layer: OpaquePointer?) -> Int { query(layer) { $0.shape.inFeatures } }
@c @implementation public func fastfood_layer_out_features(_ layer: OpaquePointer?) -> Int { query(layer) { $0.shape.outFeatures } }
@c @implementation public func fastfood_layer_block_size(_ layer: OpaquePointer?) -> Int { query(layer) { $0.shape.blockSize } }
@c @implementation public func fastfood_layer_num_blocks(_ layer: OpaquePointer?) -> Int { query(layer) { $0.shape.blockCount } }
@c @implementation public func fastfood_layer_param_count(_ layer: OpaquePointer?) -> Int { query(layer) { $0.shape.parameterCount } }
@c @implementation public func fastfood_layer_flags(_ layer: OpaquePointer?) -> UInt32 { query(layer) { $0.shape.flagBits } }
@c @implementation public func fastfood_layer_seed(_ layer: OpaquePointer?) -> UInt64 { query(layer) { $0.seed } }

private func query<R: BinaryInteger>(_ handle: OpaquePointer?, _ field: (LayerCore) -> R) -> R {
    LayerHandle.layerIfAny(handle).map(field) ?? 0
}

@c @implementation
public func fastfood_layer_permutation(_ layer: OpaquePointer?, _ perm: UnsafeMutablePointer<Int>?) -> fastfood_status {
    exported("fastfood_layer_permutation") { () throws(BoundaryError) in
        let layer = try LayerHandle.layer(layer)
        let destination = try Validate.nonNull(perm, "perm")
        layer.copyPermutation(into: destination)
    }
}
