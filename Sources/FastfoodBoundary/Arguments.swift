import CFastfood
import FastfoodCore
import FastfoodEngine

/// Argument checks shared by the exported functions (each throws the documented status with a
/// sentence naming the argument, its value and what was expected), then the validated arguments
/// of each kind of call.
enum Validate {
    static func nonNull<P>(_ pointer: P?, _ name: StaticString) throws(BoundaryError) -> P {
        guard let pointer else { throw .nullPointer(name) }
        return pointer
    }

    static func flags(_ flags: UInt32, allowed: UInt32, _ name: StaticString) throws(BoundaryError) {
        let unknown = flags & ~allowed
        guard unknown == 0 else {
            throw .invalidArgument("\(name) has unknown bits 0x\(hex: unknown) (allowed mask 0x\(hex: allowed))")
        }
    }

    /// A row-major matrix of `rows` rows of `width` elements with row stride `stride`: the stride
    /// covers the row, and the whole extent, (rows - 1) * stride + width elements of `T`, is
    /// addressable. Returns nothing: the pointer itself is checked separately.
    static func matrix<T>(
        _ type: T.Type, rows: Int, width: Int, stride: Int, name: StaticString, strideName: StaticString,
        widthName: StaticString
    ) throws(BoundaryError) {
        guard stride >= 0 else {
            throw .sizeOverflow("\(strideName) (\(unsigned(stride))) is larger than any addressable array")
        }
        guard stride >= width else {
            throw .invalidArgument("\(strideName) (\(stride)) is smaller than \(widthName) (\(width)); a row stride must be at least the row length")
        }
        let (span, o1) = (rows - 1).multipliedReportingOverflow(by: stride)
        let (elements, o2) = span.addingReportingOverflow(width)
        let (_, o3) = elements.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !(o1 || o2 || o3) else {
            throw .sizeOverflow("\(name) would span (\(rows) - 1) * \(strideName) (\(stride)) + \(width) elements, more than an address space holds")
        }
    }

    /// A count of rows (`name`: the argument): any value below 2^63 is acceptable.
    static func rowCount(_ rows: Int, _ name: StaticString = "batch") throws(BoundaryError) {
        guard rows >= 0 else {
            throw .sizeOverflow("\(name) (\(unsigned(rows))) is larger than any addressable array")
        }
    }

    /// An output must not share memory with an input or another output: such a call used to run
    /// and give wrong results (rows read after they were overwritten). With `sameRowsAllowed` the
    /// output may be exactly the other's rows (the documented in-place uses).
    @inline(__always)
    static func apart(_ output: MemorySpan, _ outputName: StaticString, _ other: MemorySpan, _ otherName: StaticString,
                      sameRowsAllowed: Bool = false) throws(BoundaryError) {
        if sameRowsAllowed && output.isSameRows(as: other) { return }
        guard output.overlaps(other) else { return }
        throw overlapping(outputName, otherName, sameRowsAllowed: sameRowsAllowed)
    }

    private static func overlapping(_ outputName: StaticString, _ otherName: StaticString,
                                    sameRowsAllowed: Bool) -> BoundaryError {
        if sameRowsAllowed {
            return .invalidArgument("\(outputName) overlaps \(otherName) without being exactly its rows (the same pointer and, for more than one row, the same row stride)")
        }
        return .invalidArgument("\(outputName) overlaps \(otherName); an output may not share memory with it")
    }
}

/// The backward calls' outputs (dx, dparams; nil when not wanted): checked apart from each other
/// when made, and from each input the call reads by apart(from:).
struct BackwardOutputs {
    let dx: MemorySpan?
    let dparams: MemorySpan?

    init(dx: MemorySpan?, dparams: MemorySpan?) throws(BoundaryError) {
        if let dx, let dparams { try Validate.apart(dparams, "dparams", dx, "dx") }
        (self.dx, self.dparams) = (dx, dparams)
    }

    /// dx may be exactly the rows of an input matrix (an in-place backward, since 1.4); of params
    /// (`dxMayBeIt` false), and overlaps of any other kind, are refused.
    @inline(__always)
    func apart(from input: MemorySpan, _ name: StaticString, dxMayBeIt: Bool = true) throws(BoundaryError) {
        if let dx { try Validate.apart(dx, "dx", input, name, sameRowsAllowed: dxMayBeIt) }
        if let dparams { try Validate.apart(dparams, "dparams", input, name) }
    }
}

/// Every flag the backward calls accept.
let backwardFlags = FASTFOOD_ACCUMULATE | FASTFOOD_SKIP_GRAD_S | FASTFOOD_SKIP_GRAD_G | FASTFOOD_SKIP_GRAD_B

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
        let ySpan = MemorySpan(UnsafePointer(self.y), rows: batch, width: outputWidthFactor * shape.outFeatures, stride: ldy)
        try Validate.apart(ySpan, yName, MemorySpan(self.x, rows: batch, width: shape.inFeatures, stride: ldx), "x",
                           sameRowsAllowed: true)
        try Validate.apart(ySpan, yName, MemorySpan(self.params, count: shape.parameterCount), "params")
    }
}

/// Validated backward arguments; nil when there is nothing left to do (batch 0).
struct BackwardArguments<T: BinaryFloatingPoint> {
    let layer: LayerCore
    let params: UnsafePointer<T>
    let dy: UnsafePointer<T>
    /// x when the call reads it (dparams wanted, or `xRequired`), else nil.
    let x: UnsafePointer<T>?
    let accumulate: Bool
    let sections: GradientSections
    /// For the checks of inputs that only a caller knows of (phi).
    let outputs: BackwardOutputs

    /// `xRequired`: the NULL message when x is read whether or not dparams is wanted. Inlined
    /// into each call's specialisation (as a generic call it looks its types up at run time).
    @inline(__always)
    init?(
        _ handle: OpaquePointer?, _ params: UnsafePointer<T>?, _ batch: Int,
        _ x: UnsafePointer<T>?, _ ldx: Int, _ dy: UnsafePointer<T>?, _ lddy: Int,
        _ dx: UnsafeMutablePointer<T>?, _ lddx: Int, _ dparams: UnsafeMutablePointer<T>?,
        _ flags: UInt32, outputWidthFactor: Int = 1, dyName: StaticString = "dy", dyStrideName: StaticString = "lddy",
        xRequired: StaticString? = nil
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
        let paramSpan = MemorySpan(self.params, count: shape.parameterCount)
        let dparamsSpan = dparams.map { MemorySpan(UnsafePointer($0), count: shape.parameterCount) }
        if batch == 0 {
            // The sum over an empty batch is zero (in the sections that are computed).
            if let dparams, let dparamsSpan, !accumulate {
                try Validate.apart(dparamsSpan, "dparams", paramSpan, "params")
                shape.layout.forEachWritten(sections) { range in
                    (dparams + range.lowerBound).update(repeating: 0, count: range.count)
                }
            }
            return nil
        }
        self.dy = try Validate.nonNull(dy, dyName)
        try Validate.matrix(T.self, rows: batch, width: outputWidthFactor * shape.outFeatures, stride: lddy,
                            name: dyName, strideName: dyStrideName,
                            widthName: outputWidthName(outputWidthFactor))
        if dparams != nil || xRequired != nil {
            guard let x else {
                throw .nullPointer(dparams != nil ? "x (required when dparams is not NULL)" : xRequired ?? "x")
            }
            try Validate.matrix(T.self, rows: batch, width: shape.inFeatures, stride: ldx,
                                name: "x", strideName: "ldx", widthName: "in_features")
            self.x = x
        } else {
            self.x = nil
        }
        var dxSpan: MemorySpan?
        if let dx {
            try Validate.matrix(T.self, rows: batch, width: shape.inFeatures, stride: lddx,
                                name: "dx", strideName: "lddx", widthName: "in_features")
            dxSpan = MemorySpan(UnsafePointer(dx), rows: batch, width: shape.inFeatures, stride: lddx)
        }
        outputs = try BackwardOutputs(dx: dxSpan, dparams: dparamsSpan)
        try outputs.apart(from: paramSpan, "params", dxMayBeIt: false)
        try outputs.apart(from: MemorySpan(self.dy, rows: batch, width: outputWidthFactor * shape.outFeatures,
                                           stride: lddy), dyName)
        if let x = self.x {
            try outputs.apart(from: MemorySpan(x, rows: batch, width: shape.inFeatures, stride: ldx), "x")
        }
    }
}

/// How messages name an output's width: out_features, or a multiple of it (random features).
private func outputWidthName(_ factor: Int) -> StaticString {
    factor == 1 ? "out_features" : "2 * out_features"  // the only other factor: random features
}

/// Validated feature-backward arguments; nil when batch is 0 (dparams zeroed as for backward).
struct FeatureBackwardArguments<T: BinaryFloatingPoint> {
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
        // dphi stands in for dy in the common checks; x is always read (z is recomputed from it).
        guard let common = try BackwardArguments(handle, params, batch, x, ldx, dphi, lddphi, dx, lddx, dparams, flags,
                                                 outputWidthFactor: 2, dyName: "dphi", dyStrideName: "lddphi",
                                                 xRequired: "x (required: the features are recomputed from it)"),
              let x = common.x
        else { return nil }
        (layer, self.params, self.x, self.dphi) = (common.layer, common.params, x, common.dy)
        (accumulate, sections) = (common.accumulate, common.sections)
    }
}

/// The training calls' dropout arguments, checked by `validated()`.
struct DropoutRates {
    let input, permuted, output: Double
    let seed, step: UInt64

    init(_ input: Double, _ permuted: Double, _ output: Double, _ seed: UInt64, _ step: UInt64) {
        (self.input, self.permuted, self.output, self.seed, self.step) = (input, permuted, output, seed, step)
    }

    func validated() throws(BoundaryError) -> Dropout {
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
}

/// Validated arguments of the feature backward from a saved phi: the backward's, with dphi for
/// dy (x only for dparams), and phi, 2 * out_features wide; nil when batch is 0.
struct SavedFeatureBackwardArguments<T: BinaryFloatingPoint> {
    let common: BackwardArguments<T>
    let phi: UnsafePointer<T>

    init?(
        _ handle: OpaquePointer?, _ params: UnsafePointer<T>?, _ batch: Int, _ x: UnsafePointer<T>?, _ ldx: Int,
        _ phi: UnsafePointer<T>?, _ ldphi: Int, _ dphi: UnsafePointer<T>?, _ lddphi: Int,
        _ dx: UnsafeMutablePointer<T>?, _ lddx: Int, _ dparams: UnsafeMutablePointer<T>?, _ flags: UInt32
    ) throws(BoundaryError) {
        guard let common = try BackwardArguments(handle, params, batch, x, ldx, dphi, lddphi, dx, lddx, dparams, flags,
                                                 outputWidthFactor: 2, dyName: "dphi", dyStrideName: "lddphi")
        else { return nil }
        self.phi = try Validate.nonNull(phi, "phi")
        try Validate.matrix(T.self, rows: batch, width: 2 * common.layer.shape.outFeatures, stride: ldphi,
                            name: "phi", strideName: "ldphi", widthName: "2 * out_features")
        try common.outputs.apart(from: MemorySpan(self.phi, rows: batch, width: 2 * common.layer.shape.outFeatures,
                                                  stride: ldphi), "phi")
        self.common = common
    }
}
