// `cnnrt bench`: latency of one model and where the time goes, layer by layer.
//
// Runs the model through RuntimeModel — the C API (cnn_set_input, cnn_run,
// cnn_context_op_time_ns) of the runtime this `cnnrt` was built with — on
// seeded random int8 input. For the numbers of the shipped libcnnrt.so side by
// side with TFLite + XNNPACK and TFLM, see `make bench` (docs/BENCHMARKS.md).
import ArgumentParser
import CNNRuntime
import CNNTools
import Foundation

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Time a model on random int8 input: median latency and a per-layer table.",
    discussion: """
      Each timed iteration is one run through the C API (input copy, cnn_run, \
      output copy), timed with the monotonic clock; per-layer times come from \
      cnn_context_op_time_ns. Times are medians over the timed iterations; GOPS = \
      2 × MACs / time. The runtime is the one compiled into this `cnnrt`: a debug \
      build of the tool is much slower than libcnnrt.so (use `swift build -c release`, \
      or `make bench` for the library itself).
      """)

  @Argument(help: "Model file (.cnnrt).")
  var model: String

  @Option(name: [.customShort("n"), .long], help: "Timed iterations.")
  var iterations = 20

  @Option(name: .shortAndLong, help: "Untimed warm-up iterations.")
  var warmup = 3

  @Option(name: .long, help: "Seed of the random int8 input.")
  var seed: UInt64 = 1

  @OptionGroup var output: OutputOptions

  func validate() throws {
    if iterations < 1 { throw ValidationError("--iterations must be at least 1") }
    if warmup < 0 { throw ValidationError("--warmup must not be negative") }
  }

  func run() throws {
    let m = try loadModel(model)
    let ops = m.ops
    var rng = SplitMix64(seed: seed)
    let inputs = m.inputs.map { t in (0..<t.byteSize).map { _ in Int8(truncatingIfNeeded: rng.next() >> 56) } }

    for _ in 0..<warmup { try runOnce(m, inputs) }
    var times: [UInt64] = []
    var opTimes: [[UInt64]] = Array(repeating: [], count: ops.count)
    times.reserveCapacity(iterations)
    for _ in 0..<iterations {
      let t0 = monotonicNs()
      try runOnce(m, inputs)
      times.append(monotonicNs() - t0)
      for (i, t) in m.lastOpTimesNs.enumerated() where i < ops.count { opTimes[i].append(t) }
    }

    let total = median(times)
    let opMedians = opTimes.map(median)
    let opSum = max(opMedians.reduce(0, +), 1)
    let totalMACs = ops.reduce(Int64(0)) { $0 + $1.macs }
    func gops(_ macs: Int64, _ ns: Double) -> Double { ns > 0 ? 2 * Double(macs) / ns : 0 }
    #if DEBUG
    let build = "debug"
    #else
    let build = "release"
    #endif

    if output.json {
      var s = "{\n  \"model\": \(jsonString(model)),\n  \"name\": \(jsonString(m.name)),\n"
      s += "  \"build\": \"\(build)\",\n  \"iterations\": \(iterations),\n  \"warmup\": \(warmup),\n  \"seed\": \(seed),\n"
      s += "  \"median_ns\": \(total),\n  \"min_ns\": \(times.min()!),\n  \"max_ns\": \(times.max()!),\n"
      s += "  \"total_macs\": \(totalMACs),\n  \"gops\": \(gops(totalMACs, total)),\n"
      s += "  \"arena_bytes\": \(m.arenaBytes),\n"
      s += "  \"layers\": [\n" + ops.map { op in
        let t = opMedians[op.index]
        return "    {\"index\": \(op.index), \"name\": \(jsonString(op.outputName)), \"type\": \(jsonString(op.typeName)), "
          + "\"output_shape\": [\(op.outputShape.map(String.init).joined(separator: ", "))], \"macs\": \(op.macs), "
          + "\"median_ns\": \(t), \"percent\": \(100 * t / opSum), \"gops\": \(gops(op.macs, t))}"
      }.joined(separator: ",\n") + "\n  ]\n}"
      print(s)
      return
    }

    let title = m.name.isEmpty ? model : m.name
    print("Model: \"\(title)\"  \(iterations) timed runs after \(warmup) warm-up, random int8 input (seed \(seed))")
    if build == "debug" {
      print("note: this cnnrt is a debug build; its runtime is far slower than libcnnrt.so (use -c release or `make bench`)")
    }
    let rows = ops.map { op -> [String] in
      let t = opMedians[op.index]
      return ["\(op.index)", op.outputName.isEmpty ? "op\(op.index)" : shortName(op.outputName), op.typeName,
              shapeString(op.outputShape), grouped(op.macs), String(format: "%.1f", t / 1e3),
              String(format: "%.1f", 100 * t / opSum), op.macs > 0 ? String(format: "%.2f", gops(op.macs, t)) : "-"]
    }
    printTable(header: ["#", "Layer", "Type", "Output Shape", "MACs", "Median us", "%", "GOPS"], rows: rows,
               rightAlignedFrom: 4)
    print(String(format: "Median latency: %.3f ms (min %.3f, max %.3f)", total / 1e6,
                 Double(times.min()!) / 1e6, Double(times.max()!) / 1e6))
    print("Total MACs:     \(grouped(totalMACs))  (" + String(format: "%.2f GOPS", gops(totalMACs, total)) + ")")
    print("Arena:          \(grouped(Int64(m.arenaBytes))) bytes")
  }

  private func runOnce(_ m: RuntimeModel, _ inputs: [[Int8]]) throws {
    do { _ = try m.run(inputs: inputs) } catch {
      throw fail("\(model): \(error)", code: ExitCodes.badModel)
    }
  }
}

/// Median of integer nanoseconds (mean of the middle two for an even count).
private func median(_ v: [UInt64]) -> Double {
  guard !v.isEmpty else { return 0 }
  let s = v.sorted()
  return s.count % 2 == 1 ? Double(s[s.count / 2]) : (Double(s[s.count / 2 - 1]) + Double(s[s.count / 2])) / 2
}

private func monotonicNs() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

