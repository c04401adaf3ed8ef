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
/// No array, no Swift String and no Optional of a variant here: the first call may come when
/// memory is exhausted, and building or destroying any of them there (an array's type metadata
/// alone takes some thirty allocations in the Swift runtime; an Optional<KernelVariant> is
/// destroyed through metadata made on first use) aborts the process instead of failing the call.
/// Until 1.4.4 the variants were held as optionals, and with FASTFOOD_CPU set the first call
/// with no memory left aborted (test_no_memory's first-use mode under each variant).
enum KernelTable {
    static let selected: KernelVariant = {
        let features = fastfood_internal_cpu_features()
        let hasAVX2 = features & FASTFOOD_CPU_AVX2 != 0
        let hasAVX512 = features & FASTFOOD_CPU_AVX512 != 0
        if let forced = getenv("FASTFOOD_CPU") {
            if isNamed(forced, FastfoodKernels.Kernels.variant) { return FastfoodKernels.Kernels.variant }
            if hasAVX2 && isNamed(forced, FastfoodKernelsAVX2.Kernels.variant) { return FastfoodKernelsAVX2.Kernels.variant }
            if hasAVX512 && isNamed(forced, FastfoodKernelsAVX512.Kernels.variant) {
                return FastfoodKernelsAVX512.Kernels.variant
            }
        }
        if hasAVX512 { return FastfoodKernelsAVX512.Kernels.variant }
        if hasAVX2 { return FastfoodKernelsAVX2.Kernels.variant }
        return FastfoodKernels.Kernels.variant
    }()

    /// Whether FASTFOOD_CPU's value is the variant's name.
    private static func isNamed(_ forced: UnsafePointer<CChar>, _ variant: KernelVariant) -> Bool {
        strcmp(forced, UnsafeRawPointer(variant.name.utf8Start).assumingMemoryBound(to: CChar.self)) == 0
    }
}

/// Which kernel variant this process uses: "generic", "avx2" or "avx512".
public var kernelVariant: StaticString { KernelTable.selected.name }
