/// Which sections of the parameter gradient a backward call computes (the others are left
/// untouched): partly adaptive training, or bias only.
public struct GradientSections: Sendable, Equatable {
    public var scale = true, gaussian = true, sign = true
    public init(scale: Bool = true, gaussian: Bool = true, sign: Bool = true) {
        (self.scale, self.gaussian, self.sign) = (scale, gaussian, sign)
    }
    public static let all = GradientSections()

    /// Whether a backward pass with parameter gradients recomputes the forward pass: dS and dG
    /// use its intermediates, and dB the transposed x it makes. With S, G and B all skipped
    /// (the non-adaptive layer: only the bias trains) dparams needs dy alone.
    public var needsForwardPass: Bool { scale || gaussian || sign }
}
