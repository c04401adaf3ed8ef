// swift-tools-version:6.0
//
// fastfood: the Adaptive Fastfood transform (Yang et al., "Deep Fried Convnets", 2015) as a
// Swift engine behind a stable C ABI.
//
//   FastfoodCore            shared data types: layer shape, parameter layout, kernel work units,
//                           dropout masks and the SplitMix64 generator they and the engine use,
//                           the memory spans the boundary checks for overlapping buffers
//   FastfoodSIMD            vector +, -, *, select and UInt32 bit operations as single LLVM
//                           vector operations (built with -parse-stdlib for the compiler
//                           builtins; see VectorArithmetic.swift and KeyVector.swift), and
//                           multiply-adds in double where FMA is missing (FusedInDouble.swift)
//   FastfoodKernels         the compute kernels (FWHT, interleaved tiles), baseline x86-64
//   FastfoodKernelsAVX2     the same sources (symbolic links), compiled for AVX2 + FMA
//   FastfoodKernelsAVX512   the same sources, compiled for AVX-512
//   FastfoodCPU             a few lines of C: which of those variants the CPU can run
//   FastfoodShuffles        one C header: the AVX2 and AVX-512 variants' register transposes
//   FastfoodEngine          layers, permutations, initialisation, threads, kernel dispatch
//   CFastfood               module map that lets Swift see include/fastfood.h
//   FastfoodThreadLocal     a few lines of C: the per-thread error-message buffer
//   FastfoodVersion         a few lines of C: the version string, from include/fastfood.h
//   FastfoodBoundary        the C ABI: implements include/fastfood.h, validates, maps errors
//
// Distribution link flags (static Swift runtime, SONAME, export list) live in the Makefile.
// The kernel variants need per-target CPU flags, and FastfoodSIMD -parse-stdlib, which SwiftPM
// only takes as unsafeFlags: this package can be used as a local or branch dependency, not as a
// versioned one. FASTFOOD_AVX2 / FASTFOOD_AVX512 tell a variant how many vector registers it has.
//
// Every target imports, and lists as a dependency, each module whose declarations it uses (no
// @_exported re-exports): an incremental `swift build` recompiles a target when a module it
// depends on directly changes, and only then. While the boundary saw FastfoodCore through the
// engine's re-export, a change to an @inlinable function of FastfoodCore (MemorySpan's overlap
// checks) left the boundary's inlined copy stale in the next `make lib`.
import PackageDescription

let package = Package(
    name: "fastfood",
    products: [
        .library(name: "fastfood", type: .dynamic, targets: ["FastfoodBoundary"]),
        .library(name: "FastfoodEngine", targets: ["FastfoodEngine"]),
    ],
    targets: [
        .target(name: "FastfoodCore", dependencies: ["FastfoodThreadLocal"]),
        .target(name: "FastfoodSIMD", swiftSettings: [.unsafeFlags(["-parse-stdlib"])]),
        .target(name: "FastfoodKernels", dependencies: ["FastfoodCore", "FastfoodSIMD"]),
        .target(
            name: "FastfoodKernelsAVX2", dependencies: ["FastfoodCore", "FastfoodSIMD", "FastfoodShuffles"],
            swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"]), .define("FASTFOOD_AVX2")]),
        .target(
            name: "FastfoodKernelsAVX512", dependencies: ["FastfoodCore", "FastfoodSIMD", "FastfoodShuffles"],
            swiftSettings: [.unsafeFlags(["-target-cpu", "skylake-avx512"]), .define("FASTFOOD_AVX512")]),
        .target(name: "FastfoodCPU"),
        .target(
            name: "FastfoodEngine",
            dependencies: ["FastfoodCore", "FastfoodKernels", "FastfoodKernelsAVX2", "FastfoodKernelsAVX512", "FastfoodCPU"]),
        .systemLibrary(name: "CFastfood", path: "Sources/CFastfood"),
        .systemLibrary(name: "FastfoodShuffles", path: "Sources/FastfoodShuffles"),
        .target(name: "FastfoodThreadLocal"),
        .target(name: "FastfoodVersion"),
        .target(
            name: "FastfoodBoundary",
            dependencies: ["FastfoodEngine", "FastfoodCore", "CFastfood", "FastfoodThreadLocal", "FastfoodVersion"]),
        .testTarget(name: "FastfoodEngineTests", dependencies: ["FastfoodEngine", "FastfoodCore"]),
        .testTarget(name: "FastfoodSIMDTests", dependencies: ["FastfoodSIMD"]),
    ]
)
