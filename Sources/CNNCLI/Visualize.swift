// cnnrt visualize MODEL IMAGE -o DIR: pictures of the first convolution's
// filters and of every convolution / pooling output for one image, the
// top-k classes, and an index.html with the layer summary. The pictures'
// layout and colour scales are in Sources/CNNTools/Pictures.swift.
import ArgumentParser
import CNNRuntime
import CNNTools
import Foundation

struct Visualize: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write PNG pictures of a model's filters and of its feature maps for one image, and an index.html.",
    discussion: """
      Writes into the output folder: input.png (the image as read); filters.png, the first \
      convolution's filters (dequantized, each scaled by its own largest |weight|: mid-gray 0, \
      white +max, black -max; a filter with three input channels is one colour tile, otherwise \
      each input channel is a gray tile, one row per filter); layer_<NN>_<type>.png for every \
      Conv2D, DepthwiseConv2D, TransposeConv, MaxPool2D and AveragePool2D output, one tile per \
      channel (dequantized, one scale per layer: black 0, white the layer's largest |value| for \
      this image, negative values blue); and index.html, which shows them with the layer summary \
      (shapes, parameters, MACs) and the top-k classes. Small tiles are enlarged (nearest \
      neighbour) to about 48 pixels.
      """)

  @Argument(help: "Model file (.cnnrt).")
  var model: String

  @Argument(help: "Image (PNG, JPEG, PGM, PPM).")
  var image: String

  @Option(name: .shortAndLong, help: "Output folder (created if missing).")
  var output: String

  @Option(name: .shortAndLong, help: "How many classes to show.")
  var top = 3

  func validate() throws {
    if top < 1 { throw ValidationError("--top must be at least 1") }
  }

  static func isPictured(_ op: OpSummary) -> Bool {
    (op.typeName.hasSuffix("Conv2D") || op.typeName.hasSuffix("Pool2D") || op.typeName == "TransposeConv")
      && op.outputShape.count == 4 && op.outputShape[0] == 1
  }

  func run() throws {
    let m = try loadModel(model)
    let img: PNMImage
    do { img = try ImageFile.read(path: image) } catch { throw fail("\(error)", code: ExitCodes.badImage) }
    do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
      throw fail("\(output): cannot create the folder", code: ExitCodes.io)
    }
    let ops = m.ops
    let pictured = ops.filter(Self.isPictured)
    let wanted = Set(pictured.map(\.index))
    var maps: [Int: [Float]] = [:]
    let scores: [ClassScore]
    do {
      scores = try m.observingOps({ op, data in
        guard wanted.contains(op) else { return }
        let t = m.outputTensorOf(op: op)
        maps[op] = data.map { (Float(Int32($0) - t.zeroPoint)) * t.scale }
      }, during: { () throws(RuntimeError) in
        try m.classify(pixels: img.pixels, width: img.width, height: img.height, channels: img.channels)
      })
    } catch { throw fail("\(image): \(error)", code: ExitCodes.badImage) }

    var written: [String] = []
    func write(_ picture: PNMImage, _ name: String) throws {
      do { try Pictures.writePNG(picture, to: output + "/" + name) } catch { throw fail("\(error)", code: ExitCodes.io) }
      written.append(name)
      print("wrote \(output)/\(name) (\(picture.width) x \(picture.height))")
    }
    try write(img, "input.png")

    var filterNote = "The model has no convolution with constant filters."
    if let conv = ops.first(where: { ["Conv2D", "DepthwiseConv2D"].contains($0.typeName) }),
       conv.inputs.count > 1, let w = m.constantValues(conv.inputs[1]) {
      var shape = m.tensor(conv.inputs[1]).shape
      if conv.typeName == "DepthwiseConv2D" { shape = [shape[3], shape[1], shape[2], 1] }  // [1, KH, KW, C] → one gray tile per channel
      let values = conv.typeName == "DepthwiseConv2D" ? transposeDepthwise(w, shape) : w
      let bgr = m.metadata.map { $0.channelOrder == ChannelOrder.bgr.rawValue } ?? false
      try write(Pictures.filters(values, shape: shape, bgr: bgr), "filters.png")
      filterNote = "Filters of layer \(conv.index) (\(conv.typeName), \(shape[0]) × \(shape[1]) × \(shape[2]) × \(shape[3]))."
    }

    var fileOf: [Int: String] = [:]
    for op in pictured {
      guard let v = maps[op.index] else { continue }
      let s = op.outputShape
      let name = String(format: "layer_%02d_%@.png", op.index, op.typeName.lowercased())
      try write(Pictures.featureMaps(v, height: s[1], width: s[2], channels: s[3]), name)
      fileOf[op.index] = name
    }

    let best = Array(scores.prefix(top))
    for s in best { print("top: \(s.label.isEmpty ? "class \(s.index)" : s.label) \(String(format: "%.1f%%", 100 * s.probability))") }
    let html = indexHTML(m, ops: ops, best: best, fileOf: fileOf, filterNote: filterNote, hasFilters: written.contains("filters.png"))
    do { try html.write(toFile: output + "/index.html", atomically: true, encoding: .utf8) } catch {
      throw fail("\(output)/index.html: cannot write", code: ExitCodes.io)
    }
    print("wrote \(output)/index.html (\(written.count) pictures)")
  }

  /// Depthwise filters [1, KH, KW, C] as C filters of [KH, KW, 1].
  func transposeDepthwise(_ w: [Float], _ s: [Int]) -> [Float] {
    let (kh, kw, c) = (s[1], s[2], s[0])
    var out = [Float](repeating: 0, count: w.count)
    for ch in 0..<c { for y in 0..<kh { for x in 0..<kw { out[(ch * kh + y) * kw + x] = w[(y * kw + x) * c + ch] } } }
    return out
  }

  func indexHTML(_ m: RuntimeModel, ops: [OpSummary], best: [ClassScore], fileOf: [Int: String],
                 filterNote: String, hasFilters: Bool) -> String {
    func esc(_ s: String) -> String {
      s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
    let title = m.name.isEmpty ? (model as NSString).lastPathComponent : m.name
    var h = """
      <!DOCTYPE html>
      <html><head><meta charset="utf-8"><title>cnnrt visualize: \(esc(title))</title>
      <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
      td.n{text-align:right}img{image-rendering:pixelated;max-width:100%}</style></head><body>
      <h1>\(esc(title))</h1>
      <p>Model <code>\(esc(model))</code>, image <code>\(esc(image))</code> (\(esc((image as NSString).lastPathComponent))).</p>
      <h2>Input and top-\(best.count) classes</h2>
      <p><img src="input.png" alt="input image"></p>
      <ol>\(best.map { "<li>\(esc($0.label.isEmpty ? "class \($0.index)" : $0.label)): \(String(format: "%.1f%%", 100 * $0.probability))</li>" }.joined())</ol>
      <h2>Filters of the first convolution</h2>
      <p>\(esc(filterNote)) Dequantized weights, scaled per filter by its largest |weight|: mid-gray is 0, white (or full colour) +max, black −max.</p>

      """
    if hasFilters { h += "<p><img src=\"filters.png\" alt=\"filters\"></p>\n" }
    h += """
      <h2>Layers</h2>
      <p>Feature maps: one tile per channel, dequantized; one scale per layer: black is 0, white the layer's largest |value| for this image, blue negative values.</p>
      <table><tr><th>#</th><th>Layer (type)</th><th>Output shape</th><th>Params</th><th>MACs</th><th>Feature maps</th></tr>

      """
    for op in ops {
      let name = op.outputName.isEmpty ? "op\(op.index)" : op.outputName
      let pic = fileOf[op.index].map { "<img src=\"\($0)\" alt=\"feature maps of layer \(op.index)\">" } ?? ""
      h += "<tr><td class=n>\(op.index)</td><td>\(esc(name)) (\(esc(op.typeName)))</td><td>\(shapeString(op.outputShape))</td>"
        + "<td class=n>\(grouped(op.paramCount))</td><td class=n>\(grouped(op.macs))</td><td>\(pic)</td></tr>\n"
    }
    let params = ops.reduce(Int64(0)) { $0 + $1.paramCount }, macs = ops.reduce(Int64(0)) { $0 + $1.macs }
    h += "</table>\n<p>Total params: \(grouped(params)); total MACs: \(grouped(macs)); arena: \(grouped(Int64(m.arenaBytes))) bytes.</p>\n"
    h += "<p>Made by <code>cnnrt visualize</code> \(String(cString: cnnVersionString())).</p>\n</body></html>\n"
    return h
  }
}
