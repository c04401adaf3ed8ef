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
///
/// No array and no Swift String here: the first call may come when memory is exhausted, and
/// building either there (an array's type metadata alone takes some thirty allocations in the
/// Swift runtime) aborts the process instead of failing the call.
enum KernelTable {
    static let selected: KernelVariant = {
        let features = fastfood_internal_cpu_features()
        let generic = FastfoodKernels.Kernels.variant
        let avx2 = features & FASTFOOD_CPU_AVX2 != 0 ? FastfoodKernelsAVX2.Kernels.variant : nil
        let avx512 = features & FASTFOOD_CPU_AVX512 != 0 ? FastfoodKernelsAVX512.Kernels.variant : nil
        if let forced = getenv("FASTFOOD_CPU") {
            func names(_ variant: KernelVariant) -> Bool {
                strcmp(forced, UnsafeRawPointer(variant.name.utf8Start).assumingMemoryBound(to: CChar.self)) == 0
            }
            if names(generic) { return generic }
            if let avx2, names(avx2) { return avx2 }
            if let avx512, names(avx512) { return avx512 }
        }
        return avx512 ?? avx2 ?? generic
    }()
}

/// Which kernel variant this process uses: "generic", "avx2" or "avx512".
public var kernelVariant: StaticString { KernelTable.selected.name }
