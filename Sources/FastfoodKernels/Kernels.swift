import FastfoodCore

/// The entry points of one kernel variant. The same sources are compiled three times, as
/// FastfoodKernels (baseline x86-64), FastfoodKernelsAVX2 (-target-cpu haswell) and
/// FastfoodKernelsAVX512 (-target-cpu skylake-avx512); the engine picks one at load time.
/// Every variant computes bit-identical results: the same IEEE operations in the same order.
/// The one fused multiply-add (AVX2 and AVX-512, FastfoodFloat.signedSum) multiplies by +-1,
/// an exact product, so it rounds exactly like the add it replaces.
public enum Kernels {
    public static func forward(_ unit: ForwardUnit<Float>) { ForwardKernels.run(unit) }
    public static func forward(_ unit: ForwardUnit<Double>) { ForwardKernels.run(unit) }
    public static func backward(_ unit: BackwardUnit<Float>) { BackwardKernels.run(unit) }
    public static func backward(_ unit: BackwardUnit<Double>) { BackwardKernels.run(unit) }

    /// In-place unnormalised FWHT of the 2^log2Length contiguous elements at `data`.
    public static func transform(_ data: UnsafeMutablePointer<Float>, log2Length: Int) {
        WalshHadamard.transform(data, log2Length: log2Length)
    }
    public static func transform(_ data: UnsafeMutablePointer<Double>, log2Length: Int) {
        WalshHadamard.transform(data, log2Length: log2Length)
    }
}
