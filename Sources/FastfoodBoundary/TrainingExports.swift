import CFastfood
import FastfoodEngine
import Glibc

// Initialisation presets, training-mode dropout and random-feature maps.

@c @implementation
public func fastfood_init_params_preset_f32(
    _ layer: OpaquePointer?, _ preset: UInt32, _ seed: UInt64, _ value: Double, _ params: UnsafeMutablePointer<Float>?
) -> fastfood_status {
    exported("fastfood_init_params_preset_f32") { () throws(BoundaryError) in
        let (layer, preset, params) = try presetArguments(layer, preset, value, params)
        try initializeChecked(layer, preset, seed: seed, value: value, valueName: "value", into: params)
    }
}

@c @implementation
public func fastfood_init_params_preset_f64(
    _ layer: OpaquePointer?, _ preset: UInt32, _ seed: UInt64, _ value: Double, _ params: UnsafeMutablePointer<Double>?
) -> fastfood_status {
    exported("fastfood_init_params_preset_f64") { () throws(BoundaryError) in
        let (layer, preset, params) = try presetArguments(layer, preset, value, params)
        try initializeChecked(layer, preset, seed: seed, value: value, valueName: "value", into: params)
    }
}

private func presetArguments<T>(
    _ handle: OpaquePointer?, _ code: UInt32, _ value: Double, _ params: UnsafeMutablePointer<T>?
) throws(BoundaryError) -> (LayerCore, InitPreset, UnsafeMutablePointer<T>) {
    let layer = try LayerHandle.layer(handle)
    let params = try Validate.nonNull(params, "params")
    guard let preset = InitPreset(rawValue: code) else {
        throw .invalidArgument("preset (\(code)) is not FASTFOOD_INIT_RBF (0), FASTFOOD_INIT_VARIANCE (1) or FASTFOOD_INIT_NEAR_IDENTITY (2)")
    }
    switch preset {
    case .rbf where !(value.isFinite && value > 0):
        throw .invalidArgument("value (\(value)) is sigma for FASTFOOD_INIT_RBF and must be finite and greater than 0")
    case .variance where !(value.isFinite && value > 0):
        throw .invalidArgument("value (\(value)) is the gain for FASTFOOD_INIT_VARIANCE and must be finite and greater than 0")
    case .nearIdentity where !(value.isFinite && value >= 0):
        throw .invalidArgument("value (\(value)) is epsilon for FASTFOOD_INIT_NEAR_IDENTITY and must be finite and at least 0")
    default:
        return (layer, preset, params)
    }
}

private func dropoutArguments(
    _ input: Double, _ permuted: Double, _ output: Double, seed: UInt64, step: UInt64
) throws(BoundaryError) -> Dropout {
    func check(_ rate: Double, _ name: StaticString) throws(BoundaryError) {
        guard rate.isFinite && rate >= 0 && rate < 1 else {
            throw .invalidArgument("\(name) (\(rate)) must be a rate in [0, 1)")
        }
    }
    try check(input, "drop_input")
    try check(permuted, "drop_permuted")
    try check(output, "drop_output")
    return Dropout(input: input, permuted: permuted, output: output, seed: seed, step: step)
}

@c @implementation
public func fastfood_forward_train_f32(
    _ layer: OpaquePointer?, _ params: UnsafePointer<Float>?, _ batch: Int, _ x: UnsafePointer<Float>?, _ ldx: Int,
    _ y: UnsafeMutablePointer<Float>?, _ ldy: Int, _ drop_input: Double, _ drop_permuted: Double,
    _ drop_output: Double, _ seed: UInt64, _ step: UInt64
) -> fastfood_status {
    exported("fastfood_forward_train_f32") { () throws(BoundaryError) in
        let dropout = try dropoutArguments(drop_input, drop_permuted, drop_output, seed: seed, step: step)
        guard let a = try ForwardArguments(layer, params, batch, x, ldx, y, ldy) else { return }
        do throws(ComputeFailure) {
            try a.layer.forward(params: a.params, batch: batch, x: a.x, ldx: ldx, y: a.y, ldy: ldy, dropout: dropout)
        } catch { throw workspaceFailure(a.layer) }
    }
}

@c @implementation
public func fastfood_forward_train_f64(
    _ layer: OpaquePointer?, _ params: UnsafePointer<Double>?, _ batch: Int, _ x: UnsafePointer<Double>?, _ ldx: Int,
    _ y: UnsafeMutablePointer<Double>?, _ ldy: Int, _ drop_input: Double, _ drop_permuted: Double,
    _ drop_output: Double, _ seed: UInt64, _ step: UInt64
) -> fastfood_status {
    exported("fastfood_forward_train_f64") { () throws(BoundaryError) in
        let dropout = try dropoutArguments(drop_input, drop_permuted, drop_output, seed: seed, step: step)
        guard let a = try ForwardArguments(layer, params, batch, x, ldx, y, ldy) else { return }
        do throws(ComputeFailure) {
            try a.layer.forward(params: a.params, batch: batch, x: a.x, ldx: ldx, y: a.y, ldy: ldy, dropout: dropout)
        } catch { throw workspaceFailure(a.layer) }
    }
}

@c @implementation
public func fastfood_backward_train_f32(
    _ layer: OpaquePointer?, _ params: UnsafePointer<Float>?, _ batch: Int, _ x: UnsafePointer<Float>?, _ ldx: Int,
    _ dy: UnsafePointer<Float>?, _ lddy: Int, _ dx: UnsafeMutablePointer<Float>?, _ lddx: Int,
    _ dparams: UnsafeMutablePointer<Float>?, _ flags: UInt32, _ drop_input: Double, _ drop_permuted: Double,
    _ drop_output: Double, _ seed: UInt64, _ step: UInt64
) -> fastfood_status {
    exported("fastfood_backward_train_f32") { () throws(BoundaryError) in
        let dropout = try dropoutArguments(drop_input, drop_permuted, drop_output, seed: seed, step: step)
        guard let a = try BackwardArguments(layer, params, batch, x, ldx, dy, lddy, dx, lddx, dparams, flags)
        else { return }
        do throws(ComputeFailure) {
            try a.layer.backward(params: a.params, batch: batch, x: x, ldx: ldx, dy: a.dy, lddy: lddy, dx: dx,
                                 lddx: lddx, dparams: dparams, accumulate: a.accumulate, sections: a.sections,
                                 dropout: dropout)
        } catch { throw workspaceFailure(a.layer) }
    }
}

@c @implementation
public func fastfood_backward_train_f64(
    _ layer: OpaquePointer?, _ params: UnsafePointer<Double>?, _ batch: Int, _ x: UnsafePointer<Double>?, _ ldx: Int,
    _ dy: UnsafePointer<Double>?, _ lddy: Int, _ dx: UnsafeMutablePointer<Double>?, _ lddx: Int,
    _ dparams: UnsafeMutablePointer<Double>?, _ flags: UInt32, _ drop_input: Double, _ drop_permuted: Double,
    _ drop_output: Double, _ seed: UInt64, _ step: UInt64
) -> fastfood_status {
    exported("fastfood_backward_train_f64") { () throws(BoundaryError) in
        let dropout = try dropoutArguments(drop_input, drop_permuted, drop_output, seed: seed, step: step)
        guard let a = try BackwardArguments(layer, params, batch, x, ldx, dy, lddy, dx, lddx, dparams, flags)
        else { return }
        do throws(ComputeFailure) {
            try a.layer.backward(params: a.params, batch: batch, x: x, ldx: ldx, dy: a.dy, lddy: lddy, dx: dx,
                                 lddx: lddx, dparams: dparams, accumulate: a.accumulate, sections: a.sections,
                                 dropout: dropout)
        } catch { throw workspaceFailure(a.layer) }
    }
}

@c @implementation
public func fastfood_features_forward_f32(
    _ layer: OpaquePointer?, _ params: UnsafePointer<Float>?, _ batch: Int, _ x: UnsafePointer<Float>?, _ ldx: Int,
    _ phi: UnsafeMutablePointer<Float>?, _ ldphi: Int
) -> fastfood_status {
    exported("fastfood_features_forward_f32") { () throws(BoundaryError) in
        // phi is 2 out_features wide; otherwise the arguments are the forward's.
        guard let a = try ForwardArguments(layer, params, batch, x, ldx, phi, ldphi,
                                           outputWidthFactor: 2, yName: "phi", yStrideName: "ldphi") else { return }
        do throws(ComputeFailure) { try a.layer.featuresForward(params: a.params, batch: batch, x: a.x, ldx: ldx, phi: a.y, ldphi: ldphi) }
        catch { throw .outOfMemory("could not allocate \(batch) x \(a.layer.shape.outFeatures) temporary values") }
    }
}

@c @implementation
public func fastfood_features_forward_f64(
    _ layer: OpaquePointer?, _ params: UnsafePointer<Double>?, _ batch: Int, _ x: UnsafePointer<Double>?, _ ldx: Int,
    _ phi: UnsafeMutablePointer<Double>?, _ ldphi: Int
) -> fastfood_status {
    exported("fastfood_features_forward_f64") { () throws(BoundaryError) in
        // phi is 2 out_features wide; otherwise the arguments are the forward's.
        guard let a = try ForwardArguments(layer, params, batch, x, ldx, phi, ldphi,
                                           outputWidthFactor: 2, yName: "phi", yStrideName: "ldphi") else { return }
        do throws(ComputeFailure) { try a.layer.featuresForward(params: a.params, batch: batch, x: a.x, ldx: ldx, phi: a.y, ldphi: ldphi) }
        catch { throw .outOfMemory("could not allocate \(batch) x \(a.layer.shape.outFeatures) temporary values") }
    }
}

@c @implementation
public func fastfood_features_backward_f32(
    _ layer: OpaquePointer?, _ params: UnsafePointer<Float>?, _ batch: Int, _ x: UnsafePointer<Float>?, _ ldx: Int,
    _ dphi: UnsafePointer<Float>?, _ lddphi: Int, _ dx: UnsafeMutablePointer<Float>?, _ lddx: Int,
    _ dparams: UnsafeMutablePointer<Float>?, _ flags: UInt32
) -> fastfood_status {
    exported("fastfood_features_backward_f32") { () throws(BoundaryError) in
        guard let f = try FeatureBackwardArguments(layer, params, batch, x, ldx, dphi, lddphi, dx, lddx, dparams, flags)
        else { return }
        do throws(ComputeFailure) {
            try f.layer.featuresBackward(params: f.params, batch: batch, x: f.x, ldx: ldx, dphi: f.dphi, lddphi: lddphi,
                                         dx: dx, lddx: lddx, dparams: dparams, accumulate: f.accumulate,
                                         sections: f.sections)
        } catch { throw .outOfMemory("could not allocate temporary memory for \(batch) rows") }
    }
}

@c @implementation
public func fastfood_features_backward_f64(
    _ layer: OpaquePointer?, _ params: UnsafePointer<Double>?, _ batch: Int, _ x: UnsafePointer<Double>?, _ ldx: Int,
    _ dphi: UnsafePointer<Double>?, _ lddphi: Int, _ dx: UnsafeMutablePointer<Double>?, _ lddx: Int,
    _ dparams: UnsafeMutablePointer<Double>?, _ flags: UInt32
) -> fastfood_status {
    exported("fastfood_features_backward_f64") { () throws(BoundaryError) in
        guard let f = try FeatureBackwardArguments(layer, params, batch, x, ldx, dphi, lddphi, dx, lddx, dparams, flags)
        else { return }
        do throws(ComputeFailure) {
            try f.layer.featuresBackward(params: f.params, batch: batch, x: f.x, ldx: ldx, dphi: f.dphi, lddphi: lddphi,
                                         dx: dx, lddx: lddx, dparams: dparams, accumulate: f.accumulate,
                                         sections: f.sections)
        } catch { throw .outOfMemory("could not allocate temporary memory for \(batch) rows") }
    }
}

/// Validated feature-backward arguments; nil when batch is 0 (dparams zeroed as for backward).
private struct FeatureBackwardArguments<T: BinaryFloatingPoint> {
    let layer: LayerCore
    let params: UnsafePointer<T>
    let x: UnsafePointer<T>
    let dphi: UnsafePointer<T>
    let accumulate: Bool
    let sections: GradientSections

    init?(
        _ handle: OpaquePointer?, _ params: UnsafePointer<T>?, _ batch: Int, _ x: UnsafePointer<T>?, _ ldx: Int,
        _ dphi: UnsafePointer<T>?, _ lddphi: Int, _ dx: UnsafeMutablePointer<T>?, _ lddx: Int,
        _ dparams: UnsafeMutablePointer<T>?, _ flags: UInt32
    ) throws(BoundaryError) {
        // dphi stands in for dy in the common checks; x is required here (checked below).
        guard let common = try BackwardArguments(handle, params, batch, x, ldx, dphi, lddphi, dx, lddx, dparams, flags,
                                                 outputWidthFactor: 2, dyName: "dphi", dyStrideName: "lddphi")
        else { return nil }
        guard let x else { throw .nullPointer("x (required: the features are recomputed from it)") }
        try Validate.matrix(T.self, rows: batch, width: common.layer.shape.inFeatures, stride: ldx,
                            name: "x", strideName: "ldx", widthName: "in_features")
        (layer, self.params, self.x, self.dphi) = (common.layer, common.params, x, common.dy)
        (accumulate, sections) = (common.accumulate, common.sections)
    }
}

/// Fills params with an initialisation, or fails with params untouched: the values are computed
/// into temporary memory first and must be representable in T (finite; S not flushed to 0 for
/// the RBF and variance presets, where it cannot be 0). Extreme sigma or gain values (1e-300,
/// DBL_MAX) would otherwise give inf or 0 parameters.
func initializeChecked<T: BinaryFloatingPoint>(
    _ layer: LayerCore, _ preset: InitPreset, seed: UInt64, value: Double, valueName: StaticString,
    into params: UnsafeMutablePointer<T>
) throws(BoundaryError) {
    let shape = layer.shape
    let count = shape.parameterCount
    guard let temporary = malloc(count * MemoryLayout<T>.stride)?.bindMemory(to: T.self, capacity: count) else {
        throw .outOfMemory("could not allocate \(count) parameters of temporary memory")
    }
    defer { free(temporary) }
    if let values = temporary as? UnsafeMutablePointer<Float> {
        layer.initializeParameters(preset: preset, seed: seed, value: value, into: values)
    } else if let values = temporary as? UnsafeMutablePointer<Double> {
        layer.initializeParameters(preset: preset, seed: seed, value: value, into: values)
    }
    let scaleMustBeNormal = preset != .nearIdentity
    for i in 0 ..< count {
        let v = temporary[i]
        let isScale = i < shape.diagonalLength
        if !v.isFinite || (isScale && scaleMustBeNormal && !v.isNormal) {
            let type = T.self == Float.self ? "float32" : "float64"
            throw .invalidArgument("\(valueName) (\(value)) gives parameters that are not representable in \(type) (\(isScale ? "S" : "a parameter") = \(v))")
        }
    }
    params.update(from: temporary, count: count)
}
