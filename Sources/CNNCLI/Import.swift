// `cnnrt import`: convert a full-integer (int8) TFLite model into a cnnrt model.
import ArgumentParser
import CNNTools
import Foundation

struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Import a full-integer (int8) TFLite model as a cnnrt model.",
    discussion: """
      Weights, biases, scales and zero points are copied exactly. A float input \
      followed by QUANTIZE imports as the int8 tensor; a DEQUANTIZE before a float \
      output imports as its int8 input. For image inputs the preprocessing maps a \
      pixel p to the int8 value p - 128 (TFLite's convention).
      """)

  @Argument(help: "TFLite model (.tflite), full-integer int8.")
  var model: String

  @Option(name: .shortAndLong, help: "Output model file (.cnnrt).")
  var output: String

  @Option(name: .long, help: "Class labels: a text file with one label per line.")
  var labels: String?

  @Option(name: .long, help: "Model name stored in the file (default: the TFLite file name).")
  var name: String?

  func validate() throws {
    if output.isEmpty { throw ValidationError("give an output file with -o") }
  }

  func run() throws {
    let data = try readInputFile(model, what: "TFLite file")
    let labelList = try labels.map(readLabels) ?? []
    let modelName = name ?? URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent
    let result: TFLiteImporter.ImportResult
    do {
      result = try TFLiteImporter.importModel(
        bytes: [UInt8](data), options: .init(name: modelName, labels: labelList))
    } catch {
      throw fail("\(model): \(error)", code: ExitCodes.badModel)
    }
    do {
      try Data(result.bytes).write(to: URL(fileURLWithPath: output))
    } catch {
      throw fail("\(output): cannot write: \(error.localizedDescription)", code: ExitCodes.io)
    }
    let folded = result.ops.filter { $0.op == nil && $0.fusedInto == nil }.count
    let fused = result.ops.filter { $0.fusedInto != nil }.count
    let s = result.runtimeStats
    var notes: [String] = []
    if folded > 0 { notes.append("\(folded) QUANTIZE/DEQUANTIZE folded into the model edges") }
    if fused > 0 { notes.append("\(fused) LOGISTIC · MUL pairs as one lookup table") }
    print("\(output): \(result.builder.ops.count) ops"
          + (notes.isEmpty ? "" : " (" + notes.joined(separator: "; ") + ")")
          + ", \(grouped(s?.paramCount ?? 0)) params, \(grouped(s?.macs ?? 0)) MACs, arena \(grouped(Int64(s?.arenaBytes ?? 0))) bytes, "
          + "\(grouped(Int64(result.bytes.count))) bytes written")
  }
}
