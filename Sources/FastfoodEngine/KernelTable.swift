import FastfoodCPU
import Glibc
import FastfoodCore
import FastfoodKernels
import FastfoodKernelsAVX2
import FastfoodKernelsAVX512

/// Kernel selection: the variant this process uses, chosen once, on first use. The
/// environment variable FASTFOOD_CPU (generic, avx2 or avx512) forces a variant if the CPU
/// supports it; otherwise, or if it names none we have, the widest variant the CPU supports.
/// All variants give bit-identical results.
enum KernelTable {
    static let selected: KernelVariant = {
        let features = fastfood_internal_cpu_features()
        let supported: [KernelVariant] = [FastfoodKernels.Kernels.variant]
            + (features & FASTFOOD_CPU_AVX2 != 0 ? [FastfoodKernelsAVX2.Kernels.variant] : [])
            + (features & FASTFOOD_CPU_AVX512 != 0 ? [FastfoodKernelsAVX512.Kernels.variant] : [])
        if let forced = getenv("FASTFOOD_CPU") {
            let wanted = String(cString: forced)
            if let match = supported.first(where: { $0.name.description == wanted }) { return match }
        }
        return supported.last ?? FastfoodKernels.Kernels.variant
    }()
}

/// Which kernel variant this process uses: "generic", "avx2" or "avx512".
public var kernelVariant: StaticString { KernelTable.selected.name }
