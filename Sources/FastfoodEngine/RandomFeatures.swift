import Glibc

/// Random Fourier features on the layer (Le et al.; paper section 3.2): with z = layer(x)
/// (out_features numbers: V x, plus bias if the layer has one),
///     phi(x) = sqrt(1 / out) [cos(z), sin(z)]        (2 out numbers per row),
/// so that phi(x) . phi(x') approximates exp(-||x - x'||^2 / (2 sigma^2)) for the RBF
/// initialisation of bandwidth sigma. Backward: dz = sqrt(1 / out) (cos(z) dsin - sin(z) dcos),
/// then the layer's backward. The z of the batch lives in temporary memory for the call.
enum RandomFeatures {
    /// z = layer(x) for the batch, in fresh memory the caller frees (AlignedMemory.free).
    private static func layerOutputs<T: EngineScalar>(
        _ layer: LayerCore, params: UnsafePointer<T>, batch: Int, x: UnsafePointer<T>, ldx: Int
    ) throws(ComputeFailure) -> UnsafeMutablePointer<T> {
        let out = layer.shape.outFeatures
        guard let z = AlignedMemory.allocate(T.self, count: batch * out) else { throw .outOfMemory }
        do throws(ComputeFailure) { try LayerForward.run(layer, params: params, batch: batch, x: x, ldx: ldx, y: z, ldy: out) }
        catch { AlignedMemory.free(z); throw error }
        return z
    }

    static func forward<T: EngineScalar>(
        _ layer: LayerCore, params: UnsafePointer<T>, batch: Int, x: UnsafePointer<T>, ldx: Int,
        phi: UnsafeMutablePointer<T>, ldphi: Int
    ) throws(ComputeFailure) {
        let out = layer.shape.outFeatures
        let z = try layerOutputs(layer, params: params, batch: batch, x: x, ldx: ldx)
        defer { AlignedMemory.free(z) }
        let scale = T(1 / Double(out).squareRoot())
        for r in 0 ..< batch {
            let row = phi + r * ldphi
            for j in 0 ..< out {
                let value = z[r * out + j]
                row[j] = T.cosine(value) * scale
                row[out + j] = T.sine(value) * scale
            }
        }
    }

    static func backward<T: EngineScalar>(
        _ layer: LayerCore, params: UnsafePointer<T>, batch: Int, x: UnsafePointer<T>, ldx: Int,
        dphi: UnsafePointer<T>, lddphi: Int, outputs: LayerBackward.Outputs<T>
    ) throws(ComputeFailure) {
        let out = layer.shape.outFeatures
        let z = try layerOutputs(layer, params: params, batch: batch, x: x, ldx: ldx)
        defer { AlignedMemory.free(z) }
        let scale = T(1 / Double(out).squareRoot())
        for r in 0 ..< batch {
            let row = dphi + r * lddphi
            for j in 0 ..< out {
                let value = z[r * out + j]
                z[r * out + j] = (T.cosine(value) * row[out + j] - T.sine(value) * row[j]) * scale
            }
        }
        try LayerBackward.run(layer, params: params, batch: batch, x: x, ldx: ldx, dy: z, lddy: out, outputs: outputs)
    }
}

extension Float {
    static func cosine(_ x: Float) -> Float { cosf(x) }
    static func sine(_ x: Float) -> Float { sinf(x) }
}

extension Double {
    static func cosine(_ x: Double) -> Double { cos(x) }
    static func sine(_ x: Double) -> Double { sin(x) }
}

extension LayerDescription {
    /// phi rows of 2 * outFeatures: [cos(z) | sin(z)] / sqrt(outFeatures).
    public func featuresForward(
        params: UnsafePointer<Float>, batch: Int, x: UnsafePointer<Float>, ldx: Int,
        phi: UnsafeMutablePointer<Float>, ldphi: Int
    ) throws(ComputeFailure) {
        try RandomFeatures.forward(core, params: params, batch: batch, x: x, ldx: ldx, phi: phi, ldphi: ldphi)
    }

    public func featuresForward(
        params: UnsafePointer<Double>, batch: Int, x: UnsafePointer<Double>, ldx: Int,
        phi: UnsafeMutablePointer<Double>, ldphi: Int
    ) throws(ComputeFailure) {
        try RandomFeatures.forward(core, params: params, batch: batch, x: x, ldx: ldx, phi: phi, ldphi: ldphi)
    }

    public func featuresBackward(
        params: UnsafePointer<Float>, batch: Int, x: UnsafePointer<Float>, ldx: Int,
        dphi: UnsafePointer<Float>, lddphi: Int, dx: UnsafeMutablePointer<Float>?, lddx: Int,
        dparams: UnsafeMutablePointer<Float>?, accumulate: Bool, sections: GradientSections = .all
    ) throws(ComputeFailure) {
        try RandomFeatures.backward(core, params: params, batch: batch, x: x, ldx: ldx, dphi: dphi, lddphi: lddphi,
                                    outputs: .init(dx: dx, lddx: lddx, dparams: dparams, accumulate: accumulate,
                                                   sections: sections))
    }

    public func featuresBackward(
        params: UnsafePointer<Double>, batch: Int, x: UnsafePointer<Double>, ldx: Int,
        dphi: UnsafePointer<Double>, lddphi: Int, dx: UnsafeMutablePointer<Double>?, lddx: Int,
        dparams: UnsafeMutablePointer<Double>?, accumulate: Bool, sections: GradientSections = .all
    ) throws(ComputeFailure) {
        try RandomFeatures.backward(core, params: params, batch: batch, x: x, ldx: ldx, dphi: dphi, lddphi: lddphi,
                                    outputs: .init(dx: dx, lddx: lddx, dparams: dparams, accumulate: accumulate,
                                                   sections: sections))
    }
}
