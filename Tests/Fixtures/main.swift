// cnnrt-fixtures DIR: writes the small models the C tests (Tests/C) load.
// Every model is built with the tools library's ModelBuilder, so the C tests
// exercise the same writer → loader path as real models.
import CNNRuntime
import CNNTools
import Foundation

/// Builds a single-convolution model with unit scales (int8 value = real value).
func singleConv(input: [Int], filter: [Int8], filterShape: [Int], bias: [Int32]? = nil,
                stride: (Int, Int) = (1, 1), padding: Padding = .valid,
                activation: FusedActivation = .none, name: String) throws -> [UInt8] {
  var b = ModelBuilder()
  let x = try b.addActivation(shape: input, scale: 1, zeroPoint: 0, name: "input")
  let f = try b.addConstant(filter, shape: filterShape, scale: 1, name: "filter")
  let biasID = try bias.map { try b.addConstant($0, name: "bias") }
  let y = try b.conv2D(x, filter: f, bias: biasID, stride: stride, padding: padding, activation: activation,
                       outputScale: 1, outputZeroPoint: 0, name: "feature_map")
  try b.markInput(x)
  try b.markOutput(y)
  b.metadata = ModelMetadata(name: name)
  return try b.serialize()
}

let notesFilter: [Int8] = [1, 0, 1, 0, 1, 0, 1, 0, 1]
let diagonalFilter: [Int8] = [1, -1, -1, -1, 1, -1, -1, -1, 1]

func fixtures() throws -> [(String, [UInt8])] {
  var out: [(String, [UInt8])] = []
  out.append(("notes_conv5x5.cnnrt", try singleConv(input: [1, 5, 5, 1], filter: notesFilter, filterShape: [1, 3, 3, 1],
                                                    bias: [0], name: "notes 5x5 convolution")))
  out.append(("notes_x9.cnnrt", try singleConv(input: [1, 9, 9, 1], filter: diagonalFilter, filterShape: [1, 3, 3, 1],
                                               name: "notes X image")))
  out.append(("notes_x9_relu.cnnrt", try singleConv(input: [1, 9, 9, 1], filter: diagonalFilter, filterShape: [1, 3, 3, 1],
                                                    activation: .relu, name: "notes X image + ReLU")))
  out.append(("stride2_valid.cnnrt", try singleConv(input: [1, 7, 7, 1], filter: [Int8](repeating: 1, count: 9),
                                                    filterShape: [1, 3, 3, 1], stride: (2, 2), name: "stride 2")))
  out.append(("pad_same.cnnrt", try singleConv(input: [1, 5, 5, 1], filter: notesFilter, filterShape: [1, 3, 3, 1],
                                               padding: .same, name: "same padding")))
  out.append(("pad1_stride2.cnnrt", try singleConv(input: [1, 5, 5, 1], filter: notesFilter, filterShape: [1, 3, 3, 1],
                                                   stride: (2, 2), padding: .explicit(top: 1, left: 1, bottom: 1, right: 1),
                                                   name: "explicit padding 1, stride 2")))
  // Two RGB filters: w(f, ky, kx, c) = (f*7 + ky*5 + kx*3 + c) % 3 - 1, OHWI layout.
  var rgb: [Int8] = []
  for f in 0..<2 { for ky in 0..<3 { for kx in 0..<3 { for c in 0..<3 {
    rgb.append(Int8((f * 7 + ky * 5 + kx * 3 + c) % 3 - 1))
  } } } }
  out.append(("rgb_conv.cnnrt", try singleConv(input: [1, 4, 4, 3], filter: rgb, filterShape: [2, 3, 3, 3], bias: [1, -2],
                                               name: "RGB convolution")))
  do {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 4, 4, 1], scale: 1, zeroPoint: 0, name: "input")
    let mx = try b.maxPool2D(x, filter: (2, 2), name: "max")
    let av = try b.averagePool2D(x, filter: (2, 2), name: "average")
    try b.markInput(x)
    try b.markOutput(mx)
    try b.markOutput(av)
    out.append(("pools.cnnrt", try b.serialize()))
  }
  do {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 5], scale: 0.05, zeroPoint: 0, name: "logits")
    let y = try b.softmax(x, name: "probabilities")
    try b.markInput(x)
    try b.markOutput(y)
    out.append(("softmax.cnnrt", try b.serialize()))
  }
  do {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 9], scale: 1.0 / 16, zeroPoint: 0, name: "x")
    let y = try b.logistic(x, name: "sigmoid")
    try b.markInput(x)
    try b.markOutput(y)
    out.append(("sigmoid.cnnrt", try b.serialize()))
  }
  do {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 4, 4, 2], scale: 0.1, zeroPoint: 0, name: "two_channels")
    let g = try b.globalAveragePool(x)
    let r = try b.reshape(g, to: [1, 2])
    let y = try b.softmax(r)
    try b.markInput(x)
    try b.markOutput(y)
    out.append(("twochan.cnnrt", try b.serialize()))
  }
  out.append(("demo.cnnrt", try DemoModel.build()))
  // Every TFLM golden model (Tests/Golden/tflm/models: the single-op cases of
  // every op family and the zoo networks), imported, and their list
  // (golden_models.txt) for the per-path no-allocation test.
  let modelsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Golden/tflm/models")
  let models = try FileManager.default.contentsOfDirectory(atPath: modelsDir.path)
    .filter { $0.hasSuffix(".tflite") }.sorted()
  var list = ""
  for f in models {
    let bytes = [UInt8](try Data(contentsOf: modelsDir.appendingPathComponent(f)))
    let name = "golden_" + String(f.dropLast(".tflite".count)) + ".cnnrt"
    out.append((name, try TFLiteImporter.importModel(bytes: bytes).bytes))
    list += name + "\n"
  }
  // The two MLPerf Tiny models the golden vectors were also recorded for,
  // read from ../shared/data (third-party data: never copied into the repo).
  // Missing data is an error: the C golden test needs both.
  let sharedModels = modelsDir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data/models")
  for (file, name) in [("mlperf_tiny_ic_resnet8_int8.tflite", "mlperf_tiny_ic_resnet8"),
                       ("mlperf_tiny_kws_dscnn_int8.tflite", "mlperf_tiny_kws_dscnn")] {
    let bytes = [UInt8](try Data(contentsOf: sharedModels.appendingPathComponent(file)))
    out.append(("golden_\(name).cnnrt", try TFLiteImporter.importModel(bytes: bytes).bytes))
    list += "golden_\(name).cnnrt\n"
  }
  out.append(("golden_models.txt", Array(list.utf8)))
  return out
}

let args = CommandLine.arguments
guard args.count == 2 else {
  FileHandle.standardError.write("usage: cnnrt-fixtures DIR\n".data(using: .utf8)!)
  exit(2)
}
do {
  let dir = URL(fileURLWithPath: args[1], isDirectory: true)
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  let all = try fixtures()
  for (name, bytes) in all {
    try Data(bytes).write(to: dir.appendingPathComponent(name))
  }
  print("cnnrt-fixtures: wrote \(all.count) models to \(dir.path)")
} catch {
  FileHandle.standardError.write("cnnrt-fixtures: \(error)\n".data(using: .utf8)!)
  exit(1)
}
