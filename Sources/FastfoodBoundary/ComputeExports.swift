import CFastfood
import FastfoodEngine

// Forward and backward passes, training mode (dropout) and random features. One generic
// function per operation validates every argument and calls the engine's generic entry point;
// each export is one line naming itself (the header's signatures need one Swift function per
// C function and element type).

func forward<T: FastfoodScalar>(
    _ name: StaticString, _ layer: OpaquePointer?, _ params: UnsafePointer<T>?, _ batch: Int,
    _ x: UnsafePointer<T>?, _ ldx: Int, _ y: UnsafeMutablePointer<T>?, _ ldy: Int, _ rates: DropoutRates? = nil
) -> fastfood_status {
    exported(name) { () throws(BoundaryError) in
        let dropout = try rates?.validated()
        guard let a = try ForwardArguments(layer, params, batch, x, ldx, y, ldy) else { return }
        do throws(ComputeFailure) {
            try a.layer.forward(params: a.params, batch: batch, x: a.x, ldx: ldx, y: a.y, ldy: ldy, dropout: dropout)
        } catch { throw computeFailure(error, a.layer) }
    }
}

func backward<T: FastfoodScalar>(
    _ name: StaticString, _ layer: OpaquePointer?, _ params: UnsafePointer<T>?, _ batch: Int,
    _ x: UnsafePointer<T>?, _ ldx: Int, _ dy: UnsafePointer<T>?, _ lddy: Int, _ dx: UnsafeMutablePointer<T>?,
    _ lddx: Int, _ dparams: UnsafeMutablePointer<T>?, _ flags: UInt32, _ rates: DropoutRates? = nil
) -> fastfood_status {
    exported(name) { () throws(BoundaryError) in
        let dropout = try rates?.validated()
        guard let a = try BackwardArguments(layer, params, batch, x, ldx, dy, lddy, dx, lddx, dparams, flags)
        else { return }
        do throws(ComputeFailure) {
            try a.layer.backward(params: a.params, batch: batch, x: x, ldx: ldx, dy: a.dy, lddy: lddy, dx: dx,
                                 lddx: lddx, dparams: dparams, accumulate: a.accumulate, sections: a.sections,
                                 dropout: dropout)
        } catch { throw computeFailure(error, a.layer) }
    }
}

func featuresForward<T: FastfoodScalar>(
    _ name: StaticString, _ layer: OpaquePointer?, _ params: UnsafePointer<T>?, _ batch: Int,
    _ x: UnsafePointer<T>?, _ ldx: Int, _ phi: UnsafeMutablePointer<T>?, _ ldphi: Int
) -> fastfood_status {
    exported(name) { () throws(BoundaryError) in
        // phi is 2 out_features wide; otherwise the arguments are the forward's.
        guard let a = try ForwardArguments(layer, params, batch, x, ldx, phi, ldphi,
                                           outputWidthFactor: 2, yName: "phi", yStrideName: "ldphi") else { return }
        do throws(ComputeFailure) {
            try a.layer.featuresForward(params: a.params, batch: batch, x: a.x, ldx: ldx, phi: a.y, ldphi: ldphi)
        } catch { throw computeFailure(error, a.layer) }
    }
}

func featuresBackward<T: FastfoodScalar>(
    _ name: StaticString, _ layer: OpaquePointer?, _ params: UnsafePointer<T>?, _ batch: Int,
    _ x: UnsafePointer<T>?, _ ldx: Int, _ dphi: UnsafePointer<T>?, _ lddphi: Int, _ dx: UnsafeMutablePointer<T>?,
    _ lddx: Int, _ dparams: UnsafeMutablePointer<T>?, _ flags: UInt32
) -> fastfood_status {
    exported(name) { () throws(BoundaryError) in
        guard let f = try FeatureBackwardArguments(layer, params, batch, x, ldx, dphi, lddphi, dx, lddx, dparams, flags)
        else { return }
        do throws(ComputeFailure) {
            try f.layer.featuresBackward(params: f.params, batch: batch, x: f.x, ldx: ldx, dphi: f.dphi, lddphi: lddphi,
                                         dx: dx, lddx: lddx, dparams: dparams, accumulate: f.accumulate,
                                         sections: f.sections)
        } catch { throw computeFailure(error, f.layer) }
    }
}

func featuresBackwardFromPhi<T: FastfoodScalar>(
    _ name: StaticString, _ layer: OpaquePointer?, _ params: UnsafePointer<T>?, _ batch: Int,
    _ x: UnsafePointer<T>?, _ ldx: Int, _ phi: UnsafePointer<T>?, _ ldphi: Int, _ dphi: UnsafePointer<T>?,
    _ lddphi: Int, _ dx: UnsafeMutablePointer<T>?, _ lddx: Int, _ dparams: UnsafeMutablePointer<T>?, _ flags: UInt32
) -> fastfood_status {
    exported(name) { () throws(BoundaryError) in
        guard let s = try SavedFeatureBackwardArguments(layer, params, batch, x, ldx, phi, ldphi, dphi, lddphi, dx, lddx,
                                                        dparams, flags)
        else { return }
        let a = s.common
        do throws(ComputeFailure) {
            try a.layer.featuresBackward(params: a.params, batch: batch, x: x, ldx: ldx, phi: s.phi, ldphi: ldphi,
                                         dphi: a.dy, lddphi: lddphi, dx: dx, lddx: lddx, dparams: dparams,
                                         accumulate: a.accumulate, sections: a.sections)
        } catch { throw computeFailure(error, a.layer) }
    }
}

func computeFailure(_ failure: ComputeFailure, _ layer: LayerCore) -> BoundaryError {
    switch failure {
    case .outOfMemory:
        .outOfMemory("could not allocate temporary work space for block size \(layer.shape.blockSize)")
    case .executorBrokeContract:
        .invalidArgument("the executor (fastfood_set_executor) did not run every task exactly once on a free worker slot; the outputs are unspecified")
    }
}

// The exports, f32 then f64 of each.

@c @implementation public func fastfood_forward_f32(_ layer: OpaquePointer?, _ params: UnsafePointer<Float>?, _ batch: Int,
    _ x: UnsafePointer<Float>?, _ ldx: Int, _ y: UnsafeMutablePointer<Float>?, _ ldy: Int) -> fastfood_status {
    forward("fastfood_forward_f32", layer, params, batch, x, ldx, y, ldy)
}
@c @implementation public func fastfood_forward_f64(_ layer: OpaquePointer?, _ params: UnsafePointer<Double>?, _ batch: Int,
    _ x: UnsafePointer<Double>?, _ ldx: Int, _ y: UnsafeMutablePointer<Double>?, _ ldy: Int) -> fastfood_status {
    forward("fastfood_forward_f64", layer, params, batch, x, ldx, y, ldy)
}

@c @implementation public func fastfood_backward_f32(_ layer: OpaquePointer?, _ params: UnsafePointer<Float>?, _ batch: Int,
    _ x: UnsafePointer<Float>?, _ ldx: Int, _ dy: UnsafePointer<Float>?, _ lddy: Int, _ dx: UnsafeMutablePointer<Float>?,
    _ lddx: Int, _ dparams: UnsafeMutablePointer<Float>?, _ flags: UInt32) -> fastfood_status {
    backward("fastfood_backward_f32", layer, params, batch, x, ldx, dy, lddy, dx, lddx, dparams, flags)
}
@c @implementation public func fastfood_backward_f64(_ layer: OpaquePointer?, _ params: UnsafePointer<Double>?, _ batch: Int,
    _ x: UnsafePointer<Double>?, _ ldx: Int, _ dy: UnsafePointer<Double>?, _ lddy: Int, _ dx: UnsafeMutablePointer<Double>?,
    _ lddx: Int, _ dparams: UnsafeMutablePointer<Double>?, _ flags: UInt32) -> fastfood_status {
    backward("fastfood_backward_f64", layer, params, batch, x, ldx, dy, lddy, dx, lddx, dparams, flags)
}

@c @implementation public func fastfood_forward_train_f32(_ layer: OpaquePointer?, _ params: UnsafePointer<Float>?,
    _ batch: Int, _ x: UnsafePointer<Float>?, _ ldx: Int, _ y: UnsafeMutablePointer<Float>?, _ ldy: Int,
    _ drop_input: Double, _ drop_permuted: Double, _ drop_output: Double, _ seed: UInt64, _ step: UInt64) -> fastfood_status {
    forward("fastfood_forward_train_f32", layer, params, batch, x, ldx, y, ldy, .init(drop_input, drop_permuted, drop_output, seed, step))
}
@c @implementation public func fastfood_forward_train_f64(_ layer: OpaquePointer?, _ params: UnsafePointer<Double>?,
    _ batch: Int, _ x: UnsafePointer<Double>?, _ ldx: Int, _ y: UnsafeMutablePointer<Double>?, _ ldy: Int,
    _ drop_input: Double, _ drop_permuted: Double, _ drop_output: Double, _ seed: UInt64, _ step: UInt64) -> fastfood_status {
    forward("fastfood_forward_train_f64", layer, params, batch, x, ldx, y, ldy, .init(drop_input, drop_permuted, drop_output, seed, step))
}

@c @implementation public func fastfood_backward_train_f32(_ layer: OpaquePointer?, _ params: UnsafePointer<Float>?,
    _ batch: Int, _ x: UnsafePointer<Float>?, _ ldx: Int, _ dy: UnsafePointer<Float>?, _ lddy: Int,
    _ dx: UnsafeMutablePointer<Float>?, _ lddx: Int, _ dparams: UnsafeMutablePointer<Float>?, _ flags: UInt32,
    _ drop_input: Double, _ drop_permuted: Double, _ drop_output: Double, _ seed: UInt64, _ step: UInt64) -> fastfood_status {
    backward("fastfood_backward_train_f32", layer, params, batch, x, ldx, dy, lddy, dx, lddx, dparams, flags, .init(drop_input, drop_permuted, drop_output, seed, step))
}
@c @implementation public func fastfood_backward_train_f64(_ layer: OpaquePointer?, _ params: UnsafePointer<Double>?,
    _ batch: Int, _ x: UnsafePointer<Double>?, _ ldx: Int, _ dy: UnsafePointer<Double>?, _ lddy: Int,
    _ dx: UnsafeMutablePointer<Double>?, _ lddx: Int, _ dparams: UnsafeMutablePointer<Double>?, _ flags: UInt32,
    _ drop_input: Double, _ drop_permuted: Double, _ drop_output: Double, _ seed: UInt64, _ step: UInt64) -> fastfood_status {
    backward("fastfood_backward_train_f64", layer, params, batch, x, ldx, dy, lddy, dx, lddx, dparams, flags, .init(drop_input, drop_permuted, drop_output, seed, step))
}

@c @implementation public func fastfood_features_forward_f32(_ layer: OpaquePointer?, _ params: UnsafePointer<Float>?,
    _ batch: Int, _ x: UnsafePointer<Float>?, _ ldx: Int, _ phi: UnsafeMutablePointer<Float>?, _ ldphi: Int) -> fastfood_status {
    featuresForward("fastfood_features_forward_f32", layer, params, batch, x, ldx, phi, ldphi)
}
@c @implementation public func fastfood_features_forward_f64(_ layer: OpaquePointer?, _ params: UnsafePointer<Double>?,
    _ batch: Int, _ x: UnsafePointer<Double>?, _ ldx: Int, _ phi: UnsafeMutablePointer<Double>?, _ ldphi: Int) -> fastfood_status {
    featuresForward("fastfood_features_forward_f64", layer, params, batch, x, ldx, phi, ldphi)
}

@c @implementation public func fastfood_features_backward_f32(_ layer: OpaquePointer?, _ params: UnsafePointer<Float>?,
    _ batch: Int, _ x: UnsafePointer<Float>?, _ ldx: Int, _ dphi: UnsafePointer<Float>?, _ lddphi: Int,
    _ dx: UnsafeMutablePointer<Float>?, _ lddx: Int, _ dparams: UnsafeMutablePointer<Float>?, _ flags: UInt32) -> fastfood_status {
    featuresBackward("fastfood_features_backward_f32", layer, params, batch, x, ldx, dphi, lddphi, dx, lddx, dparams, flags)
}
@c @implementation public func fastfood_features_backward_f64(_ layer: OpaquePointer?, _ params: UnsafePointer<Double>?,
    _ batch: Int, _ x: UnsafePointer<Double>?, _ ldx: Int, _ dphi: UnsafePointer<Double>?, _ lddphi: Int,
    _ dx: UnsafeMutablePointer<Double>?, _ lddx: Int, _ dparams: UnsafeMutablePointer<Double>?, _ flags: UInt32) -> fastfood_status {
    featuresBackward("fastfood_features_backward_f64", layer, params, batch, x, ldx, dphi, lddphi, dx, lddx, dparams, flags)
}

@c @implementation public func fastfood_features_backward_from_phi_f32(_ layer: OpaquePointer?,
    _ params: UnsafePointer<Float>?, _ batch: Int, _ x: UnsafePointer<Float>?, _ ldx: Int, _ phi: UnsafePointer<Float>?,
    _ ldphi: Int, _ dphi: UnsafePointer<Float>?, _ lddphi: Int, _ dx: UnsafeMutablePointer<Float>?, _ lddx: Int,
    _ dparams: UnsafeMutablePointer<Float>?, _ flags: UInt32) -> fastfood_status {
    featuresBackwardFromPhi("fastfood_features_backward_from_phi_f32", layer, params, batch, x, ldx, phi, ldphi, dphi,
                            lddphi, dx, lddx, dparams, flags)
}
@c @implementation public func fastfood_features_backward_from_phi_f64(_ layer: OpaquePointer?,
    _ params: UnsafePointer<Double>?, _ batch: Int, _ x: UnsafePointer<Double>?, _ ldx: Int, _ phi: UnsafePointer<Double>?,
    _ ldphi: Int, _ dphi: UnsafePointer<Double>?, _ lddphi: Int, _ dx: UnsafeMutablePointer<Double>?, _ lddx: Int,
    _ dparams: UnsafeMutablePointer<Double>?, _ flags: UInt32) -> fastfood_status {
    featuresBackwardFromPhi("fastfood_features_backward_from_phi_f64", layer, params, batch, x, ldx, phi, ldphi, dphi,
                            lddphi, dx, lddx, dparams, flags)
}
