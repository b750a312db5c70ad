// The cnnrt command-line tool.
import ArgumentParser
import CNNRuntime
import CNNTools
import Foundation

@main
struct CNNRT: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cnnrt",
    abstract: "Inspect and run int8 CNN models (cnnrt format v2).",
    version: String(cString: cnnVersionString()),
    subcommands: [Inspect.self, Classify.self, Visualize.self, Eval.self, Import.self, ExportC.self, Quantize.self, Compare.self, Bench.self, DemoAssets.self]
  )
}

/// Options shared by subcommands that print results.
struct OutputOptions: ParsableArguments {
  @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
  var json = false
}

/// Exit with a message on stderr and a distinct code.
struct CLIError: Error, CustomStringConvertible {
  let description: String
  let code: Int32
}

func fail(_ message: String, code: Int32) -> ExitCode {
  FileHandle.standardError.write("cnnrt: \(message)\n".data(using: .utf8)!)
  return ExitCode(code)
}

/// Exit codes: 1 = usage (from ArgumentParser: 64), 2 = unreadable input file,
/// 3 = invalid or unsupported model, 4 = bad image, 5 = a needed tool is
/// unavailable (compare: TFLite Micro), 6 = unusable data
/// (wrong shape, no samples, no or unknown labels).
enum ExitCodes {
  static let io: Int32 = 2
  static let badModel: Int32 = 3
  static let badImage: Int32 = 4
  static let badData: Int32 = 6
}

/// The bytes of an input file, or exit 2 naming it.
func readInputFile(_ path: String, what: String) throws -> Data {
  guard let data = FileManager.default.contents(atPath: path) else {
    throw fail("\(path): cannot read the \(what)", code: ExitCodes.io)
  }
  return data
}

/// A labels file: one label per line, surrounding spaces and trailing empty lines dropped.
func readLabels(_ path: String) throws -> [String] {
  let text = String(decoding: try readInputFile(path, what: "labels file"), as: UTF8.self)
  var list = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map {
    $0.trimmingCharacters(in: .whitespaces)
  }
  while list.last?.isEmpty == true { list.removeLast() }
  return list
}

func loadModel(_ path: String) throws -> RuntimeModel {
  guard FileManager.default.isReadableFile(atPath: path) else {
    throw fail("\(path): cannot read the model file", code: ExitCodes.io)
  }
  do {
    return try RuntimeModel(path: path)
  } catch {
    throw fail("\(path): \(error)", code: error.status == .ioError ? ExitCodes.io : ExitCodes.badModel)
  }
}

func grouped(_ n: Int64) -> String {
  let s = String(n.magnitude)
  var out = ""
  for (i, ch) in s.enumerated() {
    if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
    out.append(ch)
  }
  return (n < 0 ? "-" : "") + out
}

/// Prints a Keras-summary-like table: rules, header, rows; columns from
/// `rightAlignedFrom` on are right-aligned (numbers).
func printTable(header: [String], rows: [[String]], rightAlignedFrom: Int) {
  var widths = header.map(\.count)
  for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
  func line(_ cells: [String]) -> String {
    cells.enumerated().map { i, c in
      i >= rightAlignedFrom ? String(repeating: " ", count: widths[i] - c.count) + c
        : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
    }.joined(separator: "   ")
  }
  let width = line(header).count
  print(String(repeating: "_", count: width))
  print(line(header))
  print(String(repeating: "=", count: width))
  for r in rows { print(line(r)) }
  print(String(repeating: "=", count: width))
}

/// A tensor name short enough for a table: TFLite joins fused names with ';'
/// (the first part is kept) and long paths are cut in the middle.
func shortName(_ name: String, max: Int = 40) -> String {
  let first = name.split(separator: ";").first.map(String.init) ?? name
  guard first.count > max else { return first }
  return String(first.prefix(max / 2 - 1)) + "…" + String(first.suffix(max / 2))
}

func shapeString(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }

func jsonString(_ s: String) -> String {
  var out = "\""
  for u in s.unicodeScalars {
    switch u {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    default:
      if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
    }
  }
  return out + "\""
}

struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print a layer-by-layer summary: output shapes, parameters, MACs and arena bytes.")

  @Argument(help: "Model file (.cnnrt).")
  var model: String

  @OptionGroup var output: OutputOptions

  func run() throws {
    let m = try loadModel(model)
    let ops = m.ops
    let totalParams = ops.reduce(Int64(0)) { $0 + $1.paramCount }
    let totalMACs = ops.reduce(Int64(0)) { $0 + $1.macs }
    if output.json {
      var s = "{\n"
      s += "  \"name\": \(jsonString(m.name)),\n  \"file_bytes\": \(m.fileSize),\n"
      s += "  \"inputs\": [" + m.inputs.map(tensorJSON).joined(separator: ", ") + "],\n"
      s += "  \"outputs\": [" + m.outputs.map(tensorJSON).joined(separator: ", ") + "],\n"
      s += "  \"layers\": [\n" + ops.map { op in
        "    {\"index\": \(op.index), \"name\": \(jsonString(op.outputName)), \"type\": \(jsonString(op.typeName)), "
          + "\"output_shape\": [\(op.outputShape.map(String.init).joined(separator: ", "))], "
          + "\"params\": \(op.paramCount), \"macs\": \(op.macs)}"
      }.joined(separator: ",\n") + "\n  ],\n"
      s += "  \"total_params\": \(totalParams),\n  \"total_macs\": \(totalMACs),\n"
      s += "  \"arena_bytes\": \(m.arenaBytes),\n  \"activation_bytes\": \(m.activationBytes),\n"
      s += "  \"unplanned_activation_bytes\": \(m.unplannedActivationBytes),\n"
      if let w = m.packedWeights {
        s += "  \"kernel_path\": \(jsonString("\(KernelISA.name(w.isa))")), \"model_block_bytes\": \(w.blockBytes), "
          + "\"packed_weight_bytes\": \(w.packedWeightBytes), \"packed_filter_file_bytes\": \(w.packedFilterFileBytes),\n"
      }
      // The same figures laid out for every path (computed, not loaded).
      s += "  \"packed_weights_per_path\": [\n" + m.packedWeightsPerPath.map { p in
        "    {\"kernel_path\": \(jsonString("\(KernelISA.name(p.summary.isa))")), \"on_this_cpu\": \(p.onThisCPU), "
          + "\"model_block_bytes\": \(p.summary.blockBytes), \"packed_weight_bytes\": \(p.summary.packedWeightBytes), "
          + "\"packed_filter_file_bytes\": \(p.summary.packedFilterFileBytes)}"
      }.joined(separator: ",\n") + "\n  ],\n"
      s += "  \"labels\": [" + m.labels.map(jsonString).joined(separator: ", ") + "]\n}"
      print(s)
      return
    }
    let title = m.name.isEmpty ? model : m.name
    print("Model: \"\(title)\"  (\(grouped(Int64(m.fileSize))) bytes)")
    for t in m.inputs {
      print("Input:  \(t.name.isEmpty ? "-" : t.name) \(shapeString(t.shape)) int8, scale \(t.scale), zero point \(t.zeroPoint)")
    }
    for t in m.outputs {
      print("Output: \(t.name.isEmpty ? "-" : t.name) \(shapeString(t.shape)) int8, scale \(t.scale), zero point \(t.zeroPoint)")
    }
    let rows = ops.map { op -> [String] in
      let name = op.outputName.isEmpty ? "op\(op.index)" : shortName(op.outputName)
      return ["\(op.index)", "\(name) (\(op.typeName))", shapeString(op.outputShape),
              grouped(op.paramCount), grouped(op.macs)]
    }
    printTable(header: ["#", "Layer (type)", "Output Shape", "Param #", "MACs"], rows: rows, rightAlignedFrom: 3)
    print("Total params: \(grouped(totalParams))")
    print("Total MACs:   \(grouped(totalMACs))")
    print("Arena:        \(grouped(Int64(m.arenaBytes))) bytes (activations \(grouped(Int64(m.activationBytes))) planned, "
          + "\(grouped(Int64(m.unplannedActivationBytes))) without sharing)")
    if let w = m.packedWeights {
      // The prepared model (cnn_model_memory_size) and its packed weights: the
      // filters repacked for the kernel path, int8 like the file's.
      var line = "Model block:  \(grouped(Int64(w.blockBytes))) bytes on the \(KernelISA.name(w.isa)) kernel path"
      if w.packedWeightBytes > 0 {
        let ratio = String(format: "%.2f", Double(w.packedWeightBytes) / Double(max(1, w.packedFilterFileBytes)))
        line += " (packed weights \(grouped(Int64(w.packedWeightBytes))) bytes for "
          + "\(grouped(Int64(w.packedFilterFileBytes))) file weight bytes: \(ratio)x)"
      } else {
        line += " (weights used in place)"
      }
      print(line)
    }
    if m.classCount > 0 {
      let labels = m.labels.filter { !$0.isEmpty }
      print("Classes:      \(m.classCount)" + (labels.isEmpty ? "" : " (\(labels.joined(separator: ", ")))"))
    }
  }

  func tensorJSON(_ t: TensorSummary) -> String {
    "{\"name\": \(jsonString(t.name)), \"shape\": [\(t.shape.map(String.init).joined(separator: ", "))], "
      + "\"scale\": \(t.scale), \"zero_point\": \(t.zeroPoint)}"
  }
}

struct Classify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Classify images with a model, through libcnnrt's C API (cnn_classify).",
    discussion: """
      Images are PNG, JPEG, or binary PGM/PPM, gray or RGB, any size: cnn_classify resizes \
      them to the model input and applies the preprocessing stored in the model. A folder \
      stands for its images, sorted by name (those of its class sub-folders when it has any).

      With --jobs N the images are decoded and classified by N threads, each with its own \
      context on the one loaded model; results are printed in the same order, with the same \
      values, as with --jobs 1.
      """)

  @Argument(help: "Model file (.cnnrt).")
  var model: String

  @Argument(help: "Images (PNG, JPEG, PGM, PPM) or folders of images.")
  var images: [String]

  @Option(name: .shortAndLong, help: "How many classes to print per image.")
  var top = 3

  @Option(name: .shortAndLong, help: "Threads, each with its own context on the shared model (default: the number of cores).")
  var jobs = ProcessInfo.processInfo.activeProcessorCount

  @OptionGroup var output: OutputOptions

  func validate() throws {
    if images.isEmpty { throw ValidationError("give at least one image") }
    if top < 1 { throw ValidationError("--top must be at least 1") }
    if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
  }

  /// One image's outcome: its top classes, or the message and exit code to fail with.
  enum Outcome {
    case scores([ClassScore])
    case failure(String)
  }

  func run() throws {
    let m = try loadModel(model)
    var paths: [String] = []
    for path in images {
      if ImageFile.isDirectory(path) {
        do { paths += try ImageFile.list(folder: path).files.map(\.path) } catch {
          throw fail("\(error)", code: ExitCodes.badData)
        }
      } else {
        paths.append(path)
      }
    }
    let outcomes = try classifyAll(m, paths)
    var json: [String] = []
    for (path, outcome) in zip(paths, outcomes) {
      guard case .scores(let scores) = outcome else {
        if case .failure(let message) = outcome { throw fail(message, code: ExitCodes.badImage) }
        continue
      }
      let best = scores.prefix(top)
      if output.json {
        json.append("  {\"image\": \(jsonString(path)), \"top\": [" + best.map {
          "{\"class\": \($0.index), \"label\": \(jsonString($0.label)), \"probability\": \($0.probability)}"
        }.joined(separator: ", ") + "]}")
      } else {
        let text = best.map { "\($0.label.isEmpty ? "class \($0.index)" : $0.label) \(String(format: "%.1f%%", 100 * $0.probability))" }
        print("\(path): " + text.joined(separator: ", "))
      }
    }
    if output.json { print("[\n" + json.joined(separator: ",\n") + "\n]") }
  }

  /// Decodes and classifies every image; thread w of `jobs` takes images
  /// w, w + jobs, ... on its own context. With one thread, stops at the
  /// first failure (nothing after it is printed either way).
  func classifyAll(_ m: RuntimeModel, _ paths: [String]) throws -> [Outcome] {
    let one = Self.classifyOne
    let threads = min(jobs, paths.count)
    if threads <= 1 {
      var out: [Outcome] = []
      for path in paths {
        out.append(one(path) { (p, w, h, c) throws(RuntimeError) in try m.classify(pixels: p, width: w, height: h, channels: c) })
        if case .failure = out.last! { break }
      }
      return out
    }
    let contexts: [ModelContext]
    do { contexts = try (0..<threads).map { _ in try m.makeContext() } } catch {
      throw fail("\(model): \(error)", code: ExitCodes.badModel)
    }
    let results = UnsafeMutableBufferPointer<Outcome>.allocate(capacity: paths.count)
    results.initialize(repeating: .failure(""))
    defer { results.deinitialize(); results.deallocate() }
    let slots = SendableBuffer(results)
    // Plain threads (one per job, whatever the dispatch pool decides), joined below.
    let done = DispatchGroup()
    for w in 0..<threads {
      done.enter()
      let ctx = contexts[w]
      let thread = Thread {
        for i in stride(from: w, to: paths.count, by: threads) {
          slots.buffer[i] = one(paths[i]) { (p, wd, h, c) throws(RuntimeError) in try ctx.classify(pixels: p, width: wd, height: h, channels: c) }
        }
        done.leave()
      }
      thread.start()
    }
    done.wait()
    var out = Array(results)
    if let bad = out.firstIndex(where: { if case .failure = $0 { true } else { false } }) { out.removeSubrange((bad + 1)...) }
    return out
  }

  @Sendable static func classifyOne(_ path: String, _ classify: ([UInt8], Int, Int, Int) throws(RuntimeError) -> [ClassScore]) -> Outcome {
    let img: PNMImage
    do { img = try ImageFile.read(path: path) } catch { return .failure("\(error)") }  // ImageFile errors start with the path
    do { return .scores(try classify(img.pixels, img.width, img.height, img.channels)) } catch {
      return .failure("\(path): \(error)")
    }
  }
}

/// Distinct threads write distinct elements.
struct SendableBuffer<T>: @unchecked Sendable {
  let buffer: UnsafeMutableBufferPointer<T>
  init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
}

struct DemoAssets: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo-assets",
    abstract: "Write the bundled demo model and its sample images (how models/ and samples/ were made).",
    shouldDisplay: false)

  @Option(name: .long, help: "Where to write the model file.")
  var model: String

  @Option(name: .long, help: "Folder for the sample PGM images.")
  var samples: String

  func run() throws {
    try Data(DemoModel.build()).write(to: URL(fileURLWithPath: model))
    try FileManager.default.createDirectory(atPath: samples, withIntermediateDirectories: true)
    let files = try DemoModel.writeSamples(to: samples)
    print("wrote \(model) and \(files.count) images in \(samples)")
  }
}
