import CFastfood
import FastfoodEngine

// Parameter initialisation: the RBF one of 1.0 and the presets. One generic function validates
// and fills; each export is one line naming itself.

func initialize<T: FastfoodScalar>(
    _ name: StaticString, _ layer: OpaquePointer?, _ preset: UInt32, _ seed: UInt64, _ value: Double,
    valueName: StaticString, _ params: UnsafeMutablePointer<T>?
) -> fastfood_status {
    exported(name) { () throws(BoundaryError) in
        let (layer, preset, params) = try presetArguments(layer, preset, value, sigmaCall: valueName.utf8Start == sigmaName.utf8Start, params)
        try initializeChecked(layer, preset, seed: seed, value: value, valueName: valueName, into: params)
    }
}

@c @implementation public func fastfood_init_params_f32(_ layer: OpaquePointer?, _ seed: UInt64, _ sigma: Double,
    _ params: UnsafeMutablePointer<Float>?) -> fastfood_status {
    initialize("fastfood_init_params_f32", layer, InitPreset.rbf.rawValue, seed, sigma, valueName: sigmaName, params)
}
@c @implementation public func fastfood_init_params_f64(_ layer: OpaquePointer?, _ seed: UInt64, _ sigma: Double,
    _ params: UnsafeMutablePointer<Double>?) -> fastfood_status {
    initialize("fastfood_init_params_f64", layer, InitPreset.rbf.rawValue, seed, sigma, valueName: sigmaName, params)
}

@c @implementation public func fastfood_init_params_preset_f32(_ layer: OpaquePointer?, _ preset: UInt32, _ seed: UInt64,
    _ value: Double, _ params: UnsafeMutablePointer<Float>?) -> fastfood_status {
    initialize("fastfood_init_params_preset_f32", layer, preset, seed, value, valueName: "value", params)
}
@c @implementation public func fastfood_init_params_preset_f64(_ layer: OpaquePointer?, _ preset: UInt32, _ seed: UInt64,
    _ value: Double, _ params: UnsafeMutablePointer<Double>?) -> fastfood_status {
    initialize("fastfood_init_params_preset_f64", layer, preset, seed, value, valueName: "value", params)
}

/// The layer, the preset and params, with value checked for the preset. `sigmaCall`: the 1.0
/// fastfood_init_params_* (RBF only), whose message keeps its 1.0 wording.
private func presetArguments<T>(
    _ handle: OpaquePointer?, _ code: UInt32, _ value: Double, sigmaCall: Bool,
    _ params: UnsafeMutablePointer<T>?
) throws(BoundaryError) -> (LayerCore, InitPreset, UnsafeMutablePointer<T>) {
    let layer = try LayerHandle.layer(handle)
    let params = try Validate.nonNull(params, "params")
    guard let preset = InitPreset(rawValue: code) else {
        throw .invalidArgument("preset (\(code)) is not FASTFOOD_INIT_RBF (0), FASTFOOD_INIT_VARIANCE (1) or FASTFOOD_INIT_NEAR_IDENTITY (2)")
    }
    switch preset {
    case .rbf where !(value.isFinite && value > 0) && sigmaCall:
        throw .invalidArgument("sigma (\(value)) must be finite and greater than 0")
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

/// Fills params with an initialisation, or fails with params untouched: the values are first
/// computed and checked without being stored (they must be representable in T: finite, and S
/// a normal number, neither 0 nor subnormal, for the RBF and variance presets, where it cannot
/// be 0; extreme sigma or gain values, 1e-300 or DBL_MAX, would otherwise give inf or 0
/// parameters), then computed again into params. Twice the arithmetic, no temporary array:
/// since 1.4.3 nothing allocates.
func initializeChecked<T: FastfoodScalar>(
    _ layer: LayerCore, _ preset: InitPreset, seed: UInt64, value: Double, valueName: StaticString,
    into params: UnsafeMutablePointer<T>
) throws(BoundaryError) {
    if let failure = layer.firstUnrepresentableValue(preset: preset, seed: seed, value: value, as: T.self) {
        let type = T.self == Float.self ? "float32" : "float64"
        throw .invalidArgument("\(valueName) (\(value)) gives parameters that are not representable in \(type) (\(failure.diagonal) = \(T(failure.value)))")
    }
    layer.initializeParameters(preset: preset, seed: seed, value: value, into: params)
}

/// The 1.0 calls (RBF only) pass this name for their value, the preset calls "value": the same
/// constant, so `utf8Start` tells them apart.
private let sigmaName: StaticString = "sigma"
