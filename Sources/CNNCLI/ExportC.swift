// `cnnrt export-c`: a model as C source (NAME_model.c / NAME_model.h), for
// firmware that has no file system: the bytes as an aligned const array (in
// flash), its length, the arena and model-block sizes cnn_context_init and
// cnn_model_load_static need, and the input/output shapes and quantization.
import ArgumentParser
import CNNRuntime
import CNNTools
import Foundation

struct ExportC: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export-c",
    abstract: "Write a model as C source: NAME_model.c (the bytes as a const array) and NAME_model.h.",
    discussion: """
      The header defines NAME_MODEL_SIZE (bytes of the array), NAME_ARENA_BYTES \
      (cnn_context_arena_size), NAME_MODEL_MEMORY_BYTES (cnn_model_memory_size on the \
      portable kernel path of this 64-bit host, an upper bound for 32-bit targets such \
      as Cortex-M; SIMD paths on x86-64 and aarch64 need more: query \
      cnn_model_memory_size there) and the shape, byte count, \
      scale and zero point of every input and output. The array is 16-byte aligned, \
      as cnn_model_load_static and cnn_model_load_memory require. The files compile \
      as C11 (-Wall -Wextra -pedantic) and C++. The model is validated first: an \
      invalid model exits 3 and writes nothing.
      """)

  @Argument(help: "Model file (.cnnrt).")
  var model: String

  @Option(name: .shortAndLong, help: ArgumentHelp("Output folder (created if needed).", valueName: "dir"))
  var output: String

  @Option(name: .long, help: "C name prefix (default: the model's stored name, else the file name), made a C identifier.")
  var name: String?

  func validate() throws {
    if output.isEmpty { throw ValidationError("give an output folder with -o") }
    if let name, CExport.identifier(name).isEmpty { throw ValidationError("--name must contain a letter or digit") }
  }

  func run() throws {
    // Sizes for the portable kernel path (what a microcontroller runs);
    // the environment is read at each load and size query.
    setenv("CNNRT_ISA", "portable", 1)
    let data = try readInputFile(model, what: "model file")
    let m: RuntimeModel
    do { m = try RuntimeModel(bytes: [UInt8](data)) } catch {
      throw fail("\(model): \(error)", code: error.status == .ioError ? ExitCodes.io : ExitCodes.badModel)
    }
    let fileStem = URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent
    var base = CExport.identifier(name ?? (m.name.isEmpty ? fileStem : m.name))
    if base.isEmpty { base = CExport.identifier(fileStem) }
    if base.isEmpty { base = "model" }
    let export = CExport(base: base, source: URL(fileURLWithPath: model).lastPathComponent,
                         bytes: [UInt8](data), model: m)
    do {
      try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
      try export.header.write(toFile: "\(output)/\(base)_model.h", atomically: true, encoding: .utf8)
      try export.source.write(toFile: "\(output)/\(base)_model.c", atomically: true, encoding: .utf8)
    } catch {
      throw fail("\(output): cannot write: \(error.localizedDescription)", code: ExitCodes.io)
    }
    print("\(output)/\(base)_model.c, \(output)/\(base)_model.h: \(grouped(Int64(data.count))) model bytes, "
          + "arena \(grouped(Int64(m.arenaBytes))) bytes, model block \(grouped(Int64(m.modelBlockBytes))) bytes")
  }
}

/// The text of the two files.
struct CExport {
  let base: String
  let source: String
  let header: String

  /// `s` with every character outside [A-Za-z0-9_] replaced by '_', runs of
  /// '_' collapsed, lowercased, and a leading digit prefixed with '_'; empty
  /// when `s` has no letter or digit.
  static func identifier(_ s: String) -> String {
    var out = ""
    for u in s.lowercased().unicodeScalars {
      let ok = (u >= "a" && u <= "z") || (u >= "0" && u <= "9")
      if ok { out.unicodeScalars.append(u) } else if !out.isEmpty && !out.hasSuffix("_") { out += "_" }
    }
    while out.hasSuffix("_") { out.removeLast() }
    if let f = out.unicodeScalars.first, f >= "0" && f <= "9" { out = "_" + out }
    return out
  }

  /// The model's op codes as `make lib OPS=...` names them (the `OpCode`
  /// case names in capitals, as in Sources/CNNRuntime/Ops/OpTable.swift),
  /// sorted, without repeats.
  static func opSet(_ m: RuntimeModel) -> String {
    Set(m.ops.compactMap { OpCode(rawValue: UInt16($0.code)).map { String(describing: $0).uppercased() } })
      .sorted().joined(separator: " ")
  }

  init(base: String, source fileName: String, bytes: [UInt8], model m: RuntimeModel) {
    self.base = base
    let upper = base.uppercased()
    let guardName = "\(upper.hasPrefix("_") ? "CNN" : "")\(upper)_MODEL_H"
    let macs = m.ops.reduce(Int64(0)) { $0 + $1.macs }
    let params = m.ops.reduce(Int64(0)) { $0 + $1.paramCount }
    let opSet = CExport.opSet(m)
    let version = String(cString: cnnVersionString())

    func comment(_ s: String) -> String { s.replacingOccurrences(of: "*/", with: "* /") }
    func tensorLines(_ kind: String, _ list: [TensorSummary]) -> (doc: [String], defs: [String]) {
      var doc: [String] = [], defs: [String] = []
      for (i, t) in list.enumerated() {
        doc.append(" *   \(kind.lowercased()) \(i) \(t.name.isEmpty ? "-" : "\"\(comment(shortName(t.name)))\""): int8 "
                   + "\(shapeString(t.shape)), \(t.byteSize) bytes, scale \(CExport.float(t.scale)), zero point \(t.zeroPoint)")
        let p = "\(upper)_\(kind)\(i)"
        defs.append("#define \(p)_BYTES \(t.byteSize)u")
        defs.append("#define \(p)_RANK \(t.shape.count)")
        defs.append("#define \(p)_DIMS { \(t.shape.map(String.init).joined(separator: ", ")) }")
        defs.append("#define \(p)_SCALE \(CExport.float(t.scale))f")
        defs.append("#define \(p)_ZERO_POINT (\(t.zeroPoint))")
      }
      return (doc, defs)
    }
    let ins = tensorLines("INPUT", m.inputs), outs = tensorLines("OUTPUT", m.outputs)
    let labels = m.labels.filter { !$0.isEmpty }

    var h = """
      /*
       * \(base)_model.h — the cnnrt model "\(comment(m.name))" as a C array.
       *
       * GENERATED by `cnnrt export-c` (cnnrt \(version)) from \(comment(fileName)). Do not
       * edit: export the model again.
       *
       * What it is
       * ----------
       * \(grouped(Int64(bytes.count))) bytes of model (format v\(ModelFormat.formatVersion)), \(m.opCount) ops, \(grouped(params)) parameters,
       * \(grouped(macs)) MACs per inference.
       * Quantization: real = scale * (q - zero_point), int8.
      \(ins.doc.joined(separator: "\n"))
      \(outs.doc.joined(separator: "\n"))

      """
    if !labels.isEmpty {
      h += " * Classes: \(m.classCount) (\(comment(labels.joined(separator: ", "))))\n"
    }
    h += """
       *
       * Use (no file system, no heap: zero-copy from flash)
       * ---------------------------------------------------
       *     static _Alignas(16) unsigned char model_mem[\(upper)_MODEL_MEMORY_BYTES];
       *     static _Alignas(16) unsigned char arena[\(upper)_ARENA_BYTES];
       *     cnn_model *model = NULL;
       *     cnn_context *ctx = NULL;
       *     char why[128];
       *     if (cnn_model_load_static(\(base)_model, \(upper)_MODEL_SIZE, model_mem, sizeof model_mem,
       *                               &model, why, sizeof why) != CNN_STATUS_OK ||
       *         cnn_context_init(model, arena, sizeof arena, &ctx) != CNN_STATUS_OK) { ... }
       *
       * The model stays in place: keep \(base)_model alive as long as the model.
       */
      #ifndef \(guardName)
      #define \(guardName)

      #include <stdint.h>

      #ifdef __cplusplus
      extern "C" {
      #endif

      /* Bytes of \(base)_model. */
      #define \(upper)_MODEL_SIZE \(bytes.count)u
      /* cnn_context_arena_size(): bytes of the arena cnn_context_init needs (16-byte aligned). */
      #define \(upper)_ARENA_BYTES \(m.arenaBytes)u
      /* cnn_model_memory_size() on the portable kernel path of a 64-bit build: bytes of
       * the block cnn_model_load_static needs (16-byte aligned). Enough on 32-bit targets
       * (Cortex-M: smaller pointers, smaller block); the x86-64 and aarch64 SIMD paths
       * pack weights and need more: query cnn_model_memory_size() there. */
      #define \(upper)_MODEL_MEMORY_BYTES \(m.modelBlockBytes)u
      #define \(upper)_MACS \(macs)ull
      /* The ops this model uses: a library built with only these
       * (`make lib ARCH=cortex-m4 OPS="\(opSet)"`) runs it in the least flash. */
      #define \(upper)_OPS "\(opSet)"
      #define \(upper)_INPUT_COUNT \(m.inputs.count)
      #define \(upper)_OUTPUT_COUNT \(m.outputs.count)
      \((ins.defs + outs.defs).joined(separator: "\n"))

      /* The model bytes, 16-byte aligned; const, so in flash on a microcontroller. */
      extern const uint8_t \(base)_model[\(upper)_MODEL_SIZE];

      #ifdef __cplusplus
      }
      #endif

      #endif /* \(guardName) */

      """
    header = h

    var c = """
      /* \(base)_model.c — GENERATED by `cnnrt export-c` (cnnrt \(version)) from \(comment(fileName)).
       * Do not edit. See \(base)_model.h. */
      #include "\(base)_model.h"

      _Alignas(16) const uint8_t \(base)_model[\(upper)_MODEL_SIZE] = {

      """
    c.reserveCapacity(bytes.count * 6 + 512)
    let hex = Array("0123456789abcdef")
    var i = 0
    while i < bytes.count {
      var line = " "
      let end = min(i + 16, bytes.count)
      for b in bytes[i..<end] {
        line += " 0x"
        line.append(hex[Int(b >> 4)])
        line.append(hex[Int(b & 15)])
        line += ","
      }
      c += line + "\n"
      i = end
    }
    c += "};\n"
    source = c
  }

  /// A float literal that reads back as the same Float.
  static func float(_ x: Float) -> String {
    let s = String(format: "%.9g", Double(x))
    return s.contains(".") || s.contains("e") ? s : s + ".0"
  }
}
