// swift-tools-version:6.0
//
// fastfood: the Adaptive Fastfood transform (Yang et al., "Deep Fried Convnets", 2015) as a
// Swift engine behind a stable C ABI.
//
//   FastfoodEngine      pure Swift: FWHT, the Fastfood layer, deterministic random generation
//   FastfoodBoundary    the C ABI: implements include/fastfood.h, validates, maps errors
//   CFastfood           module map that lets Swift see include/fastfood.h
//   FastfoodThreadLocal a few lines of C: the per-thread error-message buffer
//
// Distribution link flags (static Swift runtime, SONAME, export list) live in the Makefile, so
// this package stays usable as a plain SwiftPM dependency.
import PackageDescription

let package = Package(
    name: "fastfood",
    products: [
        .library(name: "fastfood", type: .dynamic, targets: ["FastfoodBoundary"]),
        .library(name: "FastfoodEngine", targets: ["FastfoodEngine"]),
    ],
    targets: [
        .target(name: "FastfoodEngine"),
        .systemLibrary(name: "CFastfood", path: "Sources/CFastfood"),
        .target(name: "FastfoodThreadLocal"),
        .target(
            name: "FastfoodBoundary",
            dependencies: ["FastfoodEngine", "CFastfood", "FastfoodThreadLocal"]),
        .testTarget(name: "FastfoodEngineTests", dependencies: ["FastfoodEngine"]),
    ]
)
