// CONCATENATION (op 30), RESIZE_NEAREST_NEIGHBOR (31) and RESIZE_BILINEAR
// (32): the kernels against plain formulas written from TFLM's reference
// code (Int64 / Float arithmetic, no runtime helpers), end-to-end models
// built with ModelBuilder, and the loader's / builder's refusals. The TFLM
// golden vectors are in TFLMGoldenTests (manifest-join.json).

import Foundation
import Testing
@testable import CNNRuntime
@testable import CNNTools

// MARK: - Independent oracles

/// TFLM GetNearestNeighbor with Swift's own Int → Float conversions.
private func oracleNearest(_ i: Int, inSize: Int, outSize: Int, align: Bool, half: Bool) -> Int32 {
  let scale: Float = align && outSize > 1 ? Float(inSize - 1) / Float(outSize - 1) : Float(inSize) / Float(outSize)
  let v = (Float(i) + (half ? 0.5 : 0)) * scale
  var r = min(Int32(align ? v.rounded(.toNearestOrAwayFromZero) : v.rounded(.down)), Int32(inSize - 1))
  if half { r = max(r, 0) }
  return r
}

/// TFLM ResizeBilinearInteger for one output value, in Int64 as TFLM.
private func oracleBilinear(_ x: [Int8], shape: [Int], b: Int, y: Int, xx: Int, c: Int, outH: Int, outW: Int,
                            align: Bool, half: Bool) -> Int8 {
  let (inH, inW, ch) = (shape[1], shape[2], shape[3])
  func coord(_ i: Int, _ inSize: Int, _ outSize: Int) -> (Int64, Int64, Int64) {
    var s = Int64((1024 * inSize + outSize / 2) / outSize)
    if align && outSize > 1 { s = Int64((1024 * (inSize - 1) + (outSize - 1) / 2) / (outSize - 1)) }
    let v = half ? Int64(i) * s + s / 2 - 512 : Int64(i) * s
    return (v, max(v / 1024, 0), min((v + 1023) / 1024, Int64(inSize - 1)))
  }
  let (iy, y0, y1) = coord(y, inH, outH), (ix, x0, x1) = coord(xx, inW, outW)
  func p(_ yy: Int64, _ xq: Int64) -> Int64 { Int64(x[((b * inH + Int(yy)) * inW + Int(xq)) * ch + c]) }
  let s = p(y0, x0) * (1024 - (iy - 1024 * y0)) * (1024 - (ix - 1024 * x0))
    + p(y1, x0) * (iy - 1024 * y0) * (1024 - (ix - 1024 * x0))
    + p(y0, x1) * (1024 - (iy - 1024 * y0)) * (ix - 1024 * x0)
    + p(y1, x1) * (iy - 1024 * y0) * (ix - 1024 * x0)
  let r = (s + (s > 0 ? 1 << 19 : -(1 << 19))) / (1 << 20)
  return Int8(truncatingIfNeeded: r)
}

/// Plain concatenation of row-major tensors along `axis`.
private func oracleConcat(_ xs: [[Int8]], shapes: [[Int]], axis: Int) -> [Int8] {
  let outer = shapes[0][..<axis].reduce(1, *)
  var out: [Int8] = []
  for o in 0..<outer {
    for (x, s) in zip(xs, shapes) {
      let row = s[axis...].reduce(1, *)
      out += x[(o * row)..<((o + 1) * row)]
    }
  }
  return out
}

extension SplitMix64 {
  fileprivate mutating func byte() -> Int8 { Int8(truncatingIfNeeded: Int(next() % 256)) }
}

// MARK: - Kernels

@Suite struct JoinKernelTests {
  @Test func exactFloatIsTheIntegersFloat() {
    for n in Array(0...5000) + [65535, 65536, 1 << 23, (1 << 24) - 1] { #expect(exactFloat(n) == Float(n), "\(n)") }
  }

  @Test func nearestIndicesMatchTFLMFormula() {
    var checked = 0
    for inSize in [1, 2, 3, 4, 5, 7, 8, 13, 64, 100, 299] {
      for outSize in [1, 2, 3, 5, 6, 7, 8, 9, 16, 31, 64, 127, 300, 1000] {
        for (align, half) in [(false, false), (true, false), (false, true), (true, true)] {
          var t = [Int32](repeating: -1, count: outSize)
          prepareNearestNeighborIndices(inSize: inSize, outSize: outSize, alignCorners: align, halfPixelCenters: half, into: &t)
          for i in 0..<outSize {
            let want = oracleNearest(i, inSize: inSize, outSize: outSize, align: align, half: half)
            #expect(t[i] == want, "in \(inSize) out \(outSize) align \(align) half \(half) index \(i)")
            #expect(t[i] >= 0 && t[i] < inSize)
          }
          checked += 1
        }
      }
    }
    #expect(checked == 11 * 14 * 4)
  }

  @Test func bilinearMatchesTFLMIntegerFormula() {
    var rng = SplitMix64(seed: 30)
    for trial in 0..<40 {
      let shape = [rng.int(1...2), rng.int(1...9), rng.int(1...9), rng.int(1...5)]
      let outH = rng.int(1...20), outW = rng.int(1...20)
      let align = trial % 3 == 1, half = trial % 3 == 2
      let x = (0..<shape.reduce(1, *)).map { _ in rng.byte() }
      var rows = [BilinearTap](repeating: BilinearTap(lower: 0, upper: 0, fraction: 0), count: outH)
      var cols = [BilinearTap](repeating: BilinearTap(lower: 0, upper: 0, fraction: 0), count: outW)
      #expect(prepareBilinearTaps(inSize: shape[1], outSize: outH, alignCorners: align, halfPixelCenters: half, into: &rows))
      #expect(prepareBilinearTaps(inSize: shape[2], outSize: outW, alignCorners: align, halfPixelCenters: half, into: &cols))
      var out = [Int8](repeating: 0, count: shape[0] * outH * outW * shape[3])
      resizeBilinearReference(inputShape: Dims4(n: shape[0], h: shape[1], w: shape[2], c: shape[3]), input: x,
                              rows: rows, cols: cols, outputShape: Dims4(n: shape[0], h: outH, w: outW, c: shape[3]),
                              output: &out)
      var want: [Int8] = []
      for b in 0..<shape[0] { for y in 0..<outH { for xx in 0..<outW { for c in 0..<shape[3] {
        want.append(oracleBilinear(x, shape: shape, b: b, y: y, xx: xx, c: c, outH: outH, outW: outW, align: align, half: half))
      } } } }
      #expect(out == want, "trial \(trial): \(shape) → \(outH)x\(outW) align \(align) half \(half)")
    }
  }

  @Test func bilinearRefusesUpscalesReadingPastTheInput() {
    // 1 → 1500: TFLM's scale rounds to 1/1024, the last lower index is 1 (past a 1-pixel input).
    var t = [BilinearTap](repeating: BilinearTap(lower: 0, upper: 0, fraction: 0), count: 1500)
    #expect(!prepareBilinearTaps(inSize: 1, outSize: 1500, alignCorners: false, halfPixelCenters: false, into: &t))
    #expect(!resizeBilinearFits(inSize: 1, outSize: 1500, alignCorners: false, halfPixelCenters: false))
    // The cheap check agrees with the table on every size pair tried.
    for inSize in [1, 2, 3, 5, 17] {
      for outSize in stride(from: 1, through: 3000, by: 37) {
        for (align, half) in [(false, false), (true, false), (false, true)] {
          var tab = [BilinearTap](repeating: BilinearTap(lower: 0, upper: 0, fraction: 0), count: outSize)
          let full = prepareBilinearTaps(inSize: inSize, outSize: outSize, alignCorners: align, halfPixelCenters: half, into: &tab)
          #expect(full == resizeBilinearFits(inSize: inSize, outSize: outSize, alignCorners: align, halfPixelCenters: half),
                  "\(inSize) → \(outSize)")
          if full { #expect(tab.allSatisfy { $0.lower >= 0 && $0.lower <= $0.upper && $0.upper < inSize }) }
        }
      }
    }
  }
}

// MARK: - Models

@Suite struct JoinModelTests {
  @Test func concatenationRunsLikeThePlainFormula() throws {
    var rng = SplitMix64(seed: 31)
    for trial in 0..<24 {
      let rank = rng.int(1...5), count = rng.int(1...4)
      let base = (0..<rank).map { _ in rng.int(1...5) }
      let axis = rng.int(0...(rank - 1))
      let shapes = (0..<count).map { _ -> [Int] in var s = base; s[axis] = rng.int(1...6); return s }
      let scale = Float(0.01 * Double(rng.int(1...50))), zp = Int32(rng.int(-128...127))
      var b = ModelBuilder()
      let ins = try shapes.enumerated().map { try b.addActivation(shape: $0.element, scale: scale, zeroPoint: zp, name: "x\($0.offset)") }
      // A negative axis counted from the end, as TFLite writes it, half of the time.
      let y = try b.concatenation(ins, axis: trial % 2 == 0 ? axis : axis - rank, name: "y")
      for i in ins { try b.markInput(i) }
      try b.markOutput(y)
      #expect(b.ops[0].record.extra == UInt32(axis))
      let model = try RuntimeModel(bytes: try b.serialize())
      let xs = shapes.map { s in (0..<s.reduce(1, *)).map { _ in rng.byte() } }
      var want = shapes[0]
      want[axis] = shapes.map { $0[axis] }.reduce(0, +)
      #expect(model.ops[0].typeName == "Concatenation" && model.ops[0].outputShape == want)
      #expect(try model.run(inputs: xs)[0] == oracleConcat(xs, shapes: shapes, axis: axis),
              "trial \(trial): \(shapes) axis \(axis)")
    }
  }

  @Test func concatenationTakesConstantInputs() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 2, 2, 3], scale: 0.1, zeroPoint: 4)
    let k = try b.addConstant([1, 2, 3, 4], shape: [1, 2, 2, 1], scale: 0.1, zeroPoint: 4)
    let y = try b.concatenation([k, x], axis: 3)
    try b.markInput(x)
    try b.markOutput(y)
    let model = try RuntimeModel(bytes: try b.serialize())
    let input: [Int8] = (0..<12).map { Int8($0 * 10 - 60) }
    #expect(try model.run(input: input) == oracleConcat([[1, 2, 3, 4], input], shapes: [[1, 2, 2, 1], [1, 2, 2, 3]], axis: 3))
  }

  @Test func resizeRunsLikeThePlainFormulas() throws {
    var rng = SplitMix64(seed: 32)
    for trial in 0..<24 {
      let shape = [rng.int(1...2), rng.int(1...7), rng.int(1...7), rng.int(1...6)]
      let outH = rng.int(1...15), outW = rng.int(1...15)
      let align = trial % 4 == 1 || trial % 4 == 3, half = trial % 4 == 2 || (trial % 4 == 3 && trial % 8 == 3)
      let bilinear = trial % 2 == 0
      var b = ModelBuilder()
      let x = try b.addActivation(shape: shape, scale: 0.05, zeroPoint: -3, name: "x")
      let y = bilinear
        ? try b.resizeBilinear(x, height: outH, width: outW, alignCorners: align, halfPixelCenters: half && !align, name: "y")
        : try b.resizeNearestNeighbor(x, height: outH, width: outW, alignCorners: align, halfPixelCenters: half, name: "y")
      try b.markInput(x)
      try b.markOutput(y)
      let model = try RuntimeModel(bytes: try b.serialize())
      #expect(model.ops[0].outputShape == [shape[0], outH, outW, shape[3]])
      let input = (0..<shape.reduce(1, *)).map { _ in rng.byte() }
      var want: [Int8] = []
      for bb in 0..<shape[0] { for yy in 0..<outH { for xx in 0..<outW { for c in 0..<shape[3] {
        if bilinear {
          want.append(oracleBilinear(input, shape: shape, b: bb, y: yy, xx: xx, c: c, outH: outH, outW: outW,
                                     align: align, half: half && !align))
        } else {
          let sy = Int(oracleNearest(yy, inSize: shape[1], outSize: outH, align: align, half: half))
          let sx = Int(oracleNearest(xx, inSize: shape[2], outSize: outW, align: align, half: half))
          want.append(input[((bb * shape[1] + sy) * shape[2] + sx) * shape[3] + c])
        }
      } } } }
      #expect(try model.run(input: input) == want, "trial \(trial) \(bilinear ? "bilinear" : "nearest") \(shape) → \(outH)x\(outW)")
    }
  }

  @Test func builderWritesTheDocumentedRecords() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 3, 3, 2], scale: 0.1, zeroPoint: 0)
    _ = try b.resizeNearestNeighbor(x, height: 6, width: 5, alignCorners: true, halfPixelCenters: true)
    _ = try b.resizeBilinear(x, height: 4, width: 4, halfPixelCenters: true)
    _ = try b.concatenation([x, x], axis: -2)
    #expect(b.ops.map(\.record.opCode) == [31, 32, 30])
    #expect(b.ops.map(\.record.extra) == [3, 2, 2])
    #expect(b.ops[0].inputs.count == 2 && b.tensors[b.ops[0].inputs[1]!.index].shape == [2])
    #expect(b.ops[2].record.inputCount == 2)
  }

  @Test func builderRefusesWhatTheLoaderRefuses() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 4, 4, 3], scale: 0.1, zeroPoint: -2)
    let other = try b.addActivation(shape: [1, 4, 4, 3], scale: 0.2, zeroPoint: -2)
    let tall = try b.addActivation(shape: [1, 5, 4, 3], scale: 0.1, zeroPoint: -2)
    let flat = try b.addActivation(shape: [4, 3], scale: 0.1, zeroPoint: -2)
    func kind(_ body: () throws -> Void) -> String {
      do { try body(); return "ok" } catch let e as ModelBuilderError {
        return String(describing: e).components(separatedBy: ":").first ?? ""
      } catch { return "other" }
    }
    let tensorsBefore = b.tensors.count
    #expect(kind { _ = try b.concatenation([x, tall], axis: 3) } == "shape mismatch")
    #expect(kind { _ = try b.concatenation([x, tall], axis: 1) } == "ok")
    #expect(kind { _ = try b.concatenation([x, flat], axis: 1) } == "shape mismatch")
    #expect(kind { _ = try b.concatenation([x, other], axis: 3) } == "invalid quantization")
    #expect(kind { _ = try b.concatenation([x], axis: 4) } == "invalid op")
    #expect(kind { _ = try b.concatenation([], axis: 0) } == "invalid op")
    #expect(kind { _ = try b.resizeNearestNeighbor(x, height: 0, width: 3) } == "invalid op")
    #expect(kind { _ = try b.resizeBilinear(x, height: 3, width: 3, alignCorners: true, halfPixelCenters: true) } == "invalid op")
    #expect(kind { _ = try b.resizeNearestNeighbor(flat, height: 3, width: 3) } == "invalid shape")
    #expect(kind { _ = try b.resizeBilinear(try b.addActivation(shape: [1, 1, 1, 1], scale: 1, zeroPoint: 0),
                                          height: 1, width: 1500) } == "invalid op")
    // Refused resizes leave no size constant behind (+1 for the activation made in the last call, +1 for the concatenation).
    #expect(b.tensors.count == tensorsBefore + 2)
    // Low level: fused activation, axis option on another op.
    let out = try b.addActivation(shape: [1, 4, 4, 6], scale: 0.1, zeroPoint: -2)
    #expect(kind { try b.addOp(.concatenation, inputs: [x, x], output: out, options: OpOptions(activation: .relu, axis: 3)) } == "invalid op")
    #expect(kind { try b.addOp(.logistic, inputs: [x], output: out, options: OpOptions(axis: 1)) } == "invalid op")
    #expect(kind { try b.addOp(.concatenation, inputs: [x, x], output: out, options: OpOptions(axis: 3)) } == "ok")
  }
}

// MARK: - Loader rejections

/// a [1,3,3,2], b [1,3,3,5] → concatenation (axis 3) → c [1,3,3,7] →
/// resize nearest (size constant [6, 5]) → r [1,6,5,7] → resize bilinear
/// ([4, 9]) → s [1,4,9,7]. Tensors: 0 a, 1 b, 2 c, 3 size r, 4 r, 5 size s, 6 s;
/// ops 0 concatenation, 1 nearest, 2 bilinear.
private func joinModel(bilinearSize: (Int, Int) = (4, 9)) throws -> [UInt8] {
  var b = ModelBuilder()
  let a = try b.addActivation(shape: [1, 3, 3, 2], scale: 0.05, zeroPoint: -4, name: "a")
  let bb = try b.addActivation(shape: [1, 3, 3, 5], scale: 0.05, zeroPoint: -4, name: "b")
  let c = try b.concatenation([a, bb], axis: 3, name: "c")
  let r = try b.resizeNearestNeighbor(c, height: 6, width: 5, name: "r")
  let s = try b.resizeBilinear(r, height: bilinearSize.0, width: bilinearSize.1, name: "s")
  try b.markInput(a)
  try b.markInput(bb)
  try b.markOutput(s)
  return try b.serialize()
}




/// Input `k` of op `op` pointed at tensor `tensor`.
private func rewireInput(_ bytes: [UInt8], op: Int, input k: Int, to tensor: UInt32) -> [UInt8] {
  patched(bytes) { base, h in
    let r = OpRecord.read(from: base + Int(h.opTableOffset) + op * ModelFormat.opRecordSize)
    base.storeBytes(of: tensor.littleEndian, toByteOffset: Int(r.tensorListOffset) + 4 * k, as: UInt32.self)
  }
}

/// The int32 values of constant tensor `index` replaced.
private func editSize(_ bytes: [UInt8], tensor index: Int, _ values: [Int32]) -> [UInt8] {
  patched(bytes) { base, h in
    let r = TensorRecord.read(from: base + Int(h.tensorTableOffset) + index * ModelFormat.tensorRecordSize)
    for (i, v) in values.enumerated() {
      base.storeBytes(of: v.littleEndian, toByteOffset: Int(r.dataOffset) + 4 * i, as: Int32.self)
    }
  }
}


@Suite struct JoinLoaderTests {
  @Test func validModelLoads() throws {
    #expect(loadFailure(try joinModel()) == nil)
  }

  @Test func concatenationAxisOutOfRangeIsRefused() throws {
    let good = try joinModel()
    expectLoadFailure(op: 0, editOp(good, 0) { $0.extra = 4 }, .badOp, "axis")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.extra = 0xFFFF_FFFF }, .badOp, "axis")
    // A valid axis the shapes do not fit.
    expectLoadFailure(op: 0, editOp(good, 0) { $0.extra = 1 }, .shapeMismatch, "every dimension but the axis")
  }

  @Test func concatenationMismatchedDimensionsAreRefused() throws {
    let good = try joinModel()
    // Input b taller than a (a non-axis dimension): the output [1,3,3,7] cannot hold it.
    expectLoadFailure(op: 0, editTensor(good, 1) { $0.dims = (1, 4, 3, 5, 0) }, .shapeMismatch, "every dimension but the axis")
    // Channels not adding up to the output's.
    expectLoadFailure(op: 0, editTensor(good, 1) { $0.dims = (1, 3, 3, 4, 0) }, .shapeMismatch, "sum of the inputs")
    // Rank differs.
    expectLoadFailure(op: 0, editTensor(good, 1) { $0.rank = 3; $0.dims = (3, 3, 5, 0, 0) }, .shapeMismatch, "rank")
  }

  @Test func concatenationQuantizationAndActivationAreChecked() throws {
    let good = try joinModel()
    expectLoadFailure(op: 0, editTensor(good, 1) { $0.zeroPoint = 3 }, .badOp, "scale and zero point")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.activation = FusedActivation.relu.rawValue }, .badOp, "fused activation")
    // An input that is the constant size tensor (int32).
    expectLoadFailure(op: 0, rewireInput(good, op: 0, input: 1, to: 3), .badOp, "int8")
  }

  @Test func resizeSizeTensorMustBeConstant() throws {
    let good = try joinModel()
    // Size input pointed at the activation c (int8 [1,3,3,7]).
    expectLoadFailure(op: 1, rewireInput(good, op: 1, input: 1, to: 2), .badOp, "constant int32 [2]")
    // An int32 constant of the wrong shape.
    expectLoadFailure(op: 1, editTensor(good, 3) { $0.dims = (1, 2, 0, 0, 0); $0.rank = 2 }, .badOp, "constant int32 [2]")
  }

  @Test func resizeSizeValuesMustBePositiveAndMatchTheOutput() throws {
    let good = try joinModel()
    expectLoadFailure(op: 1, editSize(good, tensor: 3, [0, 5]), .badOp, "positive")
    expectLoadFailure(op: 1, editSize(good, tensor: 3, [6, -5]), .badOp, "positive")
    expectLoadFailure(op: 1, editSize(good, tensor: 3, [6, 4]), .shapeMismatch, "output height and width")
    expectLoadFailure(op: 2, editSize(good, tensor: 5, [9, 4]), .shapeMismatch, "output height and width")
  }

  @Test func resizeOptionsAndShapesAreChecked() throws {
    let good = try joinModel()
    expectLoadFailure(op: 2, editOp(good, 2) { $0.extra = 3 }, .badOp, "cannot both be set")
    #expect(loadFailure(editOp(good, 1) { $0.extra = 3 }) == nil)  // nearest: both allowed, as TFLM
    expectLoadFailure(op: 1, editOp(good, 1) { $0.extra = 4 }, .badOp, "extra")
    expectLoadFailure(op: 1, editOp(good, 1) { $0.activation = FusedActivation.relu6.rawValue }, .badOp, "fused activation")
    expectLoadFailure(op: 1, editTensor(good, 4) { $0.zeroPoint = 0 }, .badOp, "quantization must be equal")
    expectLoadFailure(op: 2, editTensor(good, 6) { $0.dims = (1, 4, 9, 6, 0) }, .shapeMismatch, "batch and channels")
    expectLoadFailure(op: 1, editTensor(good, 4) { $0.rank = 3; $0.dims = (6, 5, 7, 0, 0) }, .shapeMismatch, "rank 4")
  }

  @Test func bilinearUpscaleBeyondTFLMScaleIsRefused() throws {
    // 5 → 40 columns loads; patched to 5 → 7000 the 10-bit scale (round(5120 / 7000) = 1)
    // would put the last lower index at 6999 / 1024 = 6, past the 5-column input.
    let good = try joinModel(bilinearSize: (4, 40))
    #expect(loadFailure(good) == nil)
    #expect(!resizeBilinearFits(inSize: 5, outSize: 7000, alignCorners: false, halfPixelCenters: false))
    let huge = editSize(editTensor(good, 6) { $0.dims = (1, 4, 7000, 7, 0) }, tensor: 5, [4, 7000])
    expectLoadFailure(op: 2, huge, .badOp, "upscale too large")
  }
}
