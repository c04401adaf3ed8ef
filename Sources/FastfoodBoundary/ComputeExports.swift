import CFastfood
import FastfoodEngine

// Forward and backward passes. Each export validates every argument (shared generic helpers),
// then calls the engine's concrete Float or Double kernel.

@c @implementation
public func fastfood_forward_f32(
    _ layer: OpaquePointer?, _ params: UnsafePointer<Float>?, _ batch: Int,
    _ x: UnsafePointer<Float>?, _ ldx: Int, _ y: UnsafeMutablePointer<Float>?, _ ldy: Int
) -> fastfood_status {
    exported("fastfood_forward_f32") { () throws(BoundaryError) in
        guard let a = try ForwardArguments(layer, params, batch, x, ldx, y, ldy) else { return }
        do throws(ComputeFailure) { try a.layer.forward(params: a.params, batch: batch, x: a.x, ldx: ldx, y: a.y, ldy: ldy) }
        catch { throw workspaceFailure(a.layer) }
    }
}

@c @implementation
public func fastfood_forward_f64(
    _ layer: OpaquePointer?, _ params: UnsafePointer<Double>?, _ batch: Int,
    _ x: UnsafePointer<Double>?, _ ldx: Int, _ y: UnsafeMutablePointer<Double>?, _ ldy: Int
) -> fastfood_status {
    exported("fastfood_forward_f64") { () throws(BoundaryError) in
        guard let a = try ForwardArguments(layer, params, batch, x, ldx, y, ldy) else { return }
        do throws(ComputeFailure) { try a.layer.forward(params: a.params, batch: batch, x: a.x, ldx: ldx, y: a.y, ldy: ldy) }
        catch { throw workspaceFailure(a.layer) }
    }
}

@c @implementation
public func fastfood_backward_f32(
    _ layer: OpaquePointer?, _ params: UnsafePointer<Float>?, _ batch: Int,
    _ x: UnsafePointer<Float>?, _ ldx: Int, _ dy: UnsafePointer<Float>?, _ lddy: Int,
    _ dx: UnsafeMutablePointer<Float>?, _ lddx: Int, _ dparams: UnsafeMutablePointer<Float>?,
    _ flags: UInt32
) -> fastfood_status {
    exported("fastfood_backward_f32") { () throws(BoundaryError) in
        guard let a = try BackwardArguments(layer, params, batch, x, ldx, dy, lddy, dx, lddx, dparams, flags)
        else { return }
        do throws(ComputeFailure) {
            try a.layer.backward(params: a.params, batch: batch, x: x, ldx: ldx, dy: a.dy, lddy: lddy,
                                 dx: dx, lddx: lddx, dparams: dparams, accumulate: a.accumulate,
                                 sections: a.sections)
        } catch { throw workspaceFailure(a.layer) }
    }
}

@c @implementation
public func fastfood_backward_f64(
    _ layer: OpaquePointer?, _ params: UnsafePointer<Double>?, _ batch: Int,
    _ x: UnsafePointer<Double>?, _ ldx: Int, _ dy: UnsafePointer<Double>?, _ lddy: Int,
    _ dx: UnsafeMutablePointer<Double>?, _ lddx: Int, _ dparams: UnsafeMutablePointer<Double>?,
    _ flags: UInt32
) -> fastfood_status {
    exported("fastfood_backward_f64") { () throws(BoundaryError) in
        guard let a = try BackwardArguments(layer, params, batch, x, ldx, dy, lddy, dx, lddx, dparams, flags)
        else { return }
        do throws(ComputeFailure) {
            try a.layer.backward(params: a.params, batch: batch, x: x, ldx: ldx, dy: a.dy, lddy: lddy,
                                 dx: dx, lddx: lddx, dparams: dparams, accumulate: a.accumulate,
                                 sections: a.sections)
        } catch { throw workspaceFailure(a.layer) }
    }
}

/// Every flag the backward calls accept.
let backwardFlags = FASTFOOD_ACCUMULATE | FASTFOOD_SKIP_GRAD_S | FASTFOOD_SKIP_GRAD_G | FASTFOOD_SKIP_GRAD_B

func workspaceFailure(_ layer: LayerCore) -> BoundaryError {
    .outOfMemory("could not allocate temporary work space for block size \(layer.shape.blockSize)")
}

/// Validated forward arguments; nil when batch is 0 (nothing to do).
struct ForwardArguments<T> {
    let layer: LayerCore
    let params: UnsafePointer<T>
    let x: UnsafePointer<T>
    let y: UnsafeMutablePointer<T>

    init?(
        _ handle: OpaquePointer?, _ params: UnsafePointer<T>?, _ batch: Int,
        _ x: UnsafePointer<T>?, _ ldx: Int, _ y: UnsafeMutablePointer<T>?, _ ldy: Int,
        outputWidthFactor: Int = 1, yName: StaticString = "y", yStrideName: StaticString = "ldy"
    ) throws(BoundaryError) {
        layer = try LayerHandle.layer(handle)
        self.params = try Validate.nonNull(params, "params")
        try Validate.rowCount(batch)
        if batch == 0 { return nil }
        let shape = layer.shape
        self.x = try Validate.nonNull(x, "x")
        self.y = try Validate.nonNull(y, yName)
        try Validate.matrix(T.self, rows: batch, width: shape.inFeatures, stride: ldx,
                            name: "x", strideName: "ldx", widthName: "in_features")
        try Validate.matrix(T.self, rows: batch, width: outputWidthFactor * shape.outFeatures, stride: ldy,
                            name: yName, strideName: yStrideName,
                            widthName: outputWidthName(outputWidthFactor))
    }
}

/// Validated backward arguments; nil when there is nothing left to do (batch 0).
struct BackwardArguments<T: BinaryFloatingPoint> {
    let layer: LayerCore
    let params: UnsafePointer<T>
    let dy: UnsafePointer<T>
    let accumulate: Bool
    let sections: GradientSections

    init?(
        _ handle: OpaquePointer?, _ params: UnsafePointer<T>?, _ batch: Int,
        _ x: UnsafePointer<T>?, _ ldx: Int, _ dy: UnsafePointer<T>?, _ lddy: Int,
        _ dx: UnsafeMutablePointer<T>?, _ lddx: Int, _ dparams: UnsafeMutablePointer<T>?,
        _ flags: UInt32, outputWidthFactor: Int = 1, dyName: StaticString = "dy", dyStrideName: StaticString = "lddy"
    ) throws(BoundaryError) {
        layer = try LayerHandle.layer(handle)
        self.params = try Validate.nonNull(params, "params")
        try Validate.flags(flags, allowed: backwardFlags, "flags")
        try Validate.rowCount(batch)
        accumulate = flags & FASTFOOD_ACCUMULATE != 0
        sections = GradientSections(scale: flags & FASTFOOD_SKIP_GRAD_S == 0,
                                    gaussian: flags & FASTFOOD_SKIP_GRAD_G == 0,
                                    sign: flags & FASTFOOD_SKIP_GRAD_B == 0)
        let shape = layer.shape
        if batch == 0 {
            // The sum over an empty batch is zero (in the sections that are computed).
            if let dparams, !accumulate {
                let kd = shape.diagonalLength
                if sections.scale { (dparams + shape.scaleOffset).update(repeating: 0, count: kd) }
                if sections.gaussian { (dparams + shape.gaussianOffset).update(repeating: 0, count: kd) }
                if sections.sign { (dparams + shape.signOffset).update(repeating: 0, count: kd) }
                if shape.hasBias { (dparams + shape.biasOffset).update(repeating: 0, count: shape.outFeatures) }
            }
            return nil
        }
        self.dy = try Validate.nonNull(dy, dyName)
        try Validate.matrix(T.self, rows: batch, width: outputWidthFactor * shape.outFeatures, stride: lddy,
                            name: dyName, strideName: dyStrideName,
                            widthName: outputWidthName(outputWidthFactor))
        if dparams != nil {
            guard x != nil else {
                throw .nullPointer("x (required when dparams is not NULL)")
            }
            try Validate.matrix(T.self, rows: batch, width: shape.inFeatures, stride: ldx,
                                name: "x", strideName: "ldx", widthName: "in_features")
        }
        if dx != nil {
            try Validate.matrix(T.self, rows: batch, width: shape.inFeatures, stride: lddx,
                                name: "dx", strideName: "lddx", widthName: "in_features")
        }
    }
}

/// How messages name an output's width: out_features, or a multiple of it (random features).
private func outputWidthName(_ factor: Int) -> StaticString {
    factor == 1 ? "out_features" : "2 * out_features"  // the only other factor: random features
}
