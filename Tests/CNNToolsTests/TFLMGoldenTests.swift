// Byte-for-byte equality with TensorFlow Lite Micro.
//
// Tests/Golden/tflm/ holds golden vectors made by tools/tflm/make_goldens.py,
// which runs the TFLM interpreter itself (see the README there for versions
// and seeds): single-op int8 TFLite models over each kernel's parameter
// space, and the MLPerf Tiny ResNet-8 and DS-CNN (read from ../shared/data)
// on 200 random inputs with their intermediate tensors for a few inputs.
// Every case is imported with the TFLite importer and run through the
// runtime's C API; any differing byte fails the test, naming the case, the
// sample, the first differing layer and element.
import CNNRuntime
import CNNTools
import Foundation
import Testing

private let goldenDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("Golden/tflm")

private func sharedData() throws -> URL {
  if let env = ProcessInfo.processInfo.environment["CNNRT_SHARED_DATA"] { return URL(fileURLWithPath: env) }
  let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data")
  guard FileManager.default.fileExists(atPath: url.path) else {
    throw GoldenError("shared data not found at \(url.path): set CNNRT_SHARED_DATA")
  }
  return url
}

struct GoldenError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

struct GoldenManifest: Decodable {
  struct Intermediate: Decodable {
    let sample: Int
    let tensor: Int
    let name: String
    let file: String
    let shape: [Int]
  }
  struct Case: Decodable {
    let name: String
    let model: String?
    let shared_model: String?
    let op: String?
    let inputs: String
    let outputs: String
    let count: Int
    let input_shapes: [[Int]]
    let output_shape: [Int]
    /// Every model output's shape (several for split / unpack cases; absent in older manifests: one output).
    let output_shapes: [[Int]]?
    let input_count: Int?
    let intermediates: [Intermediate]?
    /// TFLM's arena in total, and its head (the activation plan), as TFLM reported them.
    let arena_used_bytes: Int?
    let arena_head_bytes: Int?
  }
  let cases: [Case]
}

/// manifest.json (the core kernels and the MLPerf models) and every
/// manifest-<family>.json (one per op family, from tools/tflm/cases_<family>.py).
private func loadManifest(in dir: URL = goldenDir) throws -> GoldenManifest {
  var cases: [GoldenManifest.Case] = []
  let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
    .filter { $0 == "manifest.json" || ($0.hasPrefix("manifest-") && $0.hasSuffix(".json")) }.sorted()
  guard dir != goldenDir || files.contains("manifest.json") else { throw GoldenError("no manifest.json in \(dir.path)") }
  for f in files {
    let data = try Data(contentsOf: dir.appendingPathComponent(f))
    cases += try JSONDecoder().decode(GoldenManifest.self, from: data).cases
  }
  return GoldenManifest(cases: cases)
}

private func int8s(_ url: URL) throws -> [Int8] {
  try [UInt8](Data(contentsOf: url)).map { Int8(bitPattern: $0) }
}

private func modelBytes(_ c: GoldenManifest.Case, in dir: URL = goldenDir) throws -> [UInt8] {
  if let m = c.model { return [UInt8](try Data(contentsOf: dir.appendingPathComponent(m))) }
  guard let s = c.shared_model else { throw GoldenError("\(c.name): no model") }
  return [UInt8](try Data(contentsOf: try sharedData().appendingPathComponent(s)))
}

/// Runs every sample of a case; returns a description of the first mismatch, or nil.
private func firstMismatch(_ c: GoldenManifest.Case, in dir: URL = goldenDir) throws -> String? {
  let imported = try TFLiteImporter.importModel(bytes: try modelBytes(c, in: dir))
  let model = try RuntimeModel(bytes: imported.bytes)
  let inputs = try int8s(dir.appendingPathComponent(c.inputs))
  let expected = try int8s(dir.appendingPathComponent(c.outputs))
  let inputSizes = c.input_shapes.map { $0.reduce(1, *) }
  let perSample = inputSizes.reduce(0, +)
  // One sample's outputs are every model output, back to back.
  let outSize = (c.output_shapes ?? [c.output_shape]).map { $0.reduce(1, *) }.reduce(0, +)
  guard inputs.count == perSample * c.count, expected.count == outSize * c.count else {
    throw GoldenError("\(c.name): golden file sizes do not match the manifest")
  }
  for s in 0..<c.count {
    var offset = s * perSample
    var feeds: [[Int8]] = []
    for n in inputSizes { feeds.append(Array(inputs[offset..<offset + n])); offset += n }
    let outputs = try model.run(inputs: feeds)
    guard outputs.count == (c.output_shapes?.count ?? 1) else {
      return "\(c.name): the imported model has \(outputs.count) outputs, TFLM's \(c.output_shapes?.count ?? 1)"
    }
    let got = outputs.flatMap { $0 }
    let want = expected[(s * outSize)..<((s + 1) * outSize)]
    if let i = zip(got, want).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
      return "\(c.name) sample \(s): output byte \(i) is \(got[i]), TFLM gives \(want[want.startIndex + i])"
    }
  }
  return nil
}

@Suite(.serialized) struct TFLMGoldenTests {
  @Test func manifestIsComplete() throws {
    let m = try loadManifest()
    let ops = Set(m.cases.compactMap(\.op))
    var expected = ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "AVERAGE_POOL_2D", "MAX_POOL_2D",
                    "MEAN", "RESHAPE", "SOFTMAX", "LOGISTIC", "PAD", "TRANSPOSE_CONV"]
    expected += ["MUL", "SUB", "MAXIMUM", "MINIMUM"]  // binary
    expected += ["STRIDED_SLICE", "SLICE", "TRANSPOSE", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH"]  // shape
    expected += ["SPLIT", "SPLIT_V", "UNPACK", "GATHER"]
    expected += ["RELU", "RELU6", "LEAKY_RELU", "PRELU", "HARD_SWISH", "TANH", "QUANTIZE"]  // activations
    expected += ["CONCATENATION", "RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"]  // join
    expected += ["SUM", "REDUCE_MAX", "TILE"]  // reduce; TILE's oracle is LiteRT's reference (TFLM has no TILE)
    for op in expected {
      #expect(ops.contains(op), "no golden case for \(op)")
    }
    #expect(m.cases.contains { $0.shared_model?.contains("resnet8") == true && $0.count >= 200 })
    #expect(m.cases.contains { $0.shared_model?.contains("dscnn") == true && $0.count >= 200 })
  }

  /// The slow tier (`make zoo-test`): the Keras applications generated into
  /// build/golden-slow by `make_goldens.py --family slow_zoo` (tens of MB,
  /// not committed), on every kernel path this CPU has. Runs when
  /// CNNRT_SLOW_TIER is set, and then fails if the goldens are missing.
  @Test func slowTierNetworksMatchTFLM() throws {
    guard ProcessInfo.processInfo.environment["CNNRT_SLOW_TIER"] != nil else {
      print("slow tier: CNNRT_SLOW_TIER not set (make zoo-test runs it)")
      return
    }
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("build/golden-slow")
    let cases = try loadManifest(in: dir).cases
    #expect(cases.count >= 10, "\(cases.count) slow-tier cases in \(dir.path)")
    // Arena (portable path) against the TFLM arena the generator measured.
    setenv("CNNRT_ISA", "portable", 1)
    for c in cases {
      guard let tflm = c.arena_used_bytes else { Issue.record("\(c.name): no TFLM arena figure"); continue }
      let rm = try RuntimeModel(bytes: try TFLiteImporter.importModel(bytes: try modelBytes(c, in: dir)).bytes)
      print("slow tier arena: \(c.name): cnnrt \(rm.arenaBytes) B, TFLM \(tflm) B")
      #expect(rm.arenaBytes <= tflm, "\(c.name): arena \(rm.arenaBytes) B > TFLM \(tflm) B")
    }
    defer { unsetenv("CNNRT_ISA") }
    for isa in ["portable", "avx2", "avx512"] {
      let level: Int32 = isa == "portable" ? KernelISA.portable : isa == "avx2" ? KernelISA.avx2 : KernelISA.avx512
      guard resolvedKernelISA(request: level) == level else {
        print("slow tier, path \(isa): not available on this CPU/build, skipped")
        continue
      }
      setenv("CNNRT_ISA", isa, 1)
      for c in cases {
        let start = Date()
        var result = "0 bytes differ"
        do {
          if let m = try firstMismatch(c, in: dir) { result = m; Issue.record("path \(isa): \(m)") }
        } catch {
          result = "\(error)"
          Issue.record("path \(isa): \(c.name): \(error)")
        }
        print("slow tier, path \(isa): \(c.name) (\(c.count) samples, \(String(format: "%.1f", Date().timeIntervalSince(start))) s): \(result)")
      }
    }
  }

  @Test func singleOpModelsMatchTFLMByteForByte() throws {
    var failures: [String] = []
    var checked = 0
    for c in try loadManifest().cases where c.model != nil {
      do {
        if let m = try firstMismatch(c) { failures.append(m) }
      } catch {
        failures.append("\(c.name): \(error)")
      }
      checked += 1
    }
    #expect(checked >= 50)
    #expect(failures.isEmpty, "\(failures.count) of \(checked) cases differ:\n\(failures.joined(separator: "\n"))")
  }

  @Test(arguments: ["resnet8", "dscnn"])
  func mlperfModelOutputsMatchTFLM(model: String) throws {
    let cases = try loadManifest().cases.filter { $0.shared_model?.contains(model) == true }
    #expect(cases.count == 1)
    for c in cases {
      #expect(c.count >= 200)
      let mismatch = try firstMismatch(c)
      #expect(mismatch == nil, "\(mismatch ?? "")")
    }
  }

  /// Every kernel path (CNNRT_ISA=portable|avx2|avx512) that this CPU and
  /// build support gives TFLM's bytes: every single-op case of every family,
  /// the zoo networks and the ResNet-8 / DS-CNN goldens, with the path forced at
  /// model load. Paths the CPU lacks are skipped (a forced
  /// request is capped at the best available path, never exceeded).
  @Test(arguments: ["portable", "avx2", "avx512"])
  func everyKernelPathMatchesTFLM(isa: String) throws {
    let level: Int32 = isa == "portable" ? KernelISA.portable : isa == "avx2" ? KernelISA.avx2 : KernelISA.avx512
    guard resolvedKernelISA(request: level) == level else {
      print("kernel path \(isa): not available on this CPU/build, skipped")
      return
    }
    setenv("CNNRT_ISA", isa, 1)
    defer { unsetenv("CNNRT_ISA") }
    #expect(selectedKernelISA() == level)
    var failures: [String] = []
    var checked = 0
    for c in try loadManifest().cases {
      let isConv = ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD",
                    "CONCATENATION", "RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"].contains(c.op ?? "")  // join
      let isNetwork = c.shared_model?.contains("resnet8") == true || c.shared_model?.contains("dscnn") == true
      // Every single-op and zoo case (each op's path dispatch), and the MLPerf nets.
      guard c.model != nil || isNetwork else { continue }
      do {
        if let m = try firstMismatch(c) { failures.append(m) }
      } catch {
        failures.append("\(c.name): \(error)")
      }
      checked += 1
    }
    #expect(checked >= 10)
    #expect(failures.isEmpty, "path \(isa): \(failures.count) of \(checked) cases differ:\n\(failures.joined(separator: "\n"))")
  }

  /// Packed weights stay int8-sized on every kernel path. For ResNet-8 and
  /// DS-CNN (imported from ../shared/data) and the bundled MNIST model, the
  /// model block laid out for each SIMD path (x86 avx2 and avx512, Arm neon
  /// and dotprod: layout only, so every path is checked from one machine)
  /// holds packed convolution weights, and the packed copies take at most
  /// 1.15x the bytes of the filters they copy. The measure is
  /// PackedWeightSummary: of the block (cnn_model_memory_size), the bytes of
  /// the packed filter copies (int8, zero-padded to whole 8- or 16-lane
  /// blocks and pairs or quads, each rounded up to 64 bytes), against those
  /// filters' int8 bytes in the file. The rest of the block grows with
  /// tensors, ops and channels (argument blocks, bias, multipliers, shifts,
  /// requantization tables), not with weights. When AVX2 packed int16,
  /// ResNet-8's ratio was 2.0x; AVX-512 padded DS-CNN's one-channel first
  /// layer to quads per tap (1.37x in all) until its row mode packed a
  /// kernel row's taps together. On the paths this CPU has, a real load
  /// (CNNRT_ISA forced) takes the same block size, larger than the portable
  /// path's.
  @Test(arguments: ["avx2", "avx512", "neon", "dotprod"])
  func packedWeightsStayInt8Sized(isa: String) throws {
    let level: Int32 = ["avx2": KernelISA.avx2, "avx512": KernelISA.avx512, "neon": KernelISA.neon,
                        "dotprod": KernelISA.dotprod][isa]!
    let shared = try sharedData()
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    var models: [(name: String, bytes: [UInt8])] = []
    for name in ["mlperf_tiny_ic_resnet8", "mlperf_tiny_kws_dscnn"] {
      let tflite = try Data(contentsOf: shared.appendingPathComponent("models/\(name)_int8.tflite"))
      models.append((name, try TFLiteImporter.importModel(bytes: [UInt8](tflite)).bytes))
    }
    models.append(("mnist", [UInt8](try Data(contentsOf: repo.appendingPathComponent("models/mnist.cnnrt")))))
    let onThisCPU = resolvedKernelISA(request: level) == level
    defer { unsetenv("CNNRT_ISA") }
    for m in models {
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: m.bytes.count, alignment: 16)
      defer { buffer.deallocate() }
      buffer.copyBytes(from: m.bytes)
      guard let w = packedWeightSummary(buffer.baseAddress!, m.bytes.count, isa: level),
            let p = packedWeightSummary(buffer.baseAddress!, m.bytes.count, isa: KernelISA.portable) else {
        Issue.record("\(m.name): no packed-weight summary")
        continue
      }
      let ratio = Double(w.packedWeightBytes) / Double(max(1, w.packedFilterFileBytes))
      print("\(m.name) on \(isa): model block \(w.blockBytes) B (portable \(p.blockBytes) B), packed weights "
            + "\(w.packedWeightBytes) B for \(w.packedFilterFileBytes) B of filters in the file (\(ratio)x)")
      #expect(w.isa == level && p.isa == KernelISA.portable)
      #expect(p.packedWeightBytes == 0 && p.packedFilterFileBytes == 0)
      #expect(w.packedFilterFileBytes > 0, "\(m.name): nothing packed on \(isa)")
      #expect(w.blockBytes > p.blockBytes)
      #expect(ratio <= 1.15, "\(m.name) on \(isa): packed weights \(ratio)x the file's filter bytes")
      if onThisCPU {
        setenv("CNNRT_ISA", isa, 1)
        let loaded = try RuntimeModel(bytes: m.bytes)
        #expect(loaded.modelBlockBytes == w.blockBytes)
        #expect(loaded.packedWeights?.packedWeightBytes == w.packedWeightBytes)
      }
    }
  }

  /// cnnrt's arena is no larger than TFLM's for the same model: both the
  /// activation plan and the whole arena (TFLM's figures were measured by the
  /// golden generator with the same model files).
  @Test(arguments: ["resnet8", "dscnn"])
  func arenaBytesAtOrBelowTFLM(model: String) throws {
    guard let c = try loadManifest().cases.first(where: { $0.shared_model?.contains(model) == true }),
          let tflmTotal = c.arena_used_bytes, let tflmActivations = c.arena_head_bytes else {
      Issue.record("no TFLM arena figures for \(model)")
      return
    }
    let runtime = try RuntimeModel(bytes: try TFLiteImporter.importModel(bytes: try modelBytes(c)).bytes)
    print("\(model): cnnrt activations \(runtime.activationBytes) B (TFLM \(tflmActivations) B), "
          + "arena \(runtime.arenaBytes) B + prepared model \(runtime.modelBlockBytes) B (TFLM arena \(tflmTotal) B)")
    #expect(runtime.activationBytes <= tflmActivations)
    #expect(runtime.arenaBytes <= tflmTotal)
  }

  /// The same on every golden model, the single-op ones included (tiny
  /// models are where fixed-size tables would show). Prints the largest
  /// ratio.
  @Test func arenaAtOrBelowTFLMOnEveryGoldenModel() throws {
    var over: [String] = []
    var checked = 0
    var worst = (ratio: 0.0, name: "")
    for c in try loadManifest().cases {
      guard let tflmTotal = c.arena_used_bytes else { continue }
      let runtime = try RuntimeModel(bytes: try TFLiteImporter.importModel(bytes: try modelBytes(c)).bytes)
      let ratio = Double(runtime.arenaBytes) / Double(tflmTotal)
      if ratio > worst.ratio { worst = (ratio, c.name) }
      if runtime.arenaBytes > tflmTotal { over.append("\(c.name): \(runtime.arenaBytes) B > TFLM \(tflmTotal) B") }
      checked += 1
    }
    print("arena vs TFLM on \(checked) models: largest ratio \(worst.ratio) (\(worst.name))")
    #expect(checked >= 80)
    #expect(over.isEmpty, "\(over.count) of \(checked) models need a larger arena than TFLM:\n\(over.joined(separator: "\n"))")
  }

  /// Every intermediate tensor TFLM recorded, compared layer by layer: on a
  /// mismatch the message names the first differing layer in execution order.
  @Test(arguments: ["resnet8", "dscnn"])
  func mlperfIntermediatesMatchTFLMLayerByLayer(model: String) throws {
    guard let c = try loadManifest().cases.first(where: { $0.shared_model?.contains(model) == true }),
          let inter = c.intermediates, !inter.isEmpty else {
      Issue.record("no intermediate goldens for \(model)")
      return
    }
    let tensors = Array(Set(inter.map(\.tensor))).sorted()
    let imported = try TFLiteImporter.importModel(bytes: try modelBytes(c),
                                                  options: .init(extraOutputs: tensors))
    let runtime = try RuntimeModel(bytes: imported.bytes)
    let inputs = try int8s(goldenDir.appendingPathComponent(c.inputs))
    let perSample = c.input_shapes[0].reduce(1, *)
    var compared = 0
    for sample in Set(inter.map(\.sample)).sorted() {
      let outs = try runtime.run(inputs: [Array(inputs[(sample * perSample)..<((sample + 1) * perSample)])])
      // Execution order: the builder creates each op's output tensor as it adds the op,
      // so cnnrt tensor indices follow the order in which layers run.
      let ordered = inter.filter { $0.sample == sample }
        .sorted { (imported.tensorMap[$0.tensor] ?? Int.max) < (imported.tensorMap[$1.tensor] ?? Int.max) }
      for item in ordered {
        guard let o = imported.outputs.firstIndex(of: item.tensor) else {
          Issue.record("tensor \(item.tensor) (\(item.name)) is not an output of the imported model")
          continue
        }
        let want = try int8s(goldenDir.appendingPathComponent(item.file))
        let got = outs[o]
        #expect(got.count == want.count, "\(item.name): size \(got.count) vs \(want.count)")
        if let i = zip(got, want).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
          Issue.record("\(model) sample \(sample): first differing layer is tensor \(item.tensor) '\(item.name)', element \(i): cnnrt \(got[i]), TFLM \(want[i])")
          return
        }
        compared += 1
      }
    }
    #expect(compared == inter.count)
  }
}
