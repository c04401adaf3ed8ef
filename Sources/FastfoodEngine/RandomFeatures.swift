import FastfoodCore

/// Random Fourier features on the layer (Le et al.; paper section 3.2): with z = layer(x)
/// (out_features numbers: V x, plus bias if the layer has one),
///     phi(x) = sqrt(1 / out) [cos(z), sin(z)]        (2 out numbers per row),
/// so that phi(x) . phi(x') approximates exp(-||x - x'||^2 / (2 sigma^2)) for the RBF
/// initialisation of bandwidth sigma. Backward: dz = sqrt(1 / out) (cos(z) dsin - sin(z) dcos),
/// then the layer's backward. Both run inside the layer's kernels, unit by unit (cos and sin in
/// vector registers, SineCosine in the kernels): forward writes z into phi's first half and
/// finishes each row in place; backward recomputes each unit's z in that unit's scratch.
enum RandomFeatures {
    // Specialised for both element types: the generic entry points dispatch to these.
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func forward<T: FastfoodScalar>(
        _ layer: LayerCore, params: UnsafePointer<T>, batch: Int, x: UnsafePointer<T>, ldx: Int,
        phi: UnsafeMutablePointer<T>, ldphi: Int
    ) throws(ComputeFailure) {
        try LayerForward.run(layer, params: params, batch: batch, x: x, ldx: ldx, y: phi, ldy: ldphi, features: true)
    }

    // Specialised for both element types: the generic entry points dispatch to these.
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func backward<T: FastfoodScalar>(
        _ layer: LayerCore, params: UnsafePointer<T>, batch: Int, x: UnsafePointer<T>, ldx: Int,
        dphi: UnsafePointer<T>, lddphi: Int, outputs: LayerBackward.Outputs<T>
    ) throws(ComputeFailure) {
        var outputs = outputs
        outputs.features = true
        try LayerBackward.run(layer, params: params, batch: batch, x: x, ldx: ldx, dy: dphi, lddy: lddphi,
                              outputs: outputs)
    }

    /// Backward from the forward's saved phi: dz = c * dsin - s * dcos with [c | s] = phi, no cos
    /// or sin and no recompute of z; x only for parameter gradients (the layer's own recompute).
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func backward<T: FastfoodScalar>(
        _ layer: LayerCore, params: UnsafePointer<T>, batch: Int, x: UnsafePointer<T>?, ldx: Int,
        phi: UnsafePointer<T>, ldphi: Int, dphi: UnsafePointer<T>, lddphi: Int, outputs: LayerBackward.Outputs<T>
    ) throws(ComputeFailure) {
        var outputs = outputs
        outputs.savedPhi = (phi, ldphi)
        try LayerBackward.run(layer, params: params, batch: batch, x: x, ldx: ldx, dy: dphi, lddy: lddphi,
                              outputs: outputs)
    }
}

extension LayerDescription {
    /// phi rows of 2 * outFeatures: [cos(z) | sin(z)] / sqrt(outFeatures).
    public func featuresForward<T: FastfoodScalar>(
        params: UnsafePointer<T>, batch: Int, x: UnsafePointer<T>, ldx: Int, phi: UnsafeMutablePointer<T>, ldphi: Int
    ) throws(ComputeFailure) {
        try RandomFeatures.forward(core, params: params, batch: batch, x: x, ldx: ldx, phi: phi, ldphi: ldphi)
    }

    public func featuresBackward<T: FastfoodScalar>(
        params: UnsafePointer<T>, batch: Int, x: UnsafePointer<T>, ldx: Int,
        dphi: UnsafePointer<T>, lddphi: Int, dx: UnsafeMutablePointer<T>?, lddx: Int,
        dparams: UnsafeMutablePointer<T>?, accumulate: Bool, sections: GradientSections = .all
    ) throws(ComputeFailure) {
        try RandomFeatures.backward(core, params: params, batch: batch, x: x, ldx: ldx, dphi: dphi, lddphi: lddphi,
                                    outputs: .init(dx: dx, lddx: lddx, dparams: dparams, accumulate: accumulate,
                                                   sections: sections))
    }

    /// The same gradients from the forward's phi (rows of 2 * outFeatures) instead of a recompute:
    /// x is read only for dparams, as in backward.
    public func featuresBackward<T: FastfoodScalar>(
        params: UnsafePointer<T>, batch: Int, x: UnsafePointer<T>?, ldx: Int, phi: UnsafePointer<T>, ldphi: Int,
        dphi: UnsafePointer<T>, lddphi: Int, dx: UnsafeMutablePointer<T>?, lddx: Int,
        dparams: UnsafeMutablePointer<T>?, accumulate: Bool, sections: GradientSections = .all
    ) throws(ComputeFailure) {
        try RandomFeatures.backward(core, params: params, batch: batch, x: x, ldx: ldx, phi: phi, ldphi: ldphi,
                                    dphi: dphi, lddphi: lddphi,
                                    outputs: .init(dx: dx, lddx: lddx, dparams: dparams, accumulate: accumulate,
                                                   sections: sections))
    }
}
