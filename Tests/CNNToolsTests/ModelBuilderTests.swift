import CNNRuntime
import Testing

@testable import CNNTools

// MARK: - Reading a serialized model back with the format's own record types

struct ParsedModel {
  let bytes: [UInt8]
  let header: FileHeader
  let inputs: [UInt32]
  let outputs: [UInt32]
  let tensors: [TensorRecord]
  let ops: [OpRecord]
  let metadata: MetadataRecord?

  init(_ bytes: [UInt8]) {
    self.bytes = bytes
    let h = bytes.withUnsafeBytes { FileHeader.read(from: $0.baseAddress!) }
    header = h
    func u32(_ off: Int) -> UInt32 {
      UInt32(bytes[off]) | UInt32(bytes[off + 1]) << 8 | UInt32(bytes[off + 2]) << 16 | UInt32(bytes[off + 3]) << 24
    }
    let io = (0..<Int(h.inputCount + h.outputCount)).map { u32(Int(h.ioTableOffset) + 4 * $0) }
    inputs = Array(io.prefix(Int(h.inputCount)))
    outputs = Array(io.dropFirst(Int(h.inputCount)))
    tensors = bytes.withUnsafeBytes { p in
      (0..<Int(h.tensorCount)).map {
        TensorRecord.read(from: p.baseAddress! + Int(h.tensorTableOffset) + $0 * ModelFormat.tensorRecordSize)
      }
    }
    ops = bytes.withUnsafeBytes { p in
      (0..<Int(h.opCount)).map { OpRecord.read(from: p.baseAddress! + Int(h.opTableOffset) + $0 * ModelFormat.opRecordSize) }
    }
    metadata = h.metadataOffset == 0 ? nil
      : bytes.withUnsafeBytes { MetadataRecord.read(from: $0.baseAddress! + Int(h.metadataOffset)) }
  }

  func u32(_ off: Int) -> UInt32 {
    UInt32(bytes[off]) | UInt32(bytes[off + 1]) << 8 | UInt32(bytes[off + 2]) << 16 | UInt32(bytes[off + 3]) << 24
  }

  /// Op `i`'s input tensor indices from its tensor list (noTensor = absent).
  func opInputs(_ i: Int) -> [UInt32] {
    (0..<Int(ops[i].inputCount)).map { u32(Int(ops[i].tensorListOffset) + 4 * $0) }
  }

  /// Op `i`'s output tensor indices.
  func opOutputs(_ i: Int) -> [UInt32] {
    (0..<Int(ops[i].outputCount)).map { u32(Int(ops[i].tensorListOffset) + 4 * (Int(ops[i].inputCount) + $0)) }
  }

  /// The NUL-terminated string at `offset` in the string table (nil for noString);
  /// records an issue if it is not terminated inside the table.
  func string(_ offset: UInt32) -> String? {
    if offset == ModelFormat.noString { return nil }
    let start = Int(header.stringTableOffset), end = start + Int(header.stringTableSize)
    var i = start + Int(offset)
    var out: [UInt8] = []
    while i < end, bytes[i] != 0 { out.append(bytes[i]); i += 1 }
    #expect(i < end, "string at \(offset) not NUL-terminated inside the string table")
    return String(decoding: out, as: UTF8.self)
  }

  func scales(_ t: TensorRecord) -> [Float] {
    guard t.scalesOffset != 0 else { return [] }
    let n = t.quantKind == QuantKind.perChannel.rawValue ? Int(t.dim(Int(t.quantAxis))) : 1
    return (0..<n).map { Float(bitPattern: u32(Int(t.scalesOffset) + 4 * $0)) }
  }

  func data(_ t: TensorRecord) -> [UInt8] {
    Array(bytes[Int(t.dataOffset)..<Int(t.dataOffset + t.dataSize)])
  }

  var labels: [String] {
    guard let m = metadata, m.labelsOffset != 0 else { return [] }
    return (0..<Int(m.classCount)).map { string(u32(Int(m.labelsOffset) + 4 * $0)) ?? "<none>" }
  }

  func shape(_ t: TensorRecord) -> [Int] { (0..<Int(t.rank)).map { Int(t.dim($0)) } }
}

func crcOfBody(_ bytes: [UInt8]) -> UInt32 {
  bytes.withUnsafeBytes { crc32($0.baseAddress! + ModelFormat.checksumStart, count: bytes.count - ModelFormat.checksumStart) }
}

/// The error's case name ("shapeMismatch", ...).
func errorCase(_ body: () throws -> Void) -> String? {
  do {
    try body()
    return nil
  } catch let e as ModelBuilderError {
    return Mirror(reflecting: e).children.first?.label
  } catch {
    return "unexpected \(error)"
  }
}

// MARK: - A model using every op

/// input [1,8,8,3] → conv 3×3/2 SAME ReLU → depthwise 3×3 explicit-pad dil 2 → add(conv, dw)
/// → max pool 2×2 → average pool 2×2/1 SAME → GAP → reshape → FC → softmax; logistic on the FC too.
func everyOpModel() throws -> (ModelBuilder, [String: TensorID]) {
  var b = ModelBuilder()
  var ids: [String: TensorID] = [:]
  let x = try b.addActivation(shape: [1, 8, 8, 3], scale: 1.0 / 255, zeroPoint: -128, name: "image")
  let convWeights: [Int8] = (0..<108).map { (i: Int) -> Int8 in Int8(i - 127) }
  let cw = try b.addConstant(convWeights, shape: [4, 3, 3, 3],
                             scales: [0.01, 0.02, 0.03, 0.04], axis: 0, name: "conv/w")
  let cb = try b.addConstant([Int32(1), -2, 300_000, -70_000], name: "conv/b")
  let c = try b.conv2D(x, filter: cw, bias: cb, stride: (2, 2), padding: .same, activation: .relu,
                       outputScale: 0.05, outputZeroPoint: -128, name: "conv")
  let dwWeights: [Int8] = (0..<36).map { (i: Int) -> Int8 in Int8(truncatingIfNeeded: i * 7) }
  let dw = try b.addConstant(dwWeights, shape: [1, 3, 3, 4],
                             scales: [0.1, 0.2, 0.3, 0.4], axis: 3, name: "dw/w")
  let d = try b.depthwiseConv2D(c, filter: dw, bias: nil, dilation: (2, 2), padding: .explicit(top: 2, left: 2, bottom: 2, right: 2),
                                activation: .relu6, outputScale: 0.03, outputZeroPoint: -100, name: "dw")
  let s = try b.add(c, d, outputScale: 0.07, outputZeroPoint: -10, name: "sum")
  let mp = try b.maxPool2D(s, filter: (2, 2), name: "maxpool")
  let ap = try b.averagePool2D(mp, filter: (2, 2), stride: (1, 1), padding: .same, name: "avgpool")
  let g = try b.globalAveragePool(ap, name: "gap")
  let r = try b.reshape(g, to: [1, -1], name: "flat")
  let fcWeights: [Int8] = [1, 2, 3, 4, -1, -2, -3, -4, 127, -127, 0, 5]
  let fw = try b.addConstant(fcWeights, shape: [3, 4], scale: 0.5, name: "fc/w")
  let fb = try b.addConstant([Int32(10), 20, 30], name: "fc/b")
  let f = try b.fullyConnected(r, weights: fw, bias: fb, outputScale: 0.2, outputZeroPoint: 3, name: "logits")
  let sm = try b.softmax(f, beta: 0.5, name: "probs")
  let lg = try b.logistic(f)
  try b.markInput(x)
  try b.markOutput(sm)
  try b.markOutput(lg)
  b.metadata = ModelMetadata(name: "every-op", labels: ["a", "b", "c"], imageWidth: 8, imageHeight: 8, imageChannels: 3,
                             channelOrder: .bgr, pixelScale: 1.0 / 255, mean: [0.5, 0.25, 0.125], std: [2, 3, 4])
  ids["x"] = x; ids["cw"] = cw; ids["cb"] = cb; ids["c"] = c; ids["dw"] = dw; ids["d"] = d; ids["s"] = s
  ids["mp"] = mp; ids["ap"] = ap; ids["g"] = g; ids["r"] = r; ids["fw"] = fw; ids["fb"] = fb; ids["f"] = f
  ids["sm"] = sm; ids["lg"] = lg
  return (b, ids)
}

// MARK: - Tests

@Suite struct ModelBuilderTests {
  @Test func output_size_matches_valid_same_and_explicit_formulas() {
    // VALID: (in − ((k−1)d+1)) / s + 1
    #expect(ModelBuilder.outputSize(input: 28, filter: 3, stride: 1, dilation: 1, padding: .valid) == 26)
    #expect(ModelBuilder.outputSize(input: 28, filter: 3, stride: 1, dilation: 2, padding: .valid) == 24)
    #expect(ModelBuilder.outputSize(input: 7, filter: 3, stride: 2, dilation: 1, padding: .valid) == 3)
    #expect(ModelBuilder.outputSize(input: 2, filter: 3, stride: 1, dilation: 1, padding: .valid) == nil)
    // SAME: ceil(in / s), whatever the filter
    #expect(ModelBuilder.outputSize(input: 7, filter: 3, stride: 2, dilation: 1, padding: .same) == 4)
    #expect(ModelBuilder.outputSize(input: 28, filter: 5, stride: 1, dilation: 3, padding: .same) == 28)
    // explicit: the notes' (W − F + 2P) / S + 1, e.g. W=5, F=3, P=1, S=2 → 3
    #expect(ModelBuilder.outputSize(input: 5, filter: 3, stride: 2, dilation: 1, padding: .explicit, padBefore: 1, padAfter: 1) == 3)
    #expect(ModelBuilder.outputSize(input: 1, filter: 3, stride: 1, dilation: 1, padding: .explicit, padBefore: 1, padAfter: 1) == 1)
  }

  @Test func convenience_ops_compute_runtime_output_shapes() throws {
    let (b, ids) = try everyOpModel()
    func shape(_ k: String) -> [Int] { b.tensors[ids[k]!.index].shape }
    #expect(shape("c") == [1, 4, 4, 4])   // SAME, stride 2: ceil(8/2)
    #expect(shape("d") == [1, 4, 4, 4])   // (4 + 2 + 2 − 5) / 1 + 1
    #expect(shape("s") == [1, 4, 4, 4])
    #expect(shape("mp") == [1, 2, 2, 4])
    #expect(shape("ap") == [1, 2, 2, 4])
    #expect(shape("g") == [1, 1, 1, 4])
    #expect(shape("r") == [1, 4])
    #expect(shape("f") == [1, 3])
    #expect(shape("sm") == [1, 3])
    #expect(b.tensors[ids["sm"]!.index].scales == [Float(1) / 256])
    #expect(b.tensors[ids["lg"]!.index].zeroPoint == -128)
    #expect(b.tensors[ids["mp"]!.index].scales == [0.07])
  }

  @Test func round_trip_every_record_through_format_readers() throws {
    let (b, ids) = try everyOpModel()
    let bytes = try b.serialize()
    let m = ParsedModel(bytes)
    let h = m.header

    // Header.
    #expect(h.magic == ModelFormat.magic)
    #expect(h.formatVersion == ModelFormat.formatVersion)
    #expect(h.quantSchemeVersion == ModelFormat.quantSchemeVersion)
    #expect(Int(h.fileSize) == bytes.count)
    #expect(bytes.count % ModelFormat.dataAlignment == 0)
    #expect(h.checksum == crcOfBody(bytes))
    #expect(Int(h.tensorCount) == b.tensors.count)
    #expect(Int(h.opCount) == b.ops.count)
    #expect(m.inputs == [UInt32(ids["x"]!.index)])
    #expect(m.outputs == [UInt32(ids["sm"]!.index), UInt32(ids["lg"]!.index)])
    // Reserved header word.
    #expect(bytes[60..<64].allSatisfy { $0 == 0 })

    // Sections in the documented order, inside the file.
    #expect(h.ioTableOffset == 64)
    #expect(h.tensorTableOffset >= h.ioTableOffset + 4 * (h.inputCount + h.outputCount))
    #expect(h.opTableOffset >= h.tensorTableOffset + h.tensorCount * 48)
    #expect(h.metadataOffset >= h.opTableOffset + h.opCount * 64)
    #expect(h.stringTableOffset >= h.metadataOffset + 96)
    #expect(h.stringTableOffset + h.stringTableSize <= h.fileSize)
    #expect(bytes[Int(h.stringTableOffset + h.stringTableSize) - 1] == 0)

    // Tensors.
    for (i, t) in b.tensors.enumerated() {
      let r = m.tensors[i]
      #expect(r.elementType == t.elementType.rawValue)
      #expect(m.shape(r) == t.shape)
      for d in t.shape.count..<4 { #expect(r.dim(d) == 0) }
      #expect(r.quantKind == t.quantKind.rawValue)
      #expect(r.zeroPoint == t.zeroPoint)
      #expect(Int(r.quantAxis) == t.quantAxis)
      #expect(r.isConstant == t.isConstant)
      #expect(m.string(r.nameOffset) == t.name)
      #expect(m.scales(r) == t.scales)
      if !t.scales.isEmpty { #expect(r.scalesOffset % 4 == 0 && r.scalesOffset >= h.stringTableOffset + h.stringTableSize) }
      else { #expect(r.scalesOffset == 0) }
      if let data = t.data {
        #expect(r.dataOffset % UInt32(ModelFormat.dataAlignment) == 0, "blob of tensor \(i) at \(r.dataOffset)")
        #expect(Int(r.dataSize) == t.elementCount * t.elementType.byteSize)
        #expect(m.data(r) == data)
        #expect(r.dataOffset + r.dataSize <= h.fileSize)
      } else {
        #expect(r.dataOffset == 0 && r.dataSize == 0)
      }
    }
    // Specific values, as the runtime will read them.
    let conv = m.tensors[ids["cw"]!.index]
    #expect(conv.quantKind == QuantKind.perChannel.rawValue && conv.quantAxis == 0)
    #expect(m.scales(conv) == [0.01, 0.02, 0.03, 0.04])
    #expect(m.data(conv).prefix(3).map { Int8(bitPattern: $0) } == [-127, -126, -125])
    let bias = m.tensors[ids["cb"]!.index]
    #expect(bias.elementType == ElementType.int32.rawValue && bias.quantKind == QuantKind.none.rawValue)
    #expect(m.data(bias) == [1, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 0xE0, 0x93, 0x04, 0x00, 0x90, 0xEE, 0xFE, 0xFF])
    #expect(m.tensors[ids["dw"]!.index].quantAxis == 3)
    #expect(m.string(m.tensors[ids["lg"]!.index].nameOffset) == nil)

    // Ops.
    #expect(m.ops.count == 10)
    func u(_ k: String) -> UInt32 { UInt32(ids[k]!.index) }
    let c = m.ops[0]
    #expect(c.opCode == OpCode.conv2D.rawValue && c.activation == FusedActivation.relu.rawValue)
    #expect(c.padding == PaddingKind.same.rawValue && c.strideH == 2 && c.strideW == 2 && c.dilationH == 1)
    #expect(m.opInputs(0) == [u("x"), u("cw"), u("cb")] && m.opOutputs(0) == [u("c")])
    #expect(c.filterH == 0 && c.padTop == 0 && c.extra == 0)
    let d = m.ops[1]
    #expect(d.opCode == OpCode.depthwiseConv2D.rawValue && d.activation == FusedActivation.relu6.rawValue)
    #expect(d.padding == PaddingKind.explicit.rawValue && d.dilationH == 2 && d.dilationW == 2)
    #expect(d.padTop == 2 && d.padLeft == 2 && d.padBottom == 2 && d.padRight == 2)
    #expect(m.opInputs(1) == [u("c"), u("dw")])  // a trailing absent bias is not stored
    #expect(m.ops[2].opCode == OpCode.add.rawValue && m.opInputs(2) == [u("c"), u("d")])
    let mp = m.ops[3]
    #expect(mp.opCode == OpCode.maxPool2D.rawValue && mp.filterH == 2 && mp.filterW == 2 && mp.strideH == 2)
    let ap = m.ops[4]
    #expect(ap.opCode == OpCode.averagePool2D.rawValue && ap.strideH == 1 && ap.padding == PaddingKind.same.rawValue)
    #expect(m.ops[5].opCode == OpCode.globalAveragePool.rawValue)
    #expect(m.ops[6].opCode == OpCode.reshape.rawValue && m.opOutputs(6) == [u("r")])
    #expect(m.ops[7].opCode == OpCode.fullyConnected.rawValue && m.opInputs(7) == [u("r"), u("fw"), u("fb")])
    #expect(m.ops[8].opCode == OpCode.softmax.rawValue && Float(bitPattern: m.ops[8].extra) == 0.5)
    #expect(m.ops[9].opCode == OpCode.logistic.rawValue && m.opOutputs(9) == [u("lg")])

    // Metadata.
    let md = try #require(m.metadata)
    #expect(m.string(md.nameOffset) == "every-op")
    #expect(md.classCount == 3 && m.labels == ["a", "b", "c"])
    #expect(md.labelsOffset % 4 == 0)
    #expect(md.imageWidth == 8 && md.imageHeight == 8 && md.imageChannels == 3)
    #expect(md.channelOrder == ChannelOrder.bgr.rawValue && md.pixelScale == Float(1) / 255)
    #expect(md.mean == (0.5, 0.25, 0.125, 0) && md.std == (2, 3, 4, 1))
    #expect(bytes[Int(h.metadataOffset) + 64..<Int(h.metadataOffset) + 96].allSatisfy { $0 == 0 })

    // Records re-written from what was read give the same bytes (the writer used write(to:)).
    var copy = bytes
    copy.withUnsafeMutableBytes { p in
      h.write(to: p.baseAddress!)
      for (i, r) in m.tensors.enumerated() {
        r.write(to: p.baseAddress! + Int(h.tensorTableOffset) + ModelFormat.tensorRecordSize * i)
      }
      for (i, r) in m.ops.enumerated() { r.write(to: p.baseAddress! + Int(h.opTableOffset) + 64 * i) }
      md.write(to: p.baseAddress! + Int(h.metadataOffset))
    }
    #expect(copy == bytes)

    // Serialization is deterministic, and the CRC covers the body.
    #expect(try b.serialize() == bytes)
    var flipped = bytes
    flipped[Int(h.stringTableOffset)] ^= 1
    #expect(crcOfBody(flipped) != h.checksum)
  }

  @Test func strings_are_deduplicated_and_nul_terminated() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [2, 4], scale: 0.1, zeroPoint: 0, name: "same")
    let y = try b.softmax(x, name: "same")
    try b.markInput(x); try b.markOutput(y)
    b.metadata = ModelMetadata(name: "same", labels: ["l0", "l1", "l2", "same"])
    let m = ParsedModel(try b.serialize())
    #expect(m.tensors[0].nameOffset == m.tensors[1].nameOffset)
    #expect(m.metadata!.nameOffset == m.tensors[0].nameOffset)
    #expect(m.labels == ["l0", "l1", "l2", "same"])
    #expect(Int(m.header.stringTableSize) == "same\0l0\0l1\0l2\0".utf8.count)
    #expect(m.header.checksum == crcOfBody(m.bytes))
  }

  @Test func model_without_metadata_or_names() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 4, 4, 2], scale: 0.5, zeroPoint: 1)
    let y = try b.maxPool2D(x, filter: (2, 2))
    try b.markInput(x); try b.markOutput(y)
    let m = ParsedModel(try b.serialize())
    #expect(m.header.metadataOffset == 0 && m.header.stringTableSize == 0)
    #expect(m.tensors.allSatisfy { $0.nameOffset == ModelFormat.noString })
    #expect(m.header.checksum == crcOfBody(m.bytes))
  }

  @Test func every_blob_is_64_byte_aligned_with_odd_sizes() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 5], scale: 0.1, zeroPoint: 0)
    var h = x
    for units in [3, 7, 1, 13] {
      let depth = b.tensors[h.index].shape[1]
      let w = try b.addConstant([Int8](repeating: 1, count: units * depth), shape: [units, depth], scale: 0.1)
      let bias = try b.addConstant([Int32](repeating: -1, count: units))
      h = try b.fullyConnected(h, weights: w, bias: bias, outputScale: 0.3, outputZeroPoint: 0)
    }
    try b.markInput(x); try b.markOutput(h)
    let m = ParsedModel(try b.serialize())
    let blobs = m.tensors.filter(\.isConstant)
    #expect(blobs.count == 8)
    for r in blobs { #expect(r.dataOffset % 64 == 0) }
    // No two blobs overlap.
    let sorted = blobs.sorted { $0.dataOffset < $1.dataOffset }
    for (a, c) in zip(sorted, sorted.dropFirst()) { #expect(a.dataOffset + a.dataSize <= c.dataOffset) }
  }

  @Test func quantize_weights_per_channel_symmetric() throws {
    // shape [2, 3], axis 0: channel 0 max 2, channel 1 max 0.5
    let (q, s) = try ModelBuilder.quantizeWeightsPerChannel([2, -1, 0.5, 0.5, -0.25, 0], shape: [2, 3], axis: 0)
    #expect(s == [2.0 / 127, 0.5 / 127])
    #expect(q == [127, -64, 32, 127, -64, 0])  // −63.5 rounds away from zero
    // axis 1 (depthwise-style, innermost)
    let (q2, s2) = try ModelBuilder.quantizeWeightsPerChannel([1, -4, -1, 2], shape: [2, 2], axis: 1)
    #expect(s2 == [1.0 / 127, 4.0 / 127])
    #expect(q2 == [127, -127, -127, 64])
    // all-zero channel gets scale 1
    let (q3, s3) = try ModelBuilder.quantizeWeightsPerChannel([0, 0], shape: [1, 2], axis: 0)
    #expect(s3 == [1] && q3 == [0, 0])
    #expect(errorCase { _ = try ModelBuilder.quantizeWeightsPerChannel([1, 2, 3], shape: [2, 2], axis: 0) } == "invalidData")
    #expect(errorCase { _ = try ModelBuilder.quantizeWeightsPerChannel([1, 2], shape: [2], axis: 1) } == "invalidQuantization")
  }

  @Test func quantize_bias_uses_input_times_weight_scale() throws {
    let q = try ModelBuilder.quantizeBias([1, -1, 0.3], inputScale: 0.5, weightScales: [0.01, 0.02, 0.1])
    #expect(q == [200, -100, 6])
    #expect(try ModelBuilder.quantizeBias([1e9], inputScale: 1e-3, weightScales: [1e-3]) == [Int32.max])
    #expect(try ModelBuilder.quantizeBias([-1e9], inputScale: 1e-3, weightScales: [1e-3]) == [-Int32.max])
    #expect(try ModelBuilder.quantizeBias([0.25, 0.75], inputScale: 1, weightScales: [0.5]) == [1, 2])  // half away
    #expect(errorCase { _ = try ModelBuilder.quantizeBias([1, 2], inputScale: 1, weightScales: [1, 1, 1]) } == "invalidQuantization")
    #expect(errorCase { _ = try ModelBuilder.quantizeBias([1], inputScale: 0, weightScales: [1]) } == "invalidQuantization")
  }

  // MARK: Errors

  @Test func tensor_errors() {
    var b = ModelBuilder()
    #expect(errorCase { _ = try b.addActivation(shape: [], scale: 1, zeroPoint: 0) } == "invalidShape")
    #expect(errorCase { _ = try b.addActivation(shape: [1, 2, 3, 4, 5, 6], scale: 1, zeroPoint: 0) } == "invalidShape")
    #expect(errorCase { _ = try b.addActivation(shape: [1, 0], scale: 1, zeroPoint: 0) } == "invalidShape")
    #expect(errorCase { _ = try b.addActivation(shape: [1, 70_000], scale: 1, zeroPoint: 0) } == "invalidShape")
    #expect(errorCase { _ = try b.addActivation(shape: [4], scale: 0, zeroPoint: 0) } == "invalidQuantization")
    #expect(errorCase { _ = try b.addActivation(shape: [4], scale: .nan, zeroPoint: 0) } == "invalidQuantization")
    #expect(errorCase { _ = try b.addActivation(shape: [4], scale: 1, zeroPoint: 128) } == "invalidQuantization")
    #expect(errorCase { _ = try b.addActivation(shape: [4], scale: 1, zeroPoint: 0, name: "a\0b") } == "invalidString")
    #expect(errorCase { _ = try b.addConstant([Int8](repeating: 0, count: 5), shape: [2, 3], scale: 1) } == "invalidData")
    #expect(errorCase { _ = try b.addConstant([Int8](repeating: 0, count: 6), shape: [2, 3], scales: [1, 1, 1], axis: 0) }
      == "invalidQuantization")
    #expect(errorCase { _ = try b.addConstant([Int8](repeating: 0, count: 6), shape: [2, 3], scales: [1, 1], axis: 2) }
      == "invalidQuantization")
    #expect(errorCase { _ = try b.addConstant([Int8](repeating: 0, count: 6), shape: [2, 3], scales: [1, -1], axis: 0) }
      == "invalidQuantization")
    #expect(errorCase { _ = try b.addConstant([Int32](repeating: 0, count: 3), shape: [4]) } == "invalidData")
    #expect(errorCase { try b.setName("x", for: TensorID(3)) } == "badTensorIndex")
    #expect(errorCase { try b.markInput(TensorID(0)) } == "badTensorIndex")
    #expect(b.tensors.isEmpty)
    let c = try? b.addConstant([Int32(1)])
    #expect(errorCase { try b.markInput(c!) } == "invalidGraph")
    #expect(errorCase { try b.markOutput(c!) } == "invalidGraph")
  }

  @Test func op_errors() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 8, 8, 3], scale: 0.1, zeroPoint: 0, name: "x")
    let w = try b.addConstant([Int8](repeating: 1, count: 4 * 3 * 3 * 3), shape: [4, 3, 3, 3], scale: 0.1)
    let w2 = try b.addConstant([Int8](repeating: 1, count: 4 * 3 * 3 * 2), shape: [4, 3, 3, 2], scale: 0.1)
    let wPerChannelAxis3 = try b.addConstant([Int8](repeating: 1, count: 4 * 3 * 3 * 3), shape: [4, 3, 3, 3],
                                             scales: [1, 1, 1], axis: 3)
    let bias3 = try b.addConstant([Int32](repeating: 0, count: 3))
    let biasQ = try b.addConstant([Int8](repeating: 0, count: 4), shape: [4], scale: 1)
    let before = b.tensors.count

    #expect(errorCase { _ = try b.conv2D(TensorID(99), filter: w, bias: nil, outputScale: 1, outputZeroPoint: 0) } == "badTensorIndex")
    #expect(errorCase { _ = try b.conv2D(x, filter: TensorID(-1), bias: nil, outputScale: 1, outputZeroPoint: 0) } == "badTensorIndex")
    #expect(errorCase { _ = try b.conv2D(x, filter: w2, bias: nil, outputScale: 1, outputZeroPoint: 0) } == "shapeMismatch")
    #expect(errorCase { _ = try b.conv2D(x, filter: wPerChannelAxis3, bias: nil, outputScale: 1, outputZeroPoint: 0) }
      == "invalidQuantization")
    #expect(errorCase { _ = try b.conv2D(x, filter: w, bias: bias3, outputScale: 1, outputZeroPoint: 0) } == "shapeMismatch")
    #expect(errorCase { _ = try b.conv2D(x, filter: w, bias: biasQ, outputScale: 1, outputZeroPoint: 0) } == "shapeMismatch")
    #expect(errorCase { _ = try b.conv2D(x, filter: x, bias: nil, outputScale: 1, outputZeroPoint: 0) } == "invalidOp")
    #expect(errorCase { _ = try b.conv2D(x, filter: w, bias: nil, stride: (0, 1), outputScale: 1, outputZeroPoint: 0) } == "invalidOp")
    #expect(errorCase { _ = try b.conv2D(x, filter: w, bias: nil, dilation: (5, 1), outputScale: 1, outputZeroPoint: 0) }
      == "shapeMismatch")  // effective filter 11 > 8 with VALID
    #expect(errorCase {
      _ = try b.conv2D(x, filter: w, bias: nil, padding: .explicit(top: 3, left: 0, bottom: 0, right: 0),
                       outputScale: 1, outputZeroPoint: 0)
    } == "invalidOp")  // pad ≥ filter extent
    #expect(errorCase { _ = try b.conv2D(x, filter: w, bias: nil, outputScale: 1, outputZeroPoint: -129) } == "invalidQuantization")
    #expect(errorCase { _ = try b.depthwiseConv2D(x, filter: w, bias: nil, outputScale: 1, outputZeroPoint: 0) } == "shapeMismatch")
    #expect(errorCase { _ = try b.fullyConnected(x, weights: w, bias: nil, outputScale: 1, outputZeroPoint: 0) } == "invalidOp")
    #expect(errorCase { _ = try b.maxPool2D(x, filter: (9, 9)) } == "shapeMismatch")
    #expect(errorCase { _ = try b.maxPool2D(x, filter: (0, 2)) } == "invalidOp")
    #expect(errorCase { _ = try b.reshape(x, to: [1, 100]) } == "shapeMismatch")
    #expect(errorCase { _ = try b.reshape(x, to: [-1, 7]) } == "invalidShape")
    #expect(errorCase { _ = try b.softmax(x, beta: 0) } == "invalidOp")
    #expect(errorCase { _ = try b.softmax(w) } == "invalidOp")  // data inputs must be activations
    #expect(b.tensors.count == before, "failed convenience calls must not leave tensors behind")

    // Low-level addOp: wrong output shape / quantization.
    let y = try b.addActivation(shape: [1, 6, 6, 4], scale: 0.2, zeroPoint: 0)
    #expect(errorCase { try b.addOp(.conv2D, inputs: [x, w], output: y, options: OpOptions(padding: .same)) } == "shapeMismatch")
    try b.addOp(.conv2D, inputs: [x, w], output: y)
    let p = try b.addActivation(shape: [1, 3, 3, 4], scale: 0.3, zeroPoint: 0)
    #expect(errorCase { try b.addOp(.maxPool2D, inputs: [y], output: p, options: OpOptions(strideH: 2, strideW: 2, filterH: 2, filterW: 2)) }
      == "invalidQuantization")
    let sm = try b.addActivation(shape: [1, 6, 6, 4], scale: 0.1, zeroPoint: 0)
    #expect(errorCase { try b.addOp(.softmax, inputs: [y], output: sm) } == "invalidQuantization")
    #expect(errorCase { try b.addOp(.softmax, inputs: [y], output: sm, options: OpOptions(activation: .relu)) } == "invalidOp")
    #expect(errorCase { try b.addOp(.reshape, inputs: [y], output: sm, options: OpOptions(strideH: 2)) } == "invalidOp")
    #expect(errorCase { try b.addOp(.add, inputs: [y, x], output: sm) } == "shapeMismatch")
    #expect(errorCase { try b.addOp(.add, inputs: [y], output: sm) } == "invalidOp")
    #expect(errorCase { try b.addOp(.logistic, inputs: [y], output: w) } == "invalidOp")  // constant output
    #expect(errorCase { try b.addOp(.conv2D, inputs: [x, w, nil, nil], output: y) } == "invalidOp")
  }

  @Test func graph_errors() throws {
    // No inputs / outputs.
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 4], scale: 0.1, zeroPoint: 0)
    let y = try b.softmax(x)
    #expect(errorCase { _ = try b.serialize() } == "invalidGraph")
    try b.markInput(x)
    #expect(errorCase { _ = try b.serialize() } == "invalidGraph")
    try b.markOutput(y)
    #expect(errorCase { try b.markOutput(y) } == "invalidGraph")
    _ = try b.serialize()

    // An op reading a tensor nobody writes.
    var c = ModelBuilder()
    let a = try c.addActivation(shape: [1, 4], scale: 0.1, zeroPoint: 0)
    let orphan = try c.addActivation(shape: [1, 4], scale: 0.1, zeroPoint: 0)
    let s = try c.add(a, orphan, outputScale: 0.2, outputZeroPoint: 0)
    try c.markInput(a); try c.markOutput(s)
    #expect(errorCase { _ = try c.serialize() } == "invalidGraph")

    // Written twice.
    var d = ModelBuilder()
    let i = try d.addActivation(shape: [1, 4], scale: 0.1, zeroPoint: 0)
    let o = try d.logistic(i)
    try d.addOp(.logistic, inputs: [i], output: o)
    try d.markInput(i); try d.markOutput(o)
    #expect(errorCase { _ = try d.serialize() } == "invalidGraph")

    // Writing a model input; ops out of order.
    var e = ModelBuilder()
    let i2 = try e.addActivation(shape: [1, 4], scale: 1.0 / 256, zeroPoint: -128)
    let mid = try e.addActivation(shape: [1, 4], scale: 1.0 / 256, zeroPoint: -128)
    let out = try e.addActivation(shape: [1, 4], scale: 1.0 / 256, zeroPoint: -128)
    try e.addOp(.logistic, inputs: [mid], output: out)
    try e.addOp(.logistic, inputs: [i2], output: mid)
    try e.markInput(i2); try e.markOutput(out)
    #expect(errorCase { _ = try e.serialize() } == "invalidGraph")
    var f = ModelBuilder()
    let i3 = try f.addActivation(shape: [1, 4], scale: 1.0 / 256, zeroPoint: -128)
    try f.addOp(.reshape, inputs: [i3], output: i3)
    try f.markInput(i3); try f.markOutput(i3)
    #expect(errorCase { _ = try f.serialize() } == "invalidGraph")
  }

  @Test func metadata_errors() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 4, 4, 1], scale: 0.1, zeroPoint: 0)
    let g = try b.globalAveragePool(x)
    let r = try b.reshape(g, to: [1, 1])
    try b.markInput(x); try b.markOutput(r)
    b.metadata = ModelMetadata(labels: ["a", "b"])
    #expect(errorCase { _ = try b.serialize() } == "invalidMetadata")
    b.metadata = ModelMetadata(labels: [""])
    #expect(errorCase { _ = try b.serialize() } == "invalidMetadata")
    b.metadata = ModelMetadata(imageWidth: 5, imageHeight: 4, imageChannels: 1)
    #expect(errorCase { _ = try b.serialize() } == "invalidMetadata")
    b.metadata = ModelMetadata(imageWidth: 4, imageHeight: 4, imageChannels: 1, std: [0])
    #expect(errorCase { _ = try b.serialize() } == "invalidMetadata")
    b.metadata = ModelMetadata(imageWidth: 4, imageHeight: 4, imageChannels: 1, mean: [0, 0, 0])
    #expect(errorCase { _ = try b.serialize() } == "invalidMetadata")
    b.metadata = ModelMetadata(pixelScale: 0)
    #expect(errorCase { _ = try b.serialize() } == "invalidMetadata")
    b.metadata = ModelMetadata(name: "ok", labels: ["only"], imageWidth: 4, imageHeight: 4, imageChannels: 1,
                               channelOrder: .gray, mean: [0.5], std: [0.25])
    let m = ParsedModel(try b.serialize())
    #expect(m.labels == ["only"] && m.metadata!.std == (0.25, 1, 1, 1))
  }

  @Test func error_messages_name_the_problem() {
    var b = ModelBuilder()
    let x = try! b.addActivation(shape: [1, 4, 4, 2], scale: 0.1, zeroPoint: 0, name: "features")
    do {
      _ = try b.maxPool2D(x, filter: (5, 5))
      Issue.record("expected an error")
    } catch {
      let text = "\(error)"
      #expect(text.contains("maxPool2D") && text.contains("height") && text.contains("5"), "\(text)")
    }
    do {
      try b.markOutput(TensorID(7))
      Issue.record("expected an error")
    } catch {
      #expect("\(error)".contains("tensor #7"), "\(error)")
    }
  }
}
