// swift-tools-version:5.9
//
// The twostep core for iOS (and macOS and Linux, where `swift test` runs), for development
// in this repository; apps add the release package by URL instead (written by
// scripts/release-package.sh, see README.md):
//   TwostepFFIC  the Rust library as an XCFramework (static libraries + C header + module map),
//                built by scripts/build-xcframework.sh into build/ (not committed); on Linux
//                a system library module for the static library (../scripts/test-swift.sh);
//   TwostepFFI   the Swift bindings uniffi generates from that library (the same scripts
//                write Sources/TwostepFFI/TwostepFFI.swift; not committed);
//   TwostepKit   what apps import: the bindings plus KeychainKeyStore and conveniences.
import PackageDescription

#if os(Linux)
// No XCFrameworks on Linux: the generated header with a module map that links
// libtwostep_ffi.a, laid out by ../scripts/test-swift.sh, which passes the library's directory
// with `-Xlinker -L`.
let ffiLibrary: Target = .systemLibrary(name: "TwostepFFIC", path: "build/linux/TwostepFFIC")
#else
let ffiLibrary: Target = .binaryTarget(name: "TwostepFFIC", path: "build/TwostepFFIC.xcframework")
#endif

let package = Package(
    name: "TwostepKit",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "TwostepKit", targets: ["TwostepKit"]),
    ],
    targets: [
        ffiLibrary,
        .target(name: "TwostepFFI", dependencies: ["TwostepFFIC"], path: "Sources/TwostepFFI"),
        .target(name: "TwostepKit", dependencies: ["TwostepFFI"], path: "Sources/TwostepKit"),
        .testTarget(name: "TwostepKitTests", dependencies: ["TwostepKit"], path: "Tests/TwostepKitTests"),
    ]
)
