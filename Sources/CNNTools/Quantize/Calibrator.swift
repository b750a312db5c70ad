// Calibration: observed activation ranges of a float graph over sample inputs,
// and the choice of a clipping range per tensor (min-max, percentile, or
// the range minimising the int8 quantization MSE of the observed histogram).
// Ranges are observed after fused activations, so ReLU/ReLU6 are folded in.

import CNNRuntime
import Dispatch
import Foundation
import Synchronization

/// Lets a non-escaping, non-Sendable closure be called from concurrentPerform
/// (each call works on its own executor and sample range; no shared state).
private struct UncheckedBox<T>: @unchecked Sendable {
  let value: T
  init(_ v: T) { value = v }
}

public enum CalibrationMethod: String, Sendable, CaseIterable {
  case minmax, percentile, mse

  /// Runs of the samples `Calibrator.collect` makes: ranges, then histograms.
  public var passes: Int { self == .minmax ? 1 : 2 }
}

/// Affine int8 quantization of an activation: real = scale × (q − zeroPoint).
public struct ActivationQuant: Sendable, Equatable {
  public var scale: Float
  public var zeroPoint: Int32

  public init(scale: Float, zeroPoint: Int32) { self.scale = scale; self.zeroPoint = zeroPoint }

  /// TFLite's ChooseQuantizationParams for int8 [-128, 127]: the range is
  /// extended to include 0, scale = (max − min) / 255, and the zero point is
  /// taken from whichever end gives the smaller error, rounded and clamped.
  public init(min rmin: Float, max rmax: Float) {
    let lo = Double(Swift.min(rmin, 0)), hi = Double(Swift.max(rmax, 0))
    let qmin = -128.0, qmax = 127.0
    var scale = (hi - lo) / (qmax - qmin)
    if !(scale > 0) || !scale.isFinite || Float(scale) < Float.leastNormalMagnitude * 1e6 {
      // Degenerate (constant 0) tensor: any scale represents it.
      self.init(scale: 1.0 / 256, zeroPoint: -128)
      return
    }
    scale = Double(Float(scale))
    let zpFromMin = qmin - lo / scale
    let zpFromMax = qmax - hi / scale
    let errMin = abs(qmin) + abs(lo / scale)
    let errMax = abs(qmax) + abs(hi / scale)
    let zp = errMin < errMax ? zpFromMin : zpFromMax
    let nudged: Double = zp < qmin ? qmin : zp > qmax ? qmax : zp.rounded(.toNearestOrEven)
    self.init(scale: Float(scale), zeroPoint: Int32(nudged))
  }

  public func quantize(_ x: Float) -> Int8 {
    let q = (Double(x) / Double(scale)).rounded(.toNearestOrAwayFromZero) + Double(zeroPoint)
    return Int8(Swift.max(-128, Swift.min(127, q)))
  }

  public func dequantize(_ q: Int8) -> Float { scale * Float(Int32(q) - zeroPoint) }
}

/// Observed statistics of one tensor.
public struct TensorStats: Sendable {
  public var min: Float = .infinity
  public var max: Float = -.infinity
  /// Histogram over [min, max] (second pass; empty for min-max).
  public var histogram: [Double] = []

  public var binWidth: Float { histogram.isEmpty ? 0 : (max - min) / Float(histogram.count) }
}

public struct Calibrator {
  public var method: CalibrationMethod
  /// Percentile kept by `.percentile` (e.g. 99.99: clip the top and bottom 0.01 %).
  public var percentile: Double
  public var bins: Int

  public init(method: CalibrationMethod = .minmax, percentile: Double = 99.99, bins: Int = 2048) {
    self.method = method; self.percentile = percentile; self.bins = bins
  }

  /// Runs every sample (input 0) through `executor` and returns the
  /// statistics of the model input and every node output, by tensor index.
  /// Two passes for the histogram methods (ranges first, then histograms).
  /// The samples are split over up to `threads` executors (one per thread);
  /// merging is exact (min/max, integer bin counts), so the result does not
  /// depend on the thread count.
  /// `progress(done, total)` is called after each sample of each pass
  /// (serialized, from the worker threads).
  public func collect(_ executor: FloatExecutor, samples: [[Float]], threads: Int? = nil,
                      progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> [Int: TensorStats] {
    guard !samples.isEmpty else { throw FloatGraphError.invalidInput("no calibration samples") }
    let total = samples.count * method.passes
    let done = Mutex(0)
    func tick() {
      guard let progress else { return }
      done.withLock { d in d += 1; progress(d, total) }
    }
    let graph = executor.graph
    let n = Swift.max(1, Swift.min(threads ?? ProcessInfo.processInfo.activeProcessorCount, 8, samples.count / 64 + 1))
    let chunks = (0..<n).map { k in (samples.count * k / n)..<(samples.count * (k + 1) / n) }

    // Pass 1: ranges.
    func ranges(_ ex: FloatExecutor, _ r: Range<Int>) throws -> [Int: TensorStats] {
      var stats: [Int: TensorStats] = [:]
      for i in r {
        _ = try ex.run([samples[i]]) { t, v in
          var st = stats[t] ?? TensorStats()
          (st.min, st.max) = Self.minMax(v, st.min, st.max)
          stats[t] = st
        }
        tick()
      }
      return stats
    }
    var stats: [Int: TensorStats] = [:]
    for part in try Self.parallel(chunks, graph: graph, first: executor, ranges) {
      for (t, st) in part {
        var m = stats[t] ?? TensorStats()
        m.min = Swift.min(m.min, st.min); m.max = Swift.max(m.max, st.max)
        stats[t] = m
      }
    }
    for (t, st) in stats where !(st.min.isFinite && st.max.isFinite) {
      throw FloatGraphError.invalidInput("calibration: tensor \(graph.tensors[t].name) has non-finite values")
    }
    guard method != .minmax else { return stats }

    // Pass 2: histograms over the merged ranges.
    let bins = self.bins
    let frozen = stats
    func histograms(_ ex: FloatExecutor, _ r: Range<Int>) throws -> [Int: [Double]] {
      var h: [Int: [Double]] = [:]
      for t in frozen.keys { h[t] = [Double](repeating: 0, count: bins) }
      for i in r {
        _ = try ex.run([samples[i]]) { t, v in
          guard let st = frozen[t], var hist = h[t] else { return }
          h[t] = nil  // unique histogram storage while counting
          let lo = st.min, width = st.max - st.min
          if width > 0 {
            hist.withUnsafeMutableBufferPointer { Self.count(v, into: $0, lo: lo, scale: Float(bins) / width) }
          } else {
            hist[0] += Double(v.count)
          }
          h[t] = hist
        }
        tick()
      }
      return h
    }
    for t in stats.keys { stats[t]!.histogram = [Double](repeating: 0, count: bins) }
    for part in try Self.parallel(chunks, graph: graph, first: executor, histograms) {
      for (t, hist) in part {
        stats[t]!.histogram.withUnsafeMutableBufferPointer { acc in for b in 0..<bins { acc[b] += hist[b] } }
      }
    }
    return stats
  }

  /// Runs `body` over each range, each on its own executor and thread
  /// (`first` when there is only one range); results in range order.
  static func parallel<R: Sendable>(_ ranges: [Range<Int>], graph: FloatGraph, first: FloatExecutor,
                                            _ body: (FloatExecutor, Range<Int>) throws -> R) throws -> [R] {
    if ranges.count == 1 { return [try body(first, ranges[0])] }
    let results = Mutex<[Int: Result<R, Error>]>([:])
    withoutActuallyEscaping(body) { body in
      let box = UncheckedBox(body)
      DispatchQueue.concurrentPerform(iterations: ranges.count) { k in
        let r = Result { try box.value(try FloatExecutor(graph: graph), ranges[k]) }
        results.withLock { $0[k] = r }
      }
    }
    return try results.withLock { d in try (0..<ranges.count).map { try d[$0]!.get() } }
  }

  @_optimize(speed)
  static func minMax(_ v: UnsafeBufferPointer<Float>, _ lo0: Float, _ hi0: Float) -> (Float, Float) {
    var lo = lo0, hi = hi0
    for x in v { lo = Swift.min(lo, x); hi = Swift.max(hi, x) }
    return (lo, hi)
  }

  @_optimize(speed)
  static func count(_ v: UnsafeBufferPointer<Float>, into h: UnsafeMutableBufferPointer<Double>, lo: Float, scale: Float) {
    let last = h.count - 1
    for x in v { h[Swift.max(0, Swift.min(Int((x - lo) * scale), last))] += 1 }
  }

  /// The clipping range chosen for one tensor.
  public func range(_ st: TensorStats) -> (min: Float, max: Float) {
    switch method {
    case .minmax:
      return (st.min, st.max)
    case .percentile:
      guard !st.histogram.isEmpty, st.max > st.min else { return (st.min, st.max) }
      let total = st.histogram.reduce(0, +)
      let tail = total * (1 - Swift.min(Swift.max(percentile, 0), 100) / 100)
      var acc = 0.0, loBin = 0
      for (i, c) in st.histogram.enumerated() { acc += c; if acc > tail { loBin = i; break } }
      acc = 0
      var hiBin = st.histogram.count - 1
      for i in stride(from: st.histogram.count - 1, through: 0, by: -1) {
        acc += st.histogram[i]; if acc > tail { hiBin = i; break }
      }
      let w = st.binWidth
      let lo = st.min >= 0 ? st.min : st.min + Float(loBin) * w
      let hi = st.min + Float(hiBin + 1) * w
      return (Swift.min(lo, hi), Swift.max(lo, hi))
    case .mse:
      guard !st.histogram.isEmpty, st.max > st.min else { return (st.min, st.max) }
      return mseRange(st)
    }
  }

  /// Searches ranges [a·min, b·max] (a, b on a grid in (0, 1]) for the one
  /// minimising Σ count × (x − dequant(quant(x)))² over the bin centres.
  func mseRange(_ st: TensorStats) -> (min: Float, max: Float) {
    let w = st.binWidth
    // Non-empty bins only.
    var centres: [Float] = [], counts: [Double] = []
    for (i, c) in st.histogram.enumerated() where c > 0 {
      centres.append(st.min + (Float(i) + 0.5) * w); counts.append(c)
    }
    func error(_ lo: Float, _ hi: Float) -> Double {
      let q = ActivationQuant(min: lo, max: hi)
      let s = Double(q.scale), z = Double(q.zeroPoint)
      var e = 0.0
      for k in 0..<centres.count {
        let x = Double(centres[k])
        let qv = Swift.max(-128, Swift.min(127, (x / s).rounded(.toNearestOrAwayFromZero) + z))
        let d = x - s * (qv - z)
        e += counts[k] * d * d
      }
      return e
    }
    let steps = 48
    let factors = (1...steps).map { Float($0) / Float(steps) }.filter { $0 >= 0.1 }
    var best = (st.min, st.max)
    var bestErr = error(st.min, st.max)
    let loFactors: [Float] = st.min < 0 ? factors : [1]
    let hiFactors: [Float] = st.max > 0 ? factors : [1]
    for a in loFactors {
      for b in hiFactors {
        let lo = st.min < 0 ? st.min * a : st.min
        let hi = st.max > 0 ? st.max * b : st.max
        let e = error(lo, hi)
        if e < bestErr { bestErr = e; best = (lo, hi) }
      }
    }
    return best
  }
}
