// swift-tools-version: 6.1
import PackageDescription

// The x86 kernel modules' CPU levels; on another host (aarch64 Linux) the
// modules compile empty (`#if arch(x86_64)`) and take no -march flag.
#if arch(x86_64)
let avx2Flags = ["-Xcc", "-march=x86-64-v3"]
let avx512Flags = ["-Xcc", "-march=x86-64-v4", "-Xcc", "-mavx512vnni", "-Xcc", "-mavx512vbmi"]
#else
let avx2Flags: [String] = []
let avx512Flags: [String] = []
#endif

let package = Package(
  name: "cnnrt",
  products: [
    // MARK: Public products
    // The C library libcnnrt.so is built by the Makefile from the same
    // runtime sources in Embedded Swift mode (see Makefile, docs/ARCHITECTURE.md).
    .library(name: "CNNRuntime", targets: ["CNNRuntime"]),
    .library(name: "CNNTools", targets: ["CNNTools"]),
    .executable(name: "cnnrt", targets: ["CNNCLI"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // ONNX models are protobuf; Sources/CNNTools/ONNX/ONNXProto.pb.swift is generated
    // once (tools/onnx/generate.sh) and committed, so only the runtime library is built.
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
  ],
  targets: [
    // MARK: Runtime (compiled twice: here as regular Swift, by the Makefile as Embedded Swift)
    .target(
      name: "_CNNRuntimeShims",
      path: "Sources/_CNNRuntimeShims"
    ),
    // Per-ISA kernel modules: raw pointers + the C argument block only (no
    // dependency on CNNRuntime); each compiled for its own CPU level and
    // called only after runtime CPU detection (cnnrt_cpu.h).
    .target(
      name: "_CNNKernelsAVX2",
      dependencies: ["_CNNRuntimeShims"],
      path: "Sources/_CNNKernelsAVX2",
      swiftSettings: [.unsafeFlags(avx2Flags)]
    ),
    .target(
      name: "_CNNKernelsAVX512",
      dependencies: ["_CNNRuntimeShims"],
      path: "Sources/_CNNKernelsAVX512",
      swiftSettings: [.unsafeFlags(avx512Flags)]
    ),
    .target(
      name: "CNNRuntime",
      dependencies: ["_CNNRuntimeShims", "_CNNKernelsAVX2", "_CNNKernelsAVX512"],
      path: "Sources/CNNRuntime",
      swiftSettings: [.enableExperimentalFeature("Extern")]
    ),
    // MARK: Tools (regular Swift: model writer, importers, CLI support)
    // PNG/JPEG decoding for the tools (libpng, libjpeg-turbo from Debian);
    // never linked into libcnnrt.
    .target(
      name: "_CNNImageCodecs",
      path: "Sources/_CNNImageCodecs",
      linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg"), .linkedLibrary("z")]
    ),
    .target(
      name: "CNNTools",
      dependencies: [
        "CNNRuntime", "_CNNImageCodecs",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      path: "Sources/CNNTools"
    ),
    .executableTarget(
      name: "CNNCLI",
      dependencies: [
        "CNNRuntime", "CNNTools",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Sources/CNNCLI"
    ),
    // MARK: Tests
    .executableTarget(
      name: "cnnrt-fixtures",
      dependencies: ["CNNRuntime", "CNNTools"],
      path: "Tests/Fixtures"
    ),
    .testTarget(
      name: "CNNRuntimeTests",
      dependencies: ["CNNRuntime", "CNNTools"],
      path: "Tests/CNNRuntimeTests"
    ),
    .testTarget(
      name: "CNNToolsTests",
      dependencies: ["CNNRuntime", "CNNTools"],
      path: "Tests/CNNToolsTests"
    ),
  ]
)
