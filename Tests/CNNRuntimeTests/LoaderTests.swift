// Loader, planner and interpreter, exercised through the C API entry points
// with models written by the tools' ModelBuilder.
import Testing
@testable import CNNRuntime
import CNNTools
import _CNNRuntimeShims

/// Loads `bytes` (kept alive in an aligned buffer) and hands the internal state to `body`.
private func withLoadedModel<R>(_ bytes: [UInt8], _ body: (UnsafeMutablePointer<ModelState>) throws -> R) throws -> R {
  let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 64)
  defer { buf.deallocate() }
  buf.copyBytes(from: bytes)
  var m: UnsafeMutablePointer<cnn_model>? = nil
  let st = cnnModelLoadMemory(UnsafeRawPointer(buf.baseAddress), UInt(bytes.count), &m, nil, 0)
  try #require(st == .ok)
  defer { cnnModelFree(m) }
  return try body(UnsafeMutableRawPointer(m!).assumingMemoryBound(to: ModelState.self))
}

/// A small residual network: conv → (conv → conv) + skip → pool → fc → softmax.
private func residualModel(seed: UInt64, channels: Int = 8, size: Int = 16) throws -> [UInt8] {
  var rng = SplitMix64(seed: seed)
  var b = ModelBuilder()
  func weights(_ n: Int) -> [Int8] { (0..<n).map { _ in Int8(truncatingIfNeeded: Int(rng.next() % 255) - 127) } }
  let x = try b.addActivation(shape: [1, size, size, 3], scale: 0.02, zeroPoint: -3, name: "input")
  let f0 = try b.addConstant(weights(channels * 9 * 3), shape: [channels, 3, 3, 3],
                             scales: (0..<channels).map { Float($0 + 1) * 0.002 }, axis: 0, name: "w0")
  let c0 = try b.conv2D(x, filter: f0, bias: nil, padding: .same, activation: .relu, outputScale: 0.05,
                        outputZeroPoint: -128, name: "c0")
  let f1 = try b.addConstant(weights(channels * 9 * channels), shape: [channels, 3, 3, channels], scale: 0.003, name: "w1")
  let c1 = try b.conv2D(c0, filter: f1, bias: try b.addConstant((0..<channels).map { Int32($0 * 10 - 30) }),
                        padding: .same, activation: .relu6, outputScale: 0.04, outputZeroPoint: -128, name: "c1")
  let f2 = try b.addConstant(weights(channels * 9 * channels), shape: [channels, 3, 3, channels], scale: 0.002, name: "w2")
  let c2 = try b.conv2D(c1, filter: f2, bias: nil, padding: .same, outputScale: 0.06, outputZeroPoint: 5, name: "c2")
  let sum = try b.add(c0, c2, activation: .relu, outputScale: 0.07, outputZeroPoint: -128, name: "residual")
  let pooled = try b.averagePool2D(sum, filter: (2, 2), name: "pool")
  let gap = try b.globalAveragePool(pooled, name: "gap")
  let flat = try b.reshape(gap, to: [1, channels], name: "flatten")
  let fw = try b.addConstant(weights(4 * channels), shape: [4, channels], scale: 0.01, name: "fc_w")
  let logits = try b.fullyConnected(flat, weights: fw, bias: try b.addConstant([Int32](repeating: 7, count: 4)),
                                    outputScale: 0.1, outputZeroPoint: 0, name: "logits")
  let probs = try b.softmax(logits, name: "probabilities")
  try b.markInput(x)
  try b.markOutput(probs)
  b.metadata = ModelMetadata(name: "residual", labels: ["a", "b", "c", "d"])
  return try b.serialize()
}


/// Checks a loaded model's plan: every live activation lies in the pool;
/// a tensor placed on its own is 64-byte aligned; an in-place member lies
/// within its holder (itself placed on its own), whose lifetime covers the
/// member's; tensors of different holders alive together share no bytes.
/// Returns the number of in-place members.
@discardableResult
private func checkPlan(_ st: ModelState) -> Int {
  var live: [(TensorInfo, Int)] = []
  for i in 0..<st.tensorCount where st.tensors[i].isActivation && st.tensors[i].firstUse >= 0 {
    live.append((st.tensors[i], i))
  }
  var members = 0
  for (a, ai) in live {
    #expect(a.arenaOffset >= 0 && a.arenaOffset + a.byteSize <= st.activationBytes)
    if a.aliasRoot < 0 {
      #expect(a.arenaOffset % tensorAlignment == 0)
      continue
    }
    members += 1
    let root = st.tensors[a.aliasRoot]
    #expect(root.aliasRoot < 0, "tensor \(ai): holder \(a.aliasRoot) is itself a member")
    #expect(a.arenaOffset == root.arenaOffset + a.aliasOffset)
    #expect(a.aliasOffset >= 0 && a.aliasOffset + a.byteSize <= root.byteSize)
    #expect(root.firstUse <= a.firstUse && a.lastUse <= root.lastUse)
  }
  func holder(_ t: TensorInfo, _ i: Int) -> Int { t.aliasRoot < 0 ? i : t.aliasRoot }
  for (a, ai) in live {
    for (b, bi) in live where ai < bi && holder(a, ai) != holder(b, bi) && lifetimesOverlap(a, b) {
      let disjoint = a.arenaOffset + a.byteSize <= b.arenaOffset || b.arenaOffset + b.byteSize <= a.arenaOffset
      #expect(disjoint, "tensors \(ai) and \(bi) are alive together but share bytes")
    }
  }
  return members
}

/// Seeded int8 fully connected layer `units` × the input's last dimension.
private func seededFC(_ b: inout ModelBuilder, _ x: TensorID, inputs: Int, units: Int, seed: UInt64, scale: Float,
                      zeroPoint: Int32, name: String) throws -> TensorID {
  var rng = SplitMix64(seed: seed)
  let w = (0..<(units * inputs)).map { _ in Int8(truncatingIfNeeded: Int(rng.next() % 255) - 127) }
  let bias = (0..<units).map { _ in Int32(truncatingIfNeeded: Int(rng.next() % 2001) - 1000) }
  return try b.fullyConnected(x, weights: try b.addConstant(w, shape: [units, inputs], scale: 0.004, name: name + "_w"),
                              bias: try b.addConstant(bias), outputScale: scale, outputZeroPoint: zeroPoint, name: name)
}

@Suite struct PlannerTests {
  @Test func liveTensorsNeverShareBytes() throws {
    for seed in 0..<5 as Range<UInt64> {
      try withLoadedModel(try residualModel(seed: seed)) { s in
        // The flatten Reshape's input is placed in its output.
        #expect(checkPlan(s.pointee) == 1)
      }
    }
  }

  /// Concatenation with one row and Reshape write nothing at run time: the
  /// producers write into the holder's bytes. The in-place model (a, b
  /// reshaped, concatenated as [a, b, a], flattened, then a fully connected
  /// layer; `a` read again after the concatenation; the concatenation also a
  /// model output) must give the bytes that separate models give: one with
  /// a and b as outputs, one running the last layer on a ++ b ++ a.
  @Test func concatenationAndReshapeInPlaceGiveTheSameBytes() throws {
    let (xs, xz): (Float, Int32) = (0.05, -3)
    let (qs, qz): (Float, Int32) = (0.08, 4)   // a and b share one quantization (concatenation)
    func branches(_ b: inout ModelBuilder, _ x: TensorID) throws -> (TensorID, TensorID) {
      (try seededFC(&b, x, inputs: 6, units: 5, seed: 1, scale: qs, zeroPoint: qz, name: "a"),
       try seededFC(&b, x, inputs: 6, units: 7, seed: 2, scale: qs, zeroPoint: qz, name: "b"))
    }
    var m = ModelBuilder()
    let x = try m.addActivation(shape: [1, 6], scale: xs, zeroPoint: xz, name: "x")
    let (a, bb) = try branches(&m, x)
    let ra = try m.reshape(a, to: [1, 1, 5], name: "ra")
    let rb = try m.reshape(bb, to: [1, 1, 7], name: "rb")
    let cat = try m.concatenation([ra, rb, ra], axis: 2, name: "cat")
    let flat = try m.reshape(cat, to: [1, 17], name: "flat")
    let e = try seededFC(&m, flat, inputs: 17, units: 4, seed: 3, scale: 0.1, zeroPoint: -2, name: "e")
    let f = try seededFC(&m, a, inputs: 5, units: 3, seed: 4, scale: 0.06, zeroPoint: 1, name: "f")
    try m.markInput(x)
    for t in [e, f, cat] { try m.markOutput(t) }
    let inPlace = try m.serialize()

    var r1 = ModelBuilder()
    let x1 = try r1.addActivation(shape: [1, 6], scale: xs, zeroPoint: xz, name: "x")
    let (a1, b1) = try branches(&r1, x1)
    let f1 = try seededFC(&r1, a1, inputs: 5, units: 3, seed: 4, scale: 0.06, zeroPoint: 1, name: "f")
    try r1.markInput(x1)
    for t in [a1, b1, f1] { try r1.markOutput(t) }
    var r2 = ModelBuilder()
    let x2 = try r2.addActivation(shape: [1, 17], scale: qs, zeroPoint: qz, name: "flat")
    try r2.markInput(x2)
    try r2.markOutput(try seededFC(&r2, x2, inputs: 17, units: 4, seed: 3, scale: 0.1, zeroPoint: -2, name: "e"))

    try withLoadedModel(inPlace) { s in
      // a and b (into ra, rb), ra and rb (into cat), cat (into flat).
      #expect(checkPlan(s.pointee) == 5)
    }
    let model = try RuntimeModel(bytes: inPlace)
    let parts = try RuntimeModel(bytes: try r1.serialize())
    let head = try RuntimeModel(bytes: try r2.serialize())
    var rng = SplitMix64(seed: 7)
    for _ in 0..<20 {
      let input = (0..<6).map { _ in Int8(truncatingIfNeeded: rng.next()) }
      let got = try model.run(inputs: [input])
      let want = try parts.run(inputs: [input])
      let joined = want[0] + want[1] + want[0]
      #expect(got[2] == joined)
      #expect(got[0] == (try head.run(inputs: [joined]))[0])
      #expect(got[1] == want[2])
    }
  }

  @Test func sharingBeatsOneBufferPerTensor() throws {
    try withLoadedModel(try residualModel(seed: 1, channels: 16, size: 32)) { s in
      let st = s.pointee
      // Skip connection keeps c0 alive across c1 and c2: at least c0 + c1 + c2's
      // peak (3 maps of 32x32x16) must fit, but the rest is shared.
      let map = 32 * 32 * 16
      #expect(st.activationBytes >= 3 * map)
      #expect(st.activationBytes < st.unplannedActivationBytes)
      #expect(st.contextBytes >= st.activationBytes)
    }
  }
}

@Suite struct LoaderTests {
  @Test func residualModelRunsAndGivesProbabilities() throws {
    let m = try RuntimeModel(bytes: try residualModel(seed: 3))
    #expect(m.name == "residual")
    #expect(m.labels == ["a", "b", "c", "d"])
    #expect(m.ops.map(\.typeName) == ["Conv2D", "Conv2D", "Conv2D", "Add", "AveragePool2D", "GlobalAveragePool",
                                       "Reshape", "FullyConnected", "Softmax"])
    var rng = SplitMix64(seed: 9)
    let input = (0..<(16 * 16 * 3)).map { _ in Int8(truncatingIfNeeded: rng.next()) }
    let out = try m.run(input: input)
    #expect(out.count == 4)
    let total = out.reduce(0) { $0 + Int($1) + 128 }
    #expect(abs(total - 256) <= 4)
    // Deterministic: the same input gives the same bytes.
    #expect(try m.run(input: input) == out)
  }

  @Test func opInfoCountsFollowTheNotes() throws {
    let m = try RuntimeModel(bytes: try residualModel(seed: 2, channels: 8, size: 16))
    let conv0 = m.ops[0]
    // FM × (F × F × FMP + 1) with no bias: 8 × (3 × 3 × 3) = 216
    #expect(conv0.paramCount == 8 * 3 * 3 * 3)
    #expect(conv0.macs == Int64(16 * 16 * 8 * 3 * 3 * 3))
    let conv1 = m.ops[1]
    #expect(conv1.paramCount == 8 * (3 * 3 * 8 + 1))
    #expect(m.ops[7].paramCount == 4 * 8 + 4)
  }

  @Test func cOpTypeValuesMatchFormatOpCodes() {
    #expect(Int(CNN_OP_CONV_2D.rawValue) == Int(OpCode.conv2D.rawValue))
    #expect(Int(CNN_OP_DEPTHWISE_CONV_2D.rawValue) == Int(OpCode.depthwiseConv2D.rawValue))
    #expect(Int(CNN_OP_FULLY_CONNECTED.rawValue) == Int(OpCode.fullyConnected.rawValue))
    #expect(Int(CNN_OP_MAX_POOL_2D.rawValue) == Int(OpCode.maxPool2D.rawValue))
    #expect(Int(CNN_OP_AVERAGE_POOL_2D.rawValue) == Int(OpCode.averagePool2D.rawValue))
    #expect(Int(CNN_OP_GLOBAL_AVERAGE_POOL.rawValue) == Int(OpCode.globalAveragePool.rawValue))
    #expect(Int(CNN_OP_ADD.rawValue) == Int(OpCode.add.rawValue))
    #expect(Int(CNN_OP_RESHAPE.rawValue) == Int(OpCode.reshape.rawValue))
    #expect(Int(CNN_OP_SOFTMAX.rawValue) == Int(OpCode.softmax.rawValue))
    #expect(Int(CNN_OP_LOGISTIC.rawValue) == Int(OpCode.logistic.rawValue))
    #expect(Int(CNN_OP_MEAN.rawValue) == Int(OpCode.mean.rawValue))
    #expect(Int(CNN_OP_PAD.rawValue) == Int(OpCode.pad.rawValue))
    // binary
    #expect(Int(CNN_OP_MUL.rawValue) == Int(OpCode.mul.rawValue))
    #expect(Int(CNN_OP_SUB.rawValue) == Int(OpCode.sub.rawValue))
    #expect(Int(CNN_OP_MAXIMUM.rawValue) == Int(OpCode.maximum.rawValue))
    #expect(Int(CNN_OP_MINIMUM.rawValue) == Int(OpCode.minimum.rawValue))
    #expect(Int(CNN_OP_TRANSPOSE_CONV.rawValue) == Int(OpCode.transposeConv.rawValue))
    // shape
    #expect(Int(CNN_OP_STRIDED_SLICE.rawValue) == Int(OpCode.stridedSlice.rawValue))
    #expect(Int(CNN_OP_TRANSPOSE.rawValue) == Int(OpCode.transpose.rawValue))
    #expect(Int(CNN_OP_DEPTH_TO_SPACE.rawValue) == Int(OpCode.depthToSpace.rawValue))
    #expect(Int(CNN_OP_SPACE_TO_DEPTH.rawValue) == Int(OpCode.spaceToDepth.rawValue))
    #expect(Int(CNN_OP_SPLIT.rawValue) == Int(OpCode.split.rawValue))
    #expect(Int(CNN_OP_GATHER.rawValue) == Int(OpCode.gather.rawValue))
    #expect(Int(CNN_OP_TILE.rawValue) == Int(OpCode.tile.rawValue))
    #expect(Int(CNN_OP_SUM.rawValue) == Int(OpCode.sum.rawValue))
    #expect(Int(CNN_OP_REDUCE_MAX.rawValue) == Int(OpCode.reduceMax.rawValue))
    // join
    #expect(Int(CNN_OP_CONCATENATION.rawValue) == Int(OpCode.concatenation.rawValue))
    #expect(Int(CNN_OP_RESIZE_NEAREST_NEIGHBOR.rawValue) == Int(OpCode.resizeNearestNeighbor.rawValue))
    #expect(Int(CNN_OP_RESIZE_BILINEAR.rawValue) == Int(OpCode.resizeBilinear.rawValue))
    #expect(OpCode.mean.rawValue == 11 && OpCode.pad.rawValue == 12)
    // activations
    #expect(Int(CNN_OP_RELU.rawValue) == Int(OpCode.relu.rawValue))
    #expect(Int(CNN_OP_RELU6.rawValue) == Int(OpCode.relu6.rawValue))
    #expect(Int(CNN_OP_LEAKY_RELU.rawValue) == Int(OpCode.leakyRelu.rawValue))
    #expect(Int(CNN_OP_PRELU.rawValue) == Int(OpCode.prelu.rawValue))
    #expect(Int(CNN_OP_HARD_SWISH.rawValue) == Int(OpCode.hardSwish.rawValue))
    #expect(Int(CNN_OP_TANH.rawValue) == Int(OpCode.tanh.rawValue))
    #expect(Int(CNN_OP_QUANTIZE.rawValue) == Int(OpCode.quantize.rawValue))
    #expect(Int(CNN_OP_LOOKUP_TABLE.rawValue) == Int(OpCode.lookupTable.rawValue))
    #expect(OpCode.relu.rawValue == 13 && OpCode.lookupTable.rawValue == 20)
  }

  @Test func everyTruncationIsRejectedWithoutCrash() throws {
    let bytes = try residualModel(seed: 4)
    for n in stride(from: 1, to: bytes.count, by: 7) {
      #expect(throws: RuntimeError.self) { _ = try RuntimeModel(bytes: Array(bytes.prefix(n))) }
    }
  }

  @Test func spatialOutputFollowsTheFormula() {
    // (W − F + 2P) / S + 1 from the notes.
    #expect(spatialOutput(input: 5, filter: 3, stride: 1, dilation: 1, padding: .valid, explicitBefore: 0, explicitAfter: 0)?.size == 3)
    #expect(spatialOutput(input: 7, filter: 3, stride: 2, dilation: 1, padding: .valid, explicitBefore: 0, explicitAfter: 0)?.size == 3)
    #expect(spatialOutput(input: 5, filter: 3, stride: 1, dilation: 1, padding: .explicit, explicitBefore: 1, explicitAfter: 1)?.size == 5)
    #expect(spatialOutput(input: 32, filter: 3, stride: 2, dilation: 1, padding: .same, explicitBefore: 0, explicitAfter: 0)! == (16, 0))
    #expect(spatialOutput(input: 5, filter: 3, stride: 1, dilation: 2, padding: .valid, explicitBefore: 0, explicitAfter: 0)?.size == 1)
    #expect(spatialOutput(input: 2, filter: 3, stride: 1, dilation: 1, padding: .valid, explicitBefore: 0, explicitAfter: 0) == nil)
  }
}
