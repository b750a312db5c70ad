// `cnnrt quantize`: post-training int8 quantization of a float TFLite or ONNX
// CNN, or conversion of an ONNX QDQ int8 model with its own quantization.
import ArgumentParser
import CNNRuntime
import CNNTools
import Foundation

struct Quantize: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Quantize a float TFLite or ONNX CNN (or an ONNX QDQ int8 model) into a cnnrt int8 model.",
    discussion: """
      Models: float32 TFLite (.tflite) or ONNX (.onnx; recognised by content \
      too). ONNX inputs are NCHW [1, C, H, W]; cnnrt models are NHWC, so the \
      graph is converted (weights rearranged) and the cnnrt model's input is \
      [1, H, W, C]. ONNX QDQ models (ONNX Runtime quantize_static, QDQ format) \
      keep their own scales and zero points (uint8 activations become int8 \
      with zero point − 128, which is exact); --calibration is then optional.

      Calibration data: a NumPy .npy or .npz array (N, H, W, C) — also for ONNX \
      models, whose NCHW input is not the layout of the data — or (N, H, W) for \
      one channel: uint8 pixels (preprocessed with --pixel-scale/--mean/--std \
      into the float model's input) or float values already in the model's \
      input units; or images (a folder, one image, an MNIST IDX file), resampled \
      to the model input as cnn_classify does and preprocessed the same way. Activations are asymmetric int8 (TFLite rules), weights \
      symmetric int8 per channel, biases int32. A progress bar is drawn on \
      stderr during calibration when run in a terminal; --json prints a summary \
      for scripts.
      """)

  @Argument(help: "Float TFLite (.tflite) or ONNX (.onnx) model, or an ONNX QDQ int8 model.")
  var model: String

  @Option(name: .long, help: "Calibration data: .npy / .npz (N, H, W, C) — also for NCHW ONNX models —, an image folder, an image, or an MNIST IDX file; optional for ONNX QDQ models.")
  var calibration: String?

  @Option(name: .shortAndLong, help: "Output model file (.cnnrt).")
  var output: String

  @Option(name: .long, help: "Calibration method: minmax, percentile or mse.")
  var method: String = "minmax"

  @Option(name: .long, help: "Percentile kept by --method percentile.")
  var percentile: Double = 99.99

  @Flag(name: .long, help: "One weight scale per tensor instead of per output channel.")
  var perTensor = false

  @Flag(name: .long, help: "Correct each conv / fully connected bias for the mean error of its int8 output (one int8 run of the calibration samples per layer).")
  var biasCorrection = false

  @Option(name: .long, help: "Weight rounding: nearest, or gptq (each layer's rounding errors compensated over its calibration inputs; same scales and arithmetic).")
  var weightRounding: String = "nearest"

  @Flag(name: .long, inversion: .prefixedNo, help: "Quantize each x · Sigmoid(x) (SiLU) as one Swish lookup table (fewer ops, a smaller arena, faster), or as Logistic and Mul as TFLite does (docs/ZOO.md compares their accuracy).")
  var fuseSwish = true

  @Option(name: .long, help: "Use only the first N calibration samples.")
  var samples: Int?

  @Option(name: .long, help: "Class labels: a text file with one label per line.")
  var labels: String?

  @Option(name: .long, help: "Model name stored in the file (default: the model file name).")
  var name: String?

  @Option(name: .long, help: "Pixel scale: float input = (pixel × scale − mean) / std.")
  var pixelScale: Float = 1

  @Option(name: .long, help: "Per-channel mean, comma-separated (one value = all channels).")
  var mean: String = "0"

  @Option(name: .long, help: "Per-channel std, comma-separated (one value = all channels).")
  var std: String = "1"

  @Flag(name: .long, help: "Print each activation's observed and chosen range.")
  var verbose = false

  @Option(name: .long, help: "Channel order of the images the model expects: rgb or bgr.")
  var channelOrder: String = "rgb"

  @Flag(name: .long, help: "Do not draw a progress bar.")
  var noProgress = false

  @OptionGroup var outputFormat: OutputOptions

  func validate() throws {
    if output.isEmpty { throw ValidationError("give an output file with -o") }
    if CalibrationMethod(rawValue: method) == nil { throw ValidationError("--method must be minmax, percentile or mse") }
    if !(percentile > 50 && percentile <= 100) { throw ValidationError("--percentile must be in (50, 100]") }
    if WeightRounding(rawValue: weightRounding) == nil { throw ValidationError("--weight-rounding must be nearest or gptq") }
    if let samples, samples < 1 { throw ValidationError("--samples must be at least 1") }
    if channelOrder != "rgb" && channelOrder != "bgr" { throw ValidationError("--channel-order must be rgb or bgr") }
    if !(pixelScale.isFinite && pixelScale > 0) { throw ValidationError("--pixel-scale must be > 0") }
    guard parseList(mean) != nil else { throw ValidationError("--mean: comma-separated numbers") }
    guard let s = parseList(std), s.allSatisfy({ $0 != 0 }) else { throw ValidationError("--std: comma-separated non-zero numbers") }
  }

  static func nchw(_ nhwc: [Int]) -> [Int] { nhwc.count == 4 ? [nhwc[0], nhwc[3], nhwc[1], nhwc[2]] : nhwc }

  func parseList(_ s: String) -> [Float]? {
    let v = s.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
    return v.isEmpty || v.contains(where: { $0 == nil || !$0!.isFinite }) ? nil : v.map { $0! }
  }

  func run() throws {
    let data = [UInt8](try readInputFile(model, what: "model file"))
    let labelList = try labels.map(readLabels) ?? []
    let graph: FloatGraph
    let isONNX = model.lowercased().hasSuffix(".onnx") || (!model.lowercased().hasSuffix(".tflite") && FloatGraph.looksLikeONNX(data))
    do { graph = isONNX ? try FloatGraph(onnx: data) : try FloatGraph(tflite: data) } catch {
      throw fail("\(model): \(error)", code: ExitCodes.badModel)
    }
    let fixedCount = graph.tensors.filter { $0.fixedQuantization != nil }.count
    var options = Quantizer.Options(
      method: CalibrationMethod(rawValue: method)!, percentile: percentile, perChannel: !perTensor,
      name: name ?? URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent, labels: labelList,
      pixelScale: pixelScale, mean: parseList(mean)!, std: parseList(std)!,
      channelOrder: channelOrder == "bgr" ? .bgr : .rgb)
    options.biasCorrection = biasCorrection
    options.fuseSwish = fuseSwish
    options.weightRounding = WeightRounding(rawValue: weightRounding)!

    // Calibration samples in the float model's input units.
    let inputShape = graph.tensors[graph.inputs[0]].shape
    let perSample = inputShape.dropFirst().reduce(1, *)
    var sampleList: [[Float]] = []
    if let calibration {
      guard FileManager.default.fileExists(atPath: calibration) else {
        throw fail("\(calibration): no such file or folder", code: ExitCodes.io)
      }
      let shapeHint = isONNX ? " (NHWC; the ONNX input is NCHW \(Self.nchw(inputShape)))" : ""
      let lower = calibration.lowercased()
      if lower.hasSuffix(".npy") || lower.hasSuffix(".npz") {
        // NumPy arrays: (N, ...) samples of the model input; uint8 = pixels.
        let array: NPYArray
        let values: [Float]
        do {
          array = try NPYArray.load(path: calibration)
          values = try array.floats()
        } catch {
          throw fail("\(error)", code: ExitCodes.badData)
        }
        guard let n0 = array.shape.first, n0 >= 1, array.shape.dropFirst().reduce(1, *) == perSample else {
          throw fail("\(calibration): array shape \(array.shape) does not hold samples of the model input \(inputShape)"
                     + shapeHint, code: ExitCodes.badData)
        }
        let n = min(n0, samples ?? n0)
        let channels = inputShape.last ?? 1
        sampleList.reserveCapacity(n)
        for i in 0..<n {
          var s = Array(values[(i * perSample)..<((i + 1) * perSample)])
          if array.isUInt8 {
            for k in 0..<s.count { s[k] = options.preprocess(pixel: s[k], channel: k % channels) }
          }
          sampleList.append(s)
        }
      } else {
        // Image folders, single images, MNIST IDX files (CNNTools.Dataset):
        // images are resampled to the model input as cnn_classify does
        // (channels reversed for --channel-order bgr) and preprocessed.
        let ds: Dataset
        do { ds = try Dataset.load(calibration, limit: samples) } catch {
          throw fail("\(error)", code: ExitCodes.badData)
        }
        guard ds.count > 0 else { throw fail("\(calibration): no calibration samples", code: ExitCodes.badData) }
        guard inputShape.count == 4, [1, 3].contains(inputShape[3]) || ds.samples.allSatisfy({
          if case .tensor = $0 { return true } else { return false }
        }) else {
          throw fail("\(calibration): images, but the model input \(inputShape) is not an image" + shapeHint,
                     code: ExitCodes.badData)
        }
        for (i, sample) in ds.samples.enumerated() {
          switch sample {
          case .tensor(let v):
            guard v.count == perSample else {
              throw fail("\(ds.source): sample \(i) has \(v.count) values (shape \(ds.tensorShape ?? [])), the model input \(inputShape) needs \(perSample)"
                         + shapeHint, code: ExitCodes.badData)
            }
            sampleList.append(v)
          case .image(let img):
            sampleList.append(options.modelInput(image: img, height: inputShape[1], width: inputShape[2], channels: inputShape[3]))
          }
        }
      }
    } else if fixedCount == 0 {
      throw ValidationError("give calibration data with --calibration (only ONNX QDQ models carry their own quantization)")
    }
    let n = sampleList.count

    let bar = ProgressBar("calibrating", total: Quantizer.progressTotal(sampleCount: n, options: options),
                          enabled: !noProgress && !outputFormat.json && n > 0)
    options.progress = { done, _ in bar.update(done) }
    let t0 = Date()
    let result: Quantizer.Result
    do { result = try Quantizer.quantize(graph, samples: sampleList, options: options) } catch {
      bar.finish()
      throw fail("\(model): \(error)", code: ExitCodes.badModel)
    }
    bar.finish()
    let seconds = Date().timeIntervalSince(t0)
    do {
      try Data(result.bytes).write(to: URL(fileURLWithPath: output))
    } catch {
      throw fail("\(output): cannot write: \(error.localizedDescription)", code: ExitCodes.io)
    }
    let inQ = result.quantization[result.graph.inputs[0]]!
    if graph.tensors[graph.inputs[0]].fixedQuantization != nil, let meta = result.builder.metadata, meta.imageChannels > 0 {
      // The model's own input range must hold the preprocessed pixels, or the
      // stored preprocessing (pixel scale, mean, std) does not match the model.
      let lo = inQ.dequantize(-128), hi = inQ.dequantize(127)
      let px = (0..<meta.imageChannels).flatMap { c in [options.preprocess(pixel: 0, channel: c), options.preprocess(pixel: 255, channel: c)] }
      let (pmin, pmax) = (px.min()!, px.max()!)
      let slack = 0.05 * (hi - lo)
      if pmin < lo - slack || pmax > hi + slack {
        FileHandle.standardError.write(("cnnrt: warning: \(model): pixels preprocessed with --pixel-scale/--mean/--std span "
          + "[\(pmin), \(pmax)], but the model's input quantization holds [\(lo), \(hi)]; check the preprocessing options\n")
          .data(using: .utf8)!)
      }
    }
    if verbose {
      for t in result.graph.tensors.indices {
        guard let q = result.quantization[t] else { continue }
        let st = result.stats[t]
        let lo = q.scale * Float(-128 - q.zeroPoint), hi = q.scale * Float(127 - q.zeroPoint)
        print("  \(result.graph.tensors[t].name): observed [\(st.map { "\($0.min), \($0.max)" } ?? "-")] "
              + "→ [\(lo), \(hi)] scale \(q.scale) zero point \(q.zeroPoint)")
      }
    }
    let rt = try? RuntimeModel(bytes: result.bytes)
    let params = rt?.ops.reduce(Int64(0)) { $0 + $1.paramCount } ?? 0
    // Weights as written: the option's kind, except that a QDQ model's own
    // weights keep theirs (ONNX Runtime's quantize_static is per tensor by default).
    var perChannelWeights = 0, perTensorWeights = 0
    if let rt {
      let weighted: Set = ["Conv2D", "DepthwiseConv2D", "FullyConnected", "TransposeConv"]
      for op in rt.ops where weighted.contains(op.typeName) && op.inputs.count > 1 && op.inputs[1] >= 0 {
        let w = rt.tensor(op.inputs[1])
        guard w.isConstant, w.isInt8, w.shape.count >= 2 else { continue }
        if w.perChannel { perChannelWeights += 1 } else { perTensorWeights += 1 }
      }
    }
    let weightKind = perChannelWeights > 0 && perTensorWeights > 0
      ? "weights \(perChannelWeights) per channel, \(perTensorWeights) per tensor"
      : "\(perTensorWeights > 0 || (perChannelWeights == 0 && !options.perChannel) ? "per-tensor" : "per-channel") weights"
    if outputFormat.json {
      print("{\"output\": \(jsonString(output)), \"ops\": \(result.builder.ops.count), \"params\": \(params), "
            + "\"calibration_samples\": \(n), \"method\": \(jsonString(method)), \"per_channel\": \(options.perChannel), "
            + "\"per_channel_weights\": \(perChannelWeights), \"per_tensor_weights\": \(perTensorWeights), "
            + "\"bias_correction\": \(options.biasCorrection), \"weight_rounding\": \(jsonString(weightRounding)), "
            + "\"gptq_layers\": \(result.gptqRounded.count), "
            + "\"fused_hardswish\": \(result.fusedHardSwish), \"fused_swish\": \(result.fusedSwish), "
            + "\"fixed_quantization_tensors\": \(fixedCount), \"seconds\": \(String(format: "%.3f", seconds)), "
            + "\"input_scale\": \(inQ.scale), \"input_zero_point\": \(inQ.zeroPoint), \"bytes\": \(result.bytes.count)}")
      return
    }
    let calibrated = n > 0 ? "calibrated with \(n) samples (\(method)\(options.method == .percentile ? " \(percentile)" : ""), "
      : "no calibration ("
    var fused: [String] = []
    if result.fusedHardSwish > 0 { fused.append("\(result.fusedHardSwish) x · HardSigmoid(x) as HardSwish") }
    if result.fusedSwish > 0 { fused.append("\(result.fusedSwish) x · Sigmoid(x) as one Swish table") }
    print("\(output): \(result.builder.ops.count) ops" + (fused.isEmpty ? "" : " (" + fused.joined(separator: "; ") + ")")
          + ", \(grouped(params)) params, \(calibrated)"
          + (fixedCount > 0 ? "\(fixedCount) tensors with the model's own (QDQ) quantization, " : "")
          + weightKind
          + "\(options.weightRounding == .gptq ? ", GPTQ weight rounding on \(result.gptqRounded.count) of \(perChannelWeights + perTensorWeights) layers" : "")"
          + "\(options.biasCorrection ? ", bias correction" : "")) in \(String(format: "%.2f", seconds)) s; "
          + "input scale \(inQ.scale) zero point \(inQ.zeroPoint); \(grouped(Int64(result.bytes.count))) bytes written")
  }
}
