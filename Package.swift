// swift-tools-version: 6.1
import PackageDescription

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
  ],
  targets: [
    // MARK: Runtime (compiled twice: here as regular Swift, by the Makefile as Embedded Swift)
    .target(
      name: "_CNNRuntimeShims",
      path: "Sources/_CNNRuntimeShims"
    ),
    .target(
      name: "CNNRuntime",
      dependencies: ["_CNNRuntimeShims"],
      path: "Sources/CNNRuntime",
      swiftSettings: [.enableExperimentalFeature("Extern")]
    ),
    // MARK: Tools (regular Swift: model writer, importers, CLI support)
    .target(
      name: "CNNTools",
      dependencies: ["CNNRuntime"],
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
