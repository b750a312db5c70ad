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
  // Seeded random single-op models (odd shapes, strides, dilations, padding,
  // depth multipliers, broadcasts, zero points) for test_paths, which runs
  // each on the portable path and on the path under test.
  var randomList = ""
  var rng = SplitMix64(seed: 20_261_204)
  for i in 0..<randomModelCount {
    let name = String(format: "random_%03d.cnnrt", i)
    out.append((name, try randomKernelModel(&rng, index: i)))
    randomList += name + "\n"
  }
  // A second seeded set for the ops with kernels of their own on some path
  // besides the ones above (their own generator, so that the first set's
  // models stay as they were).
  var rng2 = SplitMix64(seed: 20_261_207)
  for i in 0..<randomOpModelCount {
    let name = String(format: "random_op_%03d.cnnrt", i)
    out.append((name, try randomOpModel(&rng2, index: i)))
    randomList += name + "\n"
  }
  // A third set for the depthwise kernels' geometries (3x3 stride-1 rows
  // above all, which the AVX-512 column kernel takes).
  var rng3 = SplitMix64(seed: 20_261_208)
  for i in 0..<randomDepthwiseModelCount {
    let name = String(format: "random_dw_%03d.cnnrt", i)
    out.append((name, try randomDepthwiseModel(&rng3, index: i)))
    randomList += name + "\n"
  }
  out.append(("random_models.txt", Array(randomList.utf8)))
  return out
}

let randomModelCount = 120
let randomOpModelCount = 84
let randomDepthwiseModelCount = 48

/// One random depthwise Conv2D model of the third set: three in four 3x3
/// with dilation_h 1 and stride_h 1 or (one in four) 2, the rest any kernel
/// of 1-5 taps a side; channel counts around the 64-byte vector (16 and 32,
/// which share a vector between pixels, 64, 65, 96, 128, 130, 200, odd
/// ones); heights up to 40; batches of 1 or 2; per-channel weight scales
/// over a decade or, one model in four, over four decades (multipliers
/// above and below 1, left and right shifts, in one op).
func randomDepthwiseModel(_ rng: inout SplitMix64, index: Int) throws -> [UInt8] {
  func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(rng.next() % UInt64(hi - lo + 1)) }
  func scale(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * Float(rng.next() % 1000) / 1000 }
  func zp() -> Int32 { Int32(int(-128, 127)) }
  var b = ModelBuilder()
  let channels = [16, 32, 64, 65, 96, 128, 130, 200, 8, 24, 48, 3]
  let c = index % 3 == 2 ? int(1, 40) : channels[int(0, channels.count - 1)]
  let n = int(1, 2), h = index % 2 == 0 ? int(1, 13) : int(14, 40), w = int(1, 16)
  let column = index % 4 != 3
  let kH = column ? 3 : int(1, 5), kW = column ? 3 : int(1, 5)
  let sH = column ? (int(0, 3) == 0 ? 2 : 1) : int(1, 2), dH = column ? 1 : int(1, 2)
  let sW = int(1, 3) == 1 ? 2 : 1, dW = int(1, 4) == 1 ? 2 : 1
  let inScale = scale(0.01, 0.1)
  let x = try b.addActivation(shape: [n, h, w, c], scale: inScale, zeroPoint: zp(), name: "x")
  try b.markInput(x)
  let fits = h >= (kH - 1) * dH + 1 && w >= (kW - 1) * dW + 1
  let padding: Padding = fits && int(0, 2) == 0 ? .valid : .same
  let wide = index % 4 == 1
  let wScales = (0..<c).map { _ in wide ? 0.2 * Float(pow(10.0, -4 * Double(rng.next() % 1000) / 1000)) : scale(0.002, 0.02) }
  let filter = try b.addConstant(rng.int8s(kH * kW * c), shape: [1, kH, kW, c], scales: wScales, axis: 3)
  let bias = int(0, 3) == 0 ? nil : try b.addConstant((0..<c).map { _ in Int32(int(-3000, 3000)) })
  let outScale = inScale * 0.01 * Float(kH * kW).squareRoot() * scale(20, 80) * (wide ? 0.05 : 1)
  let activation = [FusedActivation.none, .relu, .relu6][int(0, 2)]
  let y = try b.depthwiseConv2D(x, filter: filter, bias: bias, stride: (sH, sW), dilation: (dH, dW),
                                padding: padding, activation: activation, outputScale: outScale,
                                outputZeroPoint: zp())
  try b.markOutput(y)
  return try b.serialize()
}

/// One random single-op model (op chosen by `index`): Conv2D, depthwise
/// Conv2D, FullyConnected, Add (same shape or a broadcast), max and average
/// pooling, Mean over H and W.
func randomKernelModel(_ rng: inout SplitMix64, index: Int) throws -> [UInt8] {
  func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(rng.next() % UInt64(hi - lo + 1)) }
  func scale(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * Float(rng.next() % 1000) / 1000 }
  func zp() -> Int32 { Int32(int(-128, 127)) }
  func activation() -> FusedActivation { [FusedActivation.none, .relu, .relu6][int(0, 2)] }
  var b = ModelBuilder()
  let h = int(1, 11), w = int(1, 11), c = int(1, 40)
  let inScale = scale(0.01, 0.1)
  let x = try b.addActivation(shape: [1, h, w, c], scale: inScale, zeroPoint: zp(), name: "x")
  try b.markInput(x)
  let y: TensorID
  switch index % 7 {
  case 0, 1:  // Conv2D (twice as often: the most variants)
    let depthwise = index % 7 == 1
    let kH = int(1, 5), kW = int(1, 5), sH = int(1, 3), sW = int(1, 3), dH = int(1, 2), dW = int(1, 2)
    let mult = depthwise ? int(1, 3) : 1
    let outC = depthwise ? c * mult : int(1, 40)
    let fits = h >= (kH - 1) * dH + 1 && w >= (kW - 1) * dW + 1
    let padding: Padding = fits && int(0, 1) == 0 ? .valid : .same
    let shape = depthwise ? [1, kH, kW, outC] : [outC, kH, kW, c]
    let wScales = (0..<outC).map { _ in scale(0.002, 0.02) }
    let filter = try b.addConstant(rng.int8s(shape.reduce(1, *)), shape: shape, scales: wScales,
                                   axis: depthwise ? 3 : 0)
    let bias = try b.addConstant((0..<outC).map { _ in Int32(int(-3000, 3000)) })
    let taps = Float(kH * kW * (depthwise ? 1 : c))
    let outScale = inScale * 0.01 * taps.squareRoot() * scale(20, 80)
    y = depthwise
      ? try b.depthwiseConv2D(x, filter: filter, bias: bias, stride: (sH, sW), dilation: (dH, dW), padding: padding,
                              activation: activation(), outputScale: outScale, outputZeroPoint: zp())
      : try b.conv2D(x, filter: filter, bias: bias, stride: (sH, sW), dilation: (dH, dW), padding: padding,
                     activation: activation(), outputScale: outScale, outputZeroPoint: zp())
  case 2:  // FullyConnected over the flattened input
    let depth = h * w * c, units = int(1, 24)
    let weights = try b.addConstant(rng.int8s(units * depth), shape: [units, depth], scale: scale(0.002, 0.02))
    let bias = int(0, 3) == 0 ? nil : try b.addConstant((0..<units).map { _ in Int32(int(-3000, 3000)) })
    let flat = try b.reshape(x, to: [1, depth])
    y = try b.fullyConnected(flat, weights: weights, bias: bias, activation: activation(),
                             outputScale: inScale * 0.01 * Float(depth).squareRoot() * scale(20, 80),
                             outputZeroPoint: zp())
  case 3:  // Add: same shape or a broadcast second input
    let shapes = [[1, h, w, c], [1, 1, 1, c], [1, h, w, 1], [1, 1, 1, 1], [1, 1, w, c], [1, h, 1, c]]
    let x2 = try b.addActivation(shape: shapes[int(0, shapes.count - 1)], scale: scale(0.01, 0.1), zeroPoint: zp(),
                                 name: "x2")
    try b.markInput(x2)
    y = try b.add(x, x2, activation: activation(), outputScale: scale(0.02, 0.2), outputZeroPoint: zp())
  case 4, 5:  // Max / average pooling
    let fH = int(1, 4), fW = int(1, 4)
    let padding: Padding = h >= fH && w >= fW && int(0, 1) == 0 ? .valid : .same
    let stride = (int(1, 3), int(1, 3))
    y = index % 7 == 4
      ? try b.maxPool2D(x, filter: (fH, fW), stride: stride, padding: padding, activation: activation())
      : try b.averagePool2D(x, filter: (fH, fW), stride: stride, padding: padding, activation: activation())
  default:  // Mean over H and W
    y = try b.mean(x, keepDims: int(0, 1) == 0, outputScale: scale(0.005, 0.1), outputZeroPoint: zp())
  }
  try b.markOutput(y)
  return try b.serialize()
}

/// One random single-op model of the second set (op chosen by `index`):
/// TransposeConv, PReLU (scalar, per-channel, per-pixel and non-periodic
/// alphas), Mul (same shape and broadcasts), bilinear resize, a channel
/// Gather (the two-group shuffle or another permutation), HardSwish and
/// Logistic.
func randomOpModel(_ rng: inout SplitMix64, index: Int) throws -> [UInt8] {
  func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(rng.next() % UInt64(hi - lo + 1)) }
  func scale(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * Float(rng.next() % 1000) / 1000 }
  func zp() -> Int32 { Int32(int(-128, 127)) }
  var b = ModelBuilder()
  let h = int(1, 9), w = int(1, 11), c = int(1, 40)
  let inScale = scale(0.01, 0.1)
  let x = try b.addActivation(shape: [1, h, w, c], scale: inScale, zeroPoint: zp(), name: "x")
  try b.markInput(x)
  let y: TensorID
  switch index % 7 {
  case 0:  // TransposeConv: kernels 1-4, strides 1-3, SAME or VALID
    let k = (int(1, 4), int(1, 4)), stride = (int(1, 3), int(1, 3)), outC = int(1, 40)
    let padding: Padding = int(0, 1) == 0 ? .valid : .same
    let filter = try b.addConstant(rng.int8s(outC * k.0 * k.1 * c), shape: [outC, k.0, k.1, c],
                                   scales: (0..<outC).map { _ in scale(0.002, 0.02) }, axis: 0)
    let bias = int(0, 3) == 0 ? nil : try b.addConstant((0..<outC).map { _ in Int32(int(-3000, 3000)) })
    let taps = Float(k.0 * k.1 * c)
    y = try b.transposeConv(x, filter: filter, bias: bias, stride: stride, padding: padding,
                            outputScale: inScale * 0.01 * taps.squareRoot() * scale(10, 60), outputZeroPoint: zp())
  case 1:  // PReLU
    let shapes = [[1, 1, 1, 1], [1, 1, 1, c], [1, h, w, c], [1, 1, w, c], [1, h, 1, 1]]
    let shape = shapes[int(0, shapes.count - 1)]
    let alpha = try b.addConstant(rng.int8s(shape.reduce(1, *)), shape: shape, scale: scale(0.001, 0.01),
                                  zeroPoint: zp())
    y = try b.prelu(x, alpha: alpha, outputScale: inScale * scale(0.5, 2), outputZeroPoint: zp())
  case 2:  // Mul: same shape or a broadcast second input
    let shapes = [[1, h, w, c], [1, 1, 1, c], [1, h, w, 1], [1, 1, 1, 1], [1, 1, w, c]]
    let x2 = try b.addActivation(shape: shapes[int(0, shapes.count - 1)], scale: scale(0.01, 0.1), zeroPoint: zp(),
                                 name: "x2")
    try b.markInput(x2)
    y = try b.mul(x, x2, activation: [FusedActivation.none, .relu, .relu6][int(0, 2)],
                  outputScale: scale(0.001, 0.01), outputZeroPoint: zp())
  case 3:  // Bilinear resize, up or down, each corner convention
    let mode = int(0, 2)
    y = try b.resizeBilinear(x, height: int(1, 20), width: int(1, 20), alignCorners: mode == 1,
                             halfPixelCenters: mode == 2)
  case 4:  // Channel Gather: the two-group shuffle when C is even, else a reversal
    let indices = c % 2 == 0 && int(0, 2) != 0 ? (0..<c).map { ($0 % 2) * (c / 2) + $0 / 2 } : (0..<c).reversed().map { $0 }
    y = try b.gather(x, axis: 3, indices: indices)
  case 5:
    y = try b.hardSwish(x, outputScale: inScale * scale(0.3, 1.5), outputZeroPoint: zp())
  default:
    y = try b.logistic(x)
  }
  try b.markOutput(y)
  return try b.serialize()
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
