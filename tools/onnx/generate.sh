#!/bin/sh
# Regenerates Sources/CNNTools/ONNX/ONNXProto.pb.swift from tools/onnx/onnx_subset.proto.
# Run by hand from the repository root; the output is committed, so a normal
# build needs neither protoc nor protoc-gen-swift.
#
# Needs: protoc (apt-get install -y protobuf-compiler) and protoc-gen-swift of
# the same swift-protobuf version as Package.resolved (1.39.0), built once:
#   git clone /opt/swift-packages/apple/swift-protobuf.git /tmp/swift-protobuf
#   (cd /tmp/swift-protobuf && git checkout 1.39.0 && swift build -c release --product protoc-gen-swift)
# PROTOC_GEN_SWIFT overrides the plugin path.
set -eu
cd "$(dirname "$0")/../.."
PLUGIN=${PROTOC_GEN_SWIFT:-/tmp/swift-protobuf/.build/release/protoc-gen-swift}
[ -x "$PLUGIN" ] || { echo "protoc-gen-swift not found at $PLUGIN (see the comment in $0)" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
protoc --plugin=protoc-gen-swift="$PLUGIN" \
  --swift_opt=Visibility=Internal --swift_opt=FileNaming=DropPath \
  --proto_path=tools/onnx --swift_out="$OUT" tools/onnx/onnx_subset.proto
mv "$OUT/onnx_subset.pb.swift" Sources/CNNTools/ONNX/ONNXProto.pb.swift
echo "wrote Sources/CNNTools/ONNX/ONNXProto.pb.swift ($(protoc --version), $("$PLUGIN" --version 2>/dev/null || echo protoc-gen-swift))"
