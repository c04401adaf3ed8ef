import FastfoodCPU
import Glibc
import FastfoodCore
import FastfoodKernels
import FastfoodKernelsAVX2
import FastfoodKernelsAVX512

/// The kernel variants and the one this process uses.
///
/// Chosen once, on first use: the environment variable FASTFOOD_CPU (generic, avx2 or avx512)
/// forces a variant if the CPU supports it; otherwise, or if it names none we have, the widest
/// variant the CPU supports. All variants give bit-identical results.
struct KernelTable: Sendable {
    let name: StaticString
    let forwardF32: @Sendable (ForwardUnit<Float>) -> Void
    let forwardF64: @Sendable (ForwardUnit<Double>) -> Void
    let backwardF32: @Sendable (BackwardUnit<Float>) -> Void
    let backwardF64: @Sendable (BackwardUnit<Double>) -> Void
    let transformF32: @Sendable (UnsafeMutablePointer<Float>, Int) -> Void
    let transformF64: @Sendable (UnsafeMutablePointer<Double>, Int) -> Void

    static let generic = KernelTable(
        name: "generic",
        forwardF32: { FastfoodKernels.Kernels.forward($0) }, forwardF64: { FastfoodKernels.Kernels.forward($0) },
        backwardF32: { FastfoodKernels.Kernels.backward($0) }, backwardF64: { FastfoodKernels.Kernels.backward($0) },
        transformF32: { FastfoodKernels.Kernels.transform($0, log2Length: $1) },
        transformF64: { FastfoodKernels.Kernels.transform($0, log2Length: $1) })

    static let avx2 = KernelTable(
        name: "avx2",
        forwardF32: { FastfoodKernelsAVX2.Kernels.forward($0) }, forwardF64: { FastfoodKernelsAVX2.Kernels.forward($0) },
        backwardF32: { FastfoodKernelsAVX2.Kernels.backward($0) }, backwardF64: { FastfoodKernelsAVX2.Kernels.backward($0) },
        transformF32: { FastfoodKernelsAVX2.Kernels.transform($0, log2Length: $1) },
        transformF64: { FastfoodKernelsAVX2.Kernels.transform($0, log2Length: $1) })

    static let avx512 = KernelTable(
        name: "avx512",
        forwardF32: { FastfoodKernelsAVX512.Kernels.forward($0) }, forwardF64: { FastfoodKernelsAVX512.Kernels.forward($0) },
        backwardF32: { FastfoodKernelsAVX512.Kernels.backward($0) }, backwardF64: { FastfoodKernelsAVX512.Kernels.backward($0) },
        transformF32: { FastfoodKernelsAVX512.Kernels.transform($0, log2Length: $1) },
        transformF64: { FastfoodKernelsAVX512.Kernels.transform($0, log2Length: $1) })

    static let selected: KernelTable = {
        let features = fastfood_internal_cpu_features()
        let supported: [KernelTable] = [generic]
            + (features & FASTFOOD_CPU_AVX2 != 0 ? [avx2] : [])
            + (features & FASTFOOD_CPU_AVX512 != 0 ? [avx512] : [])
        if let forced = getenv("FASTFOOD_CPU") {
            let wanted = String(cString: forced)
            if let match = supported.first(where: { $0.name.description == wanted }) { return match }
        }
        return supported.last ?? generic
    }()
}

/// Which kernel variant this process uses: "generic", "avx2" or "avx512".
public var kernelVariant: StaticString { KernelTable.selected.name }
