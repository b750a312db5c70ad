#!/bin/sh
# Regenerates Sources/CNNTools/ONNX/ONNXProto.pb.swift from tools/onnx/onnx_subset.proto.
# Run by hand from the repository root; the output is committed, so a normal
# build needs neither protoc nor protoc-gen-swift.
#
# Installs what it needs when missing: protoc (Debian protobuf-compiler) and
# protoc-gen-swift of the swift-protobuf version the package uses (1.39.0),
# built once from the package mirror into build/protoc-gen-swift (about 10
# minutes on 2 cores). PROTOC_GEN_SWIFT overrides the plugin path.
set -eu
cd "$(dirname "$0")/../.."
if ! command -v protoc >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq protobuf-compiler
fi
SRC=build/protoc-gen-swift
PLUGIN=${PROTOC_GEN_SWIFT:-$SRC/.build/release/protoc-gen-swift}
if [ ! -x "$PLUGIN" ]; then
  [ -d "$SRC" ] || git clone -q https://github.com/apple/swift-protobuf "$SRC"
  (cd "$SRC" && git checkout -q 1.39.0 && swift build -c release --product protoc-gen-swift)
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
protoc --plugin=protoc-gen-swift="$PLUGIN" \
  --swift_opt=Visibility=Internal --swift_opt=FileNaming=DropPath \
  --proto_path=tools/onnx --swift_out="$OUT" tools/onnx/onnx_subset.proto
mv "$OUT/onnx_subset.pb.swift" Sources/CNNTools/ONNX/ONNXProto.pb.swift
echo "wrote Sources/CNNTools/ONNX/ONNXProto.pb.swift ($(protoc --version), $("$PLUGIN" --version 2>/dev/null || echo protoc-gen-swift))"
