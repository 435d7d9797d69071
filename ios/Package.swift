// swift-tools-version:5.9
//
// The twostep core for iOS (and macOS, where `swift test` runs):
//   TwostepFFIC  the Rust library as an XCFramework (static libraries + C header + module map),
//                built by scripts/build-xcframework.sh into build/ (not committed);
//   TwostepFFI   the Swift bindings uniffi generates from that library (the same script
//                writes Sources/TwostepFFI/TwostepFFI.swift; not committed);
//   TwostepKit   what apps import: the bindings plus KeychainKeyStore and conveniences.
import PackageDescription

let package = Package(
    name: "TwostepKit",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "TwostepKit", targets: ["TwostepKit"]),
    ],
    targets: [
        .binaryTarget(name: "TwostepFFIC", path: "build/TwostepFFIC.xcframework"),
        .target(name: "TwostepFFI", dependencies: ["TwostepFFIC"], path: "Sources/TwostepFFI"),
        .target(name: "TwostepKit", dependencies: ["TwostepFFI"], path: "Sources/TwostepKit"),
        .testTarget(name: "TwostepKitTests", dependencies: ["TwostepKit"], path: "Tests/TwostepKitTests"),
    ]
)
