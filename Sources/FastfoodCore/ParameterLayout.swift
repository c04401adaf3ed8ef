/// The parameter layout of fastfood.h, decoded in this one place: one array of
///
///     [ S (K*D) | G (K*D) | B (K*D) | bias (out_features, with FASTFOOD_LAYER_BIAS) ]
///
/// with block k of each of S, G, B at k*D within its section. Gradients use the same layout.
/// Every pointer into a parameter or gradient array, and every section range, is made here.
public struct ParameterLayout: Sendable, Equatable {
    public let shape: LayerShape

    public init(_ shape: LayerShape) { self.shape = shape }

    public var scale: Range<Int> { 0 ..< shape.diagonalLength }
    public var gaussian: Range<Int> { shape.diagonalLength ..< 2 * shape.diagonalLength }
    public var sign: Range<Int> { 2 * shape.diagonalLength ..< 3 * shape.diagonalLength }
    /// Empty without a bias.
    public var bias: Range<Int> { 3 * shape.diagonalLength ..< shape.parameterCount }

    /// The ranges a backward call writes: the requested ones of dS, dG, dB, and dbias whenever
    /// the layer has a bias ("only the requested gradient sections are written").
    /// (A closure, not an array: nothing allocates after a call's first.)
    public func forEachWritten(_ sections: GradientSections, _ body: (Range<Int>) -> Void) {
        if sections.scale { body(scale) }
        if sections.gaussian { body(gaussian) }
        if sections.sign { body(sign) }
        if shape.hasBias { body(bias) }
    }

    /// Block k's slices of a parameter or gradient array at `base` (UnsafePointer or
    /// UnsafeMutablePointer): D elements each of S, G, B, and the block's bias (nil without one).
    /// Inlinable: the kernels (other modules) call it per block and call, and as an unspecialised
    /// generic call it looked BlockSlices<P>'s metadata up at run time each time (about 17% of
    /// the instructions of a 1 x 256 forward + backward, callgrind).
    @inlinable @inline(__always)
    public func block<P: Strideable>(_ k: Int, of base: P) -> BlockSlices<P> where P.Stride == Int {
        let offset = k * shape.blockSize
        return BlockSlices(scale: base.advanced(by: scale.lowerBound + offset),
                           gaussian: base.advanced(by: gaussian.lowerBound + offset),
                           sign: base.advanced(by: sign.lowerBound + offset),
                           bias: shape.hasBias ? base.advanced(by: bias.lowerBound + offset) : nil)
    }
}

/// One block's slices of a parameter or gradient array (see ParameterLayout.block).
public struct BlockSlices<P> {
    public let scale, gaussian, sign: P
    public let bias: P?

    @inlinable
    public init(scale: P, gaussian: P, sign: P, bias: P?) {
        (self.scale, self.gaussian, self.sign, self.bias) = (scale, gaussian, sign, bias)
    }
}

extension LayerShape {
    public var layout: ParameterLayout { ParameterLayout(self) }
}
