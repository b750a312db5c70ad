// `cnnrt compare`: a layer-by-layer diff of cnnrt against TensorFlow Lite
// Micro on the same inputs.
//
// TFLM runs in Python (tools/tflm/tflm_run.py, which dumps every operator
// output). cnnrt runs twice through the C API: the given .cnnrt file for the
// final outputs, and the .tflite re-imported with every dumped tensor the
// importer maps as an extra model output, for the intermediates.
import ArgumentParser
import CNNRuntime
import CNNTools
import Foundation

struct Compare: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compare cnnrt with TensorFlow Lite Micro layer by layer on the same int8 inputs.",
    discussion: """
      Runs MODEL.tflite through TFLite Micro (tools/tflm/tflm_run.py, with the Python \
      from CNNRT_TFLM_PYTHON, else build/venv-tflm/bin/python in the repository, else \
      python3; install it with `bash tools/tflm/setup-venv.sh`) and through cnnrt, and \
      prints for every layer, in execution order, how many bytes differ. The final \
      outputs come from MODEL.cnnrt (run through the C API); the intermediates from \
      the .tflite imported again with every layer exposed as an output. MODEL.cnnrt \
      is also checked against what importing the .tflite gives.

      Inputs: raw int8 samples back to back (one sample = every model input, in \
      order; a float32 input read by a QUANTIZE takes that QUANTIZE's int8 values, \
      which TFLite Micro gets dequantized), or --random N for N seeded random samples.

      Exit codes: 0 = identical, 1 = some byte differs, 2 = unreadable file (or an \
      inputs file whose size does not fit the model), 3 = invalid or unsupported \
      model, 5 = TFLite Micro unavailable or failed.
      """)

  @Argument(help: ArgumentHelp("TFLite model (.tflite), full-integer int8.", valueName: "model.tflite"))
  var tflite: String

  @Argument(help: ArgumentHelp("cnnrt model (.cnnrt), normally imported from the .tflite.", valueName: "model.cnnrt"))
  var model: String

  @Option(name: .long, help: ArgumentHelp("Raw int8 input samples, back to back.", valueName: "file"))
  var inputs: String?

  @Option(name: .long, help: ArgumentHelp("Generate N random int8 samples instead of --inputs.", valueName: "n"))
  var random: Int?

  @Option(name: .long, help: ArgumentHelp("Seed for --random.", valueName: "s"))
  var seed: UInt64 = 1

  @Option(name: .long, help: ArgumentHelp("Use only the first N samples.", valueName: "n"))
  var count: Int?

  @OptionGroup var output: OutputOptions

  func validate() throws {
    if (inputs == nil) == (random == nil) { throw ValidationError("give either --inputs FILE or --random N") }
    if let random, random < 1 { throw ValidationError("--random must be at least 1") }
    if let count, count < 1 { throw ValidationError("--count must be at least 1") }
  }

  func run() throws {
    // Files.
    guard let tfliteData = FileManager.default.contents(atPath: tflite) else {
      throw fail("\(tflite): cannot read the TFLite file", code: ExitCodes.io)
    }
    guard let cnnrtData = FileManager.default.contents(atPath: model) else {
      throw fail("\(model): cannot read the model file", code: ExitCodes.io)
    }
    var rawInputs: [UInt8]? = nil
    if let inputs {
      guard let d = FileManager.default.contents(atPath: inputs) else {
        throw fail("\(inputs): cannot read the inputs file", code: ExitCodes.io)
      }
      rawInputs = [UInt8](d)
    }

    // The TFLite model, and what importing it gives.
    let tfliteBytes = [UInt8](tfliteData)
    let tfl: TFLiteModel
    let plain: TFLiteImporter.ImportResult
    do {
      tfl = try TFLiteModel(bytes: tfliteBytes)
      plain = try TFLiteImporter.importModel(bytes: tfliteBytes)
    } catch {
      throw fail("\(tflite): \(error)", code: ExitCodes.badModel)
    }
    guard let graph = tfl.subgraphs.first else {
      throw fail("\(tflite): the model has no subgraph", code: ExitCodes.badModel)
    }
    // A float input read by a QUANTIZE is fed as that QUANTIZE's int8 values:
    // TFLM gets scale × (q − zero point) in float32, which quantizes back to q.
    var floatInputs: [Int: (scale: Float, zeroPoint: Int)] = [:]
    for (i, t) in graph.inputs.enumerated() where graph.tensors[t].type != .int8 {
      guard graph.tensors[t].type == .float32, i < plain.inputs.count, plain.inputs[i] != t,
            let q = graph.tensors[plain.inputs[i]].quantization, q.scale.count == 1, q.zeroPoint.count <= 1,
            graph.tensors[plain.inputs[i]].elementCount == graph.tensors[t].elementCount else {
        throw fail("\(tflite): model input \(t) '\(graph.tensors[t].name)' is \(graph.tensors[t].type); compare "
                     + "feeds raw int8 samples: inputs must be int8, or float32 read by a QUANTIZE", code: ExitCodes.badModel)
      }
      floatInputs[t] = (q.scale[0], Int(q.zeroPoint.first ?? 0))
    }
    let cnnrt = try loadModel(model)

    // Samples.
    let inputSizes = graph.inputs.map { graph.tensors[$0].elementCount ?? 0 }
    let perSample = inputSizes.reduce(0, +)
    guard perSample > 0 else { throw fail("\(tflite): the model inputs have no elements", code: ExitCodes.badModel) }
    var raw: [UInt8]
    let source: String
    if let rawInputs {
      guard rawInputs.count % perSample == 0, !rawInputs.isEmpty else {
        throw fail("\(inputs!): \(rawInputs.count) bytes, not a positive multiple of \(perSample) "
                     + "(the model's input bytes per sample)", code: ExitCodes.io)
      }
      raw = rawInputs
      source = inputs!
    } else {
      raw = randomBytes(count: random! * perSample, seed: seed)
      source = "random, seed \(seed)"
    }
    var samples = raw.count / perSample
    if let count {
      guard count <= samples else {
        throw fail("\(source): --count \(count), but there are only \(samples) samples", code: ExitCodes.io)
      }
      samples = count
      raw = Array(raw.prefix(count * perSample))
    }

    // Is the .cnnrt file what importing the .tflite gives?
    let check = checkModel(cnnrtBytes: [UInt8](cnnrtData), runtime: cnnrt, tfliteBytes: tfliteBytes, plain: plain)
    if let w = check.warning {
      FileHandle.standardError.write("cnnrt: warning: \(model): \(w)\n".data(using: .utf8)!)
    }

    // TFLite Micro.
    let work = FileManager.default.temporaryDirectory
      .appendingPathComponent("cnnrt-compare-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
    do {
      try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    } catch {
      throw fail("\(work.path): cannot create a temporary folder: \(error.localizedDescription)", code: ExitCodes.io)
    }
    defer { try? FileManager.default.removeItem(at: work) }
    let inputsFile = work.appendingPathComponent("inputs.bin")
    do {
      try Data(floatInputs.isEmpty ? raw : tflmInputs(raw: raw, samples: samples, graph: graph, floats: floatInputs))
        .write(to: inputsFile)
    } catch {
      throw fail("\(inputsFile.path): cannot write: \(error.localizedDescription)", code: ExitCodes.io)
    }
    let tflm = try TFLMRunner.run(tflite: tflite, inputs: inputsFile.path, count: samples,
                                  out: work.appendingPathComponent("tflm"))

    // Layers TFLM dumped, in execution order.
    struct Layer {
      let opIndex: Int
      let opName: String
      let tensor: Int
      let name: String
      let shape: [Int]
      var note: String?
    }
    var layers: [Layer] = []
    var seen = Set<Int>()
    // Outputs of ops the plain import fused into a later op (a swish's
    // LOGISTIC): asked for as extra outputs below, which keeps those ops.
    let fusedOps = Set(plain.ops.filter { $0.fusedInto != nil }.map(\.tfliteIndex))
    for op in graph.operators {
      for t in op.outputs where t >= 0 && seen.insert(t).inserted {
        let tensor = graph.tensors[t]
        var note: String? = nil
        if tensor.type != .int8 {
          note = "\(tensor.type), not compared"
        } else if plain.tensorMap[t] == nil && !fusedOps.contains(op.index) {
          note = "not in the cnnrt model"
        }
        layers.append(Layer(opIndex: op.index, opName: tfl.operatorName(op), tensor: t, name: tensor.name,
                            shape: tensor.shape, note: note))
      }
    }

    // cnnrt with every comparable layer exposed as an output.
    // (A model input's value is what cnnrt was fed: a folded QUANTIZE's output.)
    let wanted = layers.filter { $0.note == nil && !plain.inputs.contains($0.tensor) }.map(\.tensor)
    var (got, rejected) = try runWithExtraOutputs(tensors: wanted, tfliteBytes: tfliteBytes, graph: graph, raw: raw,
                                                  perSample: perSample, samples: samples, plain: plain)
    for s in 0..<samples {
      for (i, x) in feeds(raw: raw, sample: s, perSample: perSample, plain: plain, graph: graph).enumerated() {
        got[s][plain.inputs[i]] = x
      }
    }
    for i in layers.indices {
      if let why = rejected[layers[i].tensor] { layers[i].note = "not exposable: \(why)" }
    }

    // Layer statistics.
    var rows: [DiffRow] = []
    for l in layers {
      var row = DiffRow(label: "\(l.opIndex)", op: l.opName, tensor: l.tensor, name: l.name, shape: l.shape,
                        note: l.note)
      if l.note == nil {
        for s in 0..<samples {
          let want = tflm.intermediate(tensor: l.tensor, sample: s)
          row.add(sample: s, cnnrt: got[s][l.tensor], tflm: want)
        }
      }
      rows.append(row)
    }

    // Final outputs of the .cnnrt file, through the C API.
    var outRows: [DiffRow] = []
    let cnnrtInputs = cnnrt.inputs
    let runnable = cnnrtInputs.count == plain.inputs.count
      && zip(cnnrtInputs, plain.inputs).allSatisfy { $0.byteSize == (graph.tensors[$1].elementCount ?? -1) }
    var outputNote: String? = nil
    if !runnable {
      outputNote = "\(model) cannot run these inputs: its inputs are "
        + cnnrtInputs.map { shapeString($0.shape) }.joined(separator: ", ") + ", the .tflite's are "
        + plain.inputs.map { shapeString(graph.tensors[$0].shape) }.joined(separator: ", ")
    }
    let cnnrtOutputs = cnnrt.outputs
    var finalOutputs: [[[Int8]]] = []
    if runnable {
      for s in 0..<samples {
        do {
          finalOutputs.append(try cnnrt.run(inputs: feeds(raw: raw, sample: s, perSample: perSample, plain: plain,
                                                          graph: graph)))
        } catch {
          throw fail("\(model): run failed: \(error)", code: ExitCodes.badModel)
        }
      }
    }
    for (o, summary) in cnnrtOutputs.enumerated() {
      let t = o < plain.outputs.count ? plain.outputs[o] : nil
      var row = DiffRow(label: "out \(o)", op: "", tensor: t ?? -1, name: summary.name, shape: summary.shape,
                        note: nil)
      if let note = outputNote {
        row.note = note
        row.failed = true
      } else if let t {
        for s in 0..<samples {
          row.add(sample: s, cnnrt: finalOutputs[s][o], tflm: tflm.output(tensor: t, sample: s))
        }
      } else {
        row.note = "no matching output in the .tflite"
        row.failed = true
      }
      outRows.append(row)
    }

    // Report.
    let compared = rows.filter { $0.total > 0 }
    let firstLayer = rows.firstIndex { $0.first != nil }
    let firstOutput = outRows.firstIndex { $0.first != nil || $0.failed }
    let failedLayers = rows.filter(\.failed).count
    let differing = compared.reduce(0) { $0 + $1.differing }
    let identical = firstLayer == nil && firstOutput == nil && failedLayers == 0
    let summary: String
    if let i = firstLayer, let f = rows[i].first {
      let n = compared.filter { $0.differing > 0 }.count
      summary = "first divergence at op \(rows[i].label) \(rows[i].op) '\(compactName(rows[i].name))', sample \(f.sample), "
        + "element \(f.element) \(shapeString(coordinates(f.element, rows[i].shape))): cnnrt \(f.cnnrt), TFLM \(f.tflm); "
        + "\(plural(differing, "differing byte")) in \(n) of \(plural(compared.count, "layer")) over "
        + plural(samples, "sample")
    } else if let o = firstOutput {
      let r = outRows[o]
      let detail = r.first.map {
        "sample \($0.sample), element \($0.element): cnnrt \($0.cnnrt), TFLM \($0.tflm)"
      } ?? (r.note ?? "not compared")
      summary = "0 differing bytes in \(plural(compared.count, "layer")) over \(plural(samples, "sample")), but output \(o) of \(model) "
        + "differs (\(detail))"
    } else if failedLayers > 0 {
      summary = "0 differing bytes in \(plural(compared.count, "layer")) over \(plural(samples, "sample")), but \(failedLayers) "
        + "layer\(failedLayers == 1 ? "" : "s") could not be compared"
    } else {
      summary = "0 differing bytes in \(plural(compared.count, "layer")) over \(plural(samples, "sample"))"
        + " (and in the \(outRows.count) output\(outRows.count == 1 ? "" : "s") of \(model))"
    }

    if output.json {
      var s = "{\n"
      s += "  \"tflite\": \(jsonString(tflite)),\n  \"model\": \(jsonString(model)),\n"
      s += "  \"tflite_micro\": \(jsonString(tflm.version)),\n  \"cnnrt\": \(jsonString(String(cString: cnnVersionString()))),\n"
      s += "  \"inputs\": \(jsonString(source)),\n  \"samples\": \(samples),\n"
      s += "  \"model_check\": {\"result\": \(jsonString(check.result)), \"warning\": "
        + (check.warning.map(jsonString) ?? "null") + "},\n"
      s += "  \"layers\": [\n" + rows.map { "    " + $0.json() }.joined(separator: ",\n") + "\n  ],\n"
      s += "  \"outputs\": [\n" + outRows.map { "    " + $0.json() }.joined(separator: ",\n") + "\n  ],\n"
      s += "  \"layers_compared\": \(compared.count),\n  \"differing_bytes\": \(differing),\n"
      if let i = firstLayer, let f = rows[i].first {
        s += "  \"first_divergence\": {\"layer\": \(i), \"op_index\": \(rows[i].label), \"op\": \(jsonString(rows[i].op)), "
          + "\"tensor\": \(rows[i].tensor), \"name\": \(jsonString(rows[i].name)), \"sample\": \(f.sample), "
          + "\"element\": \(f.element), \"cnnrt\": \(f.cnnrt), \"tflm\": \(f.tflm)},\n"
      } else {
        s += "  \"first_divergence\": null,\n"
      }
      s += "  \"identical\": \(identical),\n  \"summary\": \(jsonString(summary))\n}"
      print(s)
    } else {
      print("TFLite Micro \(tflm.version) vs cnnrt \(String(cString: cnnVersionString())), \(samples) sample"
              + (samples == 1 ? "" : "s") + " (\(source))")
      print("  \(tflite): \(graph.operators.count) ops")
      print("  \(model): \(check.text)")
      printTable(rows + outRows, firstLayer: firstLayer, outputsFrom: rows.count)
      print(summary)
    }
    if !identical { throw ExitCode(1) }
  }

  // MARK: Model check

  struct ModelCheck {
    let result: String  // "identical", "same_ops", "different"
    let text: String
    let warning: String?
  }

  func checkModel(cnnrtBytes: [UInt8], runtime: RuntimeModel, tfliteBytes: [UInt8],
                  plain: TFLiteImporter.ImportResult) -> ModelCheck {
    if cnnrtBytes == plain.bytes {
      return ModelCheck(result: "identical", text: "same bytes as importing the .tflite", warning: nil)
    }
    // `cnnrt import` stores a name and labels: import again with the file's.
    let name = runtime.name
    let labels = runtime.labels.allSatisfy(\.isEmpty) ? [] : runtime.labels
    if let again = try? TFLiteImporter.importModel(
      bytes: tfliteBytes, options: .init(name: name.isEmpty ? nil : name, labels: labels)),
      again.bytes == cnnrtBytes {
      return ModelCheck(result: "identical", text: "same bytes as importing the .tflite", warning: nil)
    }
    guard let imported = try? RuntimeModel(bytes: plain.bytes) else {
      return ModelCheck(result: "different", text: "cannot check against the import",
                        warning: "the imported .tflite does not load; cannot check the model")
    }
    let mine = runtime.ops, theirs = imported.ops
    let sameIO = runtime.inputs.map(\.shape) == imported.inputs.map(\.shape)
      && runtime.outputs.map(\.shape) == imported.outputs.map(\.shape)
    if mine == theirs && sameIO {
      return ModelCheck(result: "same_ops",
                        text: "same \(mine.count) ops as importing the .tflite (bytes differ: metadata or weights)",
                        warning: nil)
    }
    var why: String
    if mine.count != theirs.count {
      why = "\(mine.count) ops, importing the .tflite gives \(theirs.count)"
    } else if let i = mine.indices.first(where: { mine[$0] != theirs[$0] }) {
      let a = mine[i], b = theirs[i]
      why = "op \(i) is \(a.typeName) \(shapeString(a.outputShape)), importing the .tflite gives "
        + "\(b.typeName) \(shapeString(b.outputShape))"
    } else {
      why = "inputs or outputs differ from importing the .tflite"
    }
    why = "does not match the .tflite: " + why + " (its final outputs may not be comparable)"
    return ModelCheck(result: "different", text: "DOES NOT MATCH the .tflite", warning: why)
  }

  /// The TFLM inputs file: int8 samples, float32 (little-endian) for float inputs.
  func tflmInputs(raw: [UInt8], samples: Int, graph: TFLiteSubgraph,
                  floats: [Int: (scale: Float, zeroPoint: Int)]) -> [UInt8] {
    var out: [UInt8] = []
    var offset = 0
    for _ in 0..<samples {
      for t in graph.inputs {
        let n = graph.tensors[t].elementCount ?? 0
        let slice = raw[offset..<offset + n]
        offset += n
        guard let q = floats[t] else { out += slice; continue }
        for b in slice {
          let x = Float(Double(q.scale) * Double(Int(Int8(bitPattern: b)) - q.zeroPoint))
          withUnsafeBytes(of: x.bitPattern.littleEndian) { out += $0 }
        }
      }
    }
    return out
  }

  // MARK: cnnrt runs

  /// Sample `s` split per model input. The importer's inputs follow the
  /// .tflite's, one for one (a float input's is its QUANTIZE's output).
  func feeds(raw: [UInt8], sample s: Int, perSample: Int, plain: TFLiteImporter.ImportResult,
             graph: TFLiteSubgraph) -> [[Int8]] {
    var out: [[Int8]] = []
    var offset = s * perSample
    for t in graph.inputs {
      let n = graph.tensors[t].elementCount ?? 0
      out.append(raw[offset..<offset + n].map { Int8(bitPattern: $0) })
      offset += n
    }
    return out
  }

  /// Runs the .tflite imported with `tensors` as extra outputs (in chunks that
  /// fit the format's output limit). Returns per sample the values by TFLite
  /// tensor index, and the tensors the importer refused with its reason.
  func runWithExtraOutputs(tensors: [Int], tfliteBytes: [UInt8], graph: TFLiteSubgraph, raw: [UInt8], perSample: Int,
                           samples: Int, plain: TFLiteImporter.ImportResult) throws -> ([[Int: [Int8]]], [Int: String]) {
    var got = [[Int: [Int8]]](repeating: [:], count: samples)
    var rejected: [Int: String] = [:]
    let room = max(1, ModelFormat.maxModelIO - plain.outputs.count)
    var start = 0
    while start < tensors.count {
      var chunk = Array(tensors[start..<min(start + room, tensors.count)])
      start += chunk.count
      var result: TFLiteImporter.ImportResult
      do {
        result = try TFLiteImporter.importModel(bytes: tfliteBytes, options: .init(extraOutputs: chunk))
      } catch {
        // Find the tensors the importer refuses, and go on without them.
        chunk = chunk.filter { t in
          do {
            _ = try TFLiteImporter.importModel(bytes: tfliteBytes,
                                               options: .init(extraOutputs: [t], verifyWithRuntime: false))
            return true
          } catch {
            rejected[t] = "\(error)"
            return false
          }
        }
        do {
          result = try TFLiteImporter.importModel(bytes: tfliteBytes, options: .init(extraOutputs: chunk))
        } catch {
          throw fail("\(tflite): import with intermediate outputs failed: \(error)", code: ExitCodes.badModel)
        }
      }
      let rt: RuntimeModel
      do { rt = try RuntimeModel(bytes: result.bytes) } catch {
        throw fail("\(tflite): the model with intermediate outputs does not load: \(error)", code: ExitCodes.badModel)
      }
      for s in 0..<samples {
        let outs: [[Int8]]
        do {
          outs = try rt.run(inputs: feeds(raw: raw, sample: s, perSample: perSample, plain: result, graph: graph))
        } catch {
          throw fail("\(tflite): run with intermediate outputs failed: \(error)", code: ExitCodes.badModel)
        }
        for t in chunk {
          if let o = result.outputs.firstIndex(of: t), o < outs.count { got[s][t] = outs[o] }
        }
      }
    }
    return (got, rejected)
  }

  // MARK: Text table

  func printTable(_ rows: [DiffRow], firstLayer: Int?, outputsFrom: Int) {
    let header = ["#", "Op", "Tensor", "Shape", "Differing", "Max |d|"]
    func cells(_ r: DiffRow) -> [String] {
      let differing = r.note != nil && r.total == 0 ? "-" : "\(grouped(Int64(r.differing))) / \(grouped(Int64(r.total)))"
      let maxd = r.note != nil && r.total == 0 ? "-" : "\(r.maxAbs)"
      return [r.label, r.op, compactName(r.name.isEmpty ? "t\(r.tensor)" : r.name), shapeString(r.shape), differing, maxd]
    }
    let table = rows.map(cells)
    var widths = header.map(\.count)
    for r in table { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
    func line(_ c: [String]) -> String {
      c.enumerated().map { i, s in
        i >= 4 ? String(repeating: " ", count: widths[i] - s.count) + s
          : s.padding(toLength: widths[i], withPad: " ", startingAt: 0)
      }.joined(separator: "  ")
    }
    let rule = String(repeating: "-", count: line(header).count)
    print(line(header))
    print(rule)
    for (i, r) in rows.enumerated() {
      if i == outputsFrom {
        print(rule)
        print("outputs of \(model) (C API):")
      }
      var text = line(table[i])
      if let note = r.note {
        text += "  (\(note))"
      } else if i == firstLayer, let f = r.first {
        text += "  <-- FIRST DIFFERENCE: sample \(f.sample), element \(f.element) "
          + "\(shapeString(coordinates(f.element, r.shape))): cnnrt \(f.cnnrt), TFLM \(f.tflm)"
      } else if i >= outputsFrom, let f = r.first {
        text += "  <-- sample \(f.sample), element \(f.element): cnnrt \(f.cnnrt), TFLM \(f.tflm)"
      }
      print(text.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
    }
    print(rule)
  }
}

// MARK: - Diff statistics

struct DiffRow {
  struct First {
    let sample: Int
    let element: Int
    let cnnrt: Int
    let tflm: Int
  }
  let label: String
  let op: String
  let tensor: Int
  let name: String
  let shape: [Int]
  var note: String?
  var differing = 0
  var total = 0
  var maxAbs = 0
  var first: First? = nil
  /// Could not be compared at all (counts as a difference).
  var failed = false

  init(label: String, op: String, tensor: Int, name: String, shape: [Int], note: String?) {
    self.label = label; self.op = op; self.tensor = tensor; self.name = name; self.shape = shape; self.note = note
  }

  mutating func add(sample: Int, cnnrt: [Int8]?, tflm: [Int8]?) {
    let expected = shape.reduce(1) { $0 * max($1, 0) }
    guard let cnnrt, let tflm else {
      failed = true
      note = note ?? (tflm == nil ? "no TFLM value for sample \(sample)" : "no cnnrt value for sample \(sample)")
      return
    }
    let n = max(cnnrt.count, tflm.count, expected)
    total += n
    if n > 0, cnnrt.count == n, tflm.count == n,
       cnnrt.withUnsafeBytes({ a in tflm.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, n) == 0 } }) {
      return
    }
    for i in 0..<n {
      let a = i < cnnrt.count ? Int(cnnrt[i]) : nil
      let b = i < tflm.count ? Int(tflm[i]) : nil
      guard a != b else { continue }
      differing += 1
      if let a, let b { maxAbs = max(maxAbs, abs(a - b)) }
      if first == nil { first = First(sample: sample, element: i, cnnrt: a ?? 0, tflm: b ?? 0) }
    }
    if cnnrt.count != tflm.count {
      note = note ?? "sizes differ: cnnrt \(cnnrt.count) bytes, TFLM \(tflm.count)"
    }
  }

  func json() -> String {
    let f = first.map {
      "{\"sample\": \($0.sample), \"element\": \($0.element), \"index\": [\(coordinates($0.element, shape).map(String.init).joined(separator: ", "))], "
        + "\"cnnrt\": \($0.cnnrt), \"tflm\": \($0.tflm)}"
    } ?? "null"
    let opIndex = Int(label).map(String.init) ?? "null"
    return "{\"op_index\": \(opIndex), \"op\": \(jsonString(op)), \"tensor\": \(tensor), \"name\": \(jsonString(name)), "
      + "\"shape\": [\(shape.map(String.init).joined(separator: ", "))], \"compared\": \(total > 0 && !failed), "
      + "\"differing_bytes\": \(differing), \"total_bytes\": \(total), \"max_abs_diff\": \(maxAbs), "
      + "\"first_diff\": \(f), \"note\": \(note.map(jsonString) ?? "null")}"
  }
}

/// "1 layer", "2 layers", "1,234 differing bytes".
func plural(_ n: Int, _ noun: String) -> String { "\(grouped(Int64(n))) \(noun)\(n == 1 ? "" : "s")" }

/// Row-major coordinates of a flat element index.
func coordinates(_ index: Int, _ shape: [Int]) -> [Int] {
  guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else { return [index] }
  var out = [Int](repeating: 0, count: shape.count)
  var rest = index
  for d in stride(from: shape.count - 1, through: 0, by: -1) {
    out[d] = rest % shape[d]
    rest /= shape[d]
  }
  return out
}

/// A tensor name for a table: TFLite joins fused names with ';' (the first
/// part is kept) and long paths are cut in the middle.
func compactName(_ name: String, max: Int = 40) -> String {
  let first = name.split(separator: ";").first.map(String.init) ?? name
  guard first.count > max else { return first }
  return String(first.prefix(max / 2 - 1)) + "…" + String(first.suffix(max / 2))
}

/// `count` bytes from SplitMix64 seeded with `seed` (reproducible across platforms).
func randomBytes(count: Int, seed: UInt64) -> [UInt8] {
  var state = seed
  var out: [UInt8] = []
  out.reserveCapacity(count + 8)
  while out.count < count {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: z >> (8 * UInt64(k)))) }
  }
  return Array(out.prefix(count))
}

// MARK: - TFLite Micro (tools/tflm/tflm_run.py)

enum TFLMRunner {
  static let exitUnavailable: Int32 = 5
  static let installHint = "install it with `bash tools/tflm/setup-venv.sh` (creates build/venv-tflm), "
    + "or set CNNRT_TFLM_PYTHON to a Python that has the tflite-micro package"

  struct Result {
    let dir: URL
    let version: String
    /// TFLite tensor index → (offset, bytes) of that model output inside one sample of outputs.bin.
    let outputSlots: [Int: (offset: Int, count: Int)]
    let outputBytesPerSample: Int
    let outputs: [UInt8]

    func intermediate(tensor: Int, sample: Int) -> [Int8]? {
      let url = dir.appendingPathComponent("t\(tensor).s\(sample).bin")
      return FileManager.default.contents(atPath: url.path).map { [UInt8]($0).map { Int8(bitPattern: $0) } }
    }

    /// A final output: from outputs.bin when `tensor` is an int8 model output
    /// of the .tflite, else TFLM's dump of it (the int8 input of a DEQUANTIZE).
    func output(tensor: Int, sample: Int) -> [Int8]? {
      if let slot = outputSlots[tensor] {
        let start = sample * outputBytesPerSample + slot.offset
        guard start + slot.count <= outputs.count else { return nil }
        return outputs[start..<start + slot.count].map { Int8(bitPattern: $0) }
      }
      return intermediate(tensor: tensor, sample: sample)
    }
  }

  /// The repository root: the first folder holding tools/tflm/tflm_run.py
  /// above the executable, else above the current directory.
  static func repositoryRoot() -> URL? {
    var starts: [URL] = []
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      starts.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
    }
    if let exe = Bundle.main.executableURL { starts.append(exe.resolvingSymlinksInPath().deletingLastPathComponent()) }
    let arg0 = CommandLine.arguments.first ?? ""
    if arg0.contains("/") {
      starts.append(URL(fileURLWithPath: arg0).resolvingSymlinksInPath().deletingLastPathComponent())
    }
    starts.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    for start in starts {
      var dir = start.standardizedFileURL
      while true {
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("tools/tflm/tflm_run.py").path) {
          return dir
        }
        let parent = dir.deletingLastPathComponent()
        if parent.path == dir.path { break }
        dir = parent
      }
    }
    return nil
  }

  /// CNNRT_TFLM_PYTHON, else build/venv-tflm/bin/python in the repository, else python3 on PATH.
  static func python(root: URL) -> String {
    if let env = ProcessInfo.processInfo.environment["CNNRT_TFLM_PYTHON"], !env.isEmpty { return env }
    let venv = root.appendingPathComponent("build/venv-tflm/bin/python").path
    if FileManager.default.isExecutableFile(atPath: venv) { return venv }
    return "python3"
  }

  static func unavailable(_ message: String) -> ExitCode {
    fail("TFLite Micro is not available: \(message); \(installHint)", code: exitUnavailable)
  }

  /// Resolves a command name through PATH (absolute and relative paths are kept).
  static func executable(_ command: String) -> String? {
    if command.contains("/") { return command }
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
      let p = "\(dir)/\(command)"
      if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
  }

  /// Runs a process; returns its exit status and its stderr text.
  static func launch(_ exe: String, _ args: [String], in dir: URL, tag: String) throws -> (Int32, String, String) {
    let outURL = dir.appendingPathComponent("\(tag).stdout"), errURL = dir.appendingPathComponent("\(tag).stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = out
    p.standardError = err
    try p.run()
    p.waitUntilExit()
    try? out.close()
    try? err.close()
    let text = { (u: URL) in String(decoding: FileManager.default.contents(atPath: u.path) ?? Data(), as: UTF8.self) }
    let status = p.terminationReason == .exit ? p.terminationStatus : 128 + p.terminationStatus
    return (status, text(outURL), text(errURL))
  }

  static func lastLine(_ s: String) -> String {
    s.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
  }

  static func run(tflite: String, inputs: String, count: Int, out: URL) throws -> Result {
    guard let root = repositoryRoot() else {
      throw fail("TFLite Micro is not available: cannot find tools/tflm/tflm_run.py above the cnnrt executable "
                   + "or the current directory; run cnnrt compare from inside the cnnrt repository", code: exitUnavailable)
    }
    let py = python(root: root)
    guard let exe = executable(py) else { throw unavailable("no \(py) on PATH") }
    guard FileManager.default.isExecutableFile(atPath: exe) else { throw unavailable("\(exe) is not an executable") }
    let logs = out.deletingLastPathComponent()
    // Can it import tflite_micro?
    let probe: (Int32, String, String)
    do {
      probe = try launch(exe, ["-c", "import numpy; from tflite_micro.python.tflite_micro import runtime"],
                         in: logs, tag: "probe")
    } catch {
      throw unavailable("cannot run \(exe): \(error.localizedDescription)")
    }
    if probe.0 != 0 {
      let why = lastLine(probe.2)
      throw unavailable("\(exe) cannot import tflite_micro" + (why.isEmpty ? " (exit status \(probe.0))" : " (\(why))"))
    }
    let script = root.appendingPathComponent("tools/tflm/tflm_run.py").path
    let modelPath = URL(fileURLWithPath: tflite).standardizedFileURL.path
    let r: (Int32, String, String)
    do {
      r = try launch(exe, [script, modelPath, "--inputs", inputs, "--count", "\(count)", "--intermediates",
                           "--out", out.path], in: logs, tag: "tflm")
    } catch {
      throw unavailable("cannot run \(exe): \(error.localizedDescription)")
    }
    if r.0 != 0 {
      let tail = r.2.split(whereSeparator: \.isNewline).suffix(5).joined(separator: "\n  ")
      throw fail("TFLite Micro failed on \(tflite) (tools/tflm/tflm_run.py, exit status \(r.0)):\n  \(tail)",
                 code: exitUnavailable)
    }
    // index.json: the version and the model outputs' sizes.
    guard let indexData = FileManager.default.contents(atPath: out.appendingPathComponent("index.json").path),
          let index = (try? JSONSerialization.jsonObject(with: indexData)) as? [String: Any],
          let outputs = FileManager.default.contents(atPath: out.appendingPathComponent("outputs.bin").path) else {
      throw fail("TFLite Micro wrote no index.json/outputs.bin in \(out.path)", code: exitUnavailable)
    }
    var slots: [Int: (offset: Int, count: Int)] = [:]
    var offset = 0
    for o in (index["outputs"] as? [[String: Any]]) ?? [] {
      let shape = (o["shape"] as? [Int]) ?? []
      let dtype = (o["dtype"] as? String) ?? ""
      let size = ["INT8": 1, "UINT8": 1, "INT16": 2, "FLOAT16": 2, "INT32": 4, "FLOAT32": 4, "INT64": 8,
                  "FLOAT64": 8, "BOOL": 1, "UINT16": 2, "UINT32": 4][dtype] ?? 0
      let n = shape.reduce(1) { $0 * max($1, 0) } * size
      if dtype == "INT8", let t = o["index"] as? Int { slots[t] = (offset, n) }
      offset += n
    }
    return Result(dir: out, version: (index["tflite_micro"] as? String) ?? "?", outputSlots: slots,
                  outputBytesPerSample: offset, outputs: [UInt8](outputs))
  }
}
