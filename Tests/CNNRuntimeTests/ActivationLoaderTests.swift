// Activations (op codes 13-20) at load: each refusal class names the op, and
// the byte-table ops compute what their arithmetic says on all 256 inputs.
@testable import CNNRuntime
import CNNTools
import Testing
import Foundation




private func expectRefused(_ bytes: [UInt8], _ status: CNNStatus, _ text: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
  let e = loadFailure(bytes)
  #expect(e?.status == status, "\(e?.description ?? "loaded")", sourceLocation: sourceLocation)
  #expect(e?.message.contains("op 0:") == true && e?.message.contains(text) == true,
          "\(e?.description ?? "loaded")", sourceLocation: sourceLocation)
}

/// x [1, 4, 8, 8] (every int8 value once) → one op → y. Tensor 0 is x.
private func unaryModel(inScale: Float = 0.05, inZero: Int32 = -3,
                        _ add: (inout ModelBuilder, TensorID) throws -> TensorID) throws -> [UInt8] {
  var b = ModelBuilder()
  let x = try b.addActivation(shape: [1, 4, 8, 8], scale: inScale, zeroPoint: inZero, name: "x")
  let y = try add(&b, x)
  try b.markInput(x)
  try b.markOutput(y)
  return try b.serialize()
}

private let allBytes: [Int8] = (0..<256).map { Int8(truncatingIfNeeded: $0 - 128) }

private func runAll(_ bytes: [UInt8]) throws -> [Int8] {
  try RuntimeModel(bytes: bytes).run(input: allBytes)
}

@Suite struct ActivationLoaderTests {
  @Test func validModelsLoad() throws {
    #expect(loadFailure(try unaryModel { b, x in try b.relu(x, outputScale: 0.03, outputZeroPoint: -128) }) == nil)
    #expect(loadFailure(try unaryModel { b, x in try b.relu6(x) }) == nil)
    #expect(loadFailure(try unaryModel { b, x in try b.leakyRelu(x, alpha: 0.1, outputScale: 0.04, outputZeroPoint: 5) }) == nil)
    #expect(loadFailure(try unaryModel { b, x in try b.hardSwish(x, outputScale: 0.04, outputZeroPoint: -20) }) == nil)
    #expect(loadFailure(try unaryModel { b, x in try b.tanh(x) }) == nil)
    #expect(loadFailure(try unaryModel { b, x in try b.requantize(x, outputScale: 0.1, outputZeroPoint: 9) }) == nil)
  }

  @Test func fusedActivationIsRefused() throws {
    let m = try unaryModel { b, x in try b.relu(x, outputScale: 0.03, outputZeroPoint: -128) }
    expectRefused(editOp(m, 0) { $0.activation = FusedActivation.relu6.rawValue }, .badOp, "fused activation")
  }

  @Test func shapeChangeIsRefused() throws {
    let m = try unaryModel { b, x in try b.tanh(x) }
    expectRefused(editTensor(m, 1) { $0.dims = (1, 8, 4, 8, 0) }, .shapeMismatch, "shapes differ")
  }

  @Test func wrongInputCountIsRefused() throws {
    let m = try unaryModel { b, x in
      try b.lookupTable(x, table: allBytes, outputScale: 0.05, outputZeroPoint: -3)
    }
    // A LookupTable record (input, table) relabelled as the one-input ReLU / Tanh.
    expectRefused(editOp(m, 0) { $0.opCode = OpCode.relu.rawValue }, .badOp, "wrong number of inputs")
    expectRefused(editOp(m, 0) { $0.opCode = OpCode.tanh.rawValue }, .badOp, "wrong number of inputs")
  }

  @Test func requantizationBeyondTheBoundIsRefused() throws {
    // s_in / s_out = 2^32: shift 33 > 31.
    for add: (inout ModelBuilder, TensorID) throws -> TensorID in [
      { b, x in try b.relu(x, outputScale: 1.0 / 4_294_967_296, outputZeroPoint: 0) },
      { b, x in try b.requantize(x, outputScale: 1.0 / 4_294_967_296, outputZeroPoint: 0) },
      { b, x in try b.leakyRelu(x, alpha: 0.5, outputScale: 1.0 / 4_294_967_296, outputZeroPoint: 0) },
    ] {
      expectRefused(try unaryModel(inScale: 1, add), .badOp, "requantization multiplier")
    }
  }

  @Test func tanhOutputQuantizationIsFixed() throws {
    let m = try unaryModel { b, x in try b.tanh(x) }
    expectRefused(editTensor(m, 1) { $0.zeroPoint = 1 }, .badOp, "scale 1/128, zero point 0")
  }

  @Test func leakyReluAlphaMustBeFinite() throws {
    let m = try unaryModel { b, x in try b.leakyRelu(x, alpha: 0.1, outputScale: 0.04, outputZeroPoint: 5) }
    expectRefused(editOp(m, 0) { $0.extra = Float.nan.bitPattern }, .badOp, "alpha must be finite")
  }

  @Test func hardSwishScaleRatioOutsideTheFixedPointRangeIsRefused() throws {
    // s_in / s_out >= 128: TFLM's output exponent would be positive.
    expectRefused(try unaryModel(inScale: 1) { b, x in try b.hardSwish(x, outputScale: 0.005, outputZeroPoint: 0) },
                  .badOp, "hard swish")
    // s_in / s_out tiny: a right shift beyond int16.
    expectRefused(try unaryModel(inScale: 0.001) { b, x in try b.hardSwish(x, outputScale: 100, outputZeroPoint: 0) },
                  .badOp, "hard swish")
  }

  @Test func preluAlphaMustBeAConstantThatBroadcasts() throws {
    let m = try unaryModel { b, x in
      let a = try b.addConstant([10, -20, 30, 40, 50, 60, 70, 80], shape: [8], scale: 0.01, name: "alpha")
      return try b.prelu(x, alpha: a, outputScale: 0.05, outputZeroPoint: 0)
    }
    #expect(loadFailure(m) == nil)
    // Tensor 1 is alpha: [8] → [2, 4, 1] (same 8 bytes) does not broadcast to [1, 4, 8, 8].
    expectRefused(editTensor(m, 1) { $0.rank = 3; $0.dims = (2, 4, 1, 0, 0) }, .shapeMismatch, "alpha must broadcast")
    // alpha as int32 (same bytes): not an int8 constant.
    expectRefused(editTensor(m, 1) { $0.elementType = ElementType.int32.rawValue; $0.dims = (2, 0, 0, 0, 0) },
                  .badOp, "constant int8")
  }

  @Test func lookupTableMustBe256ConstantInt8s() throws {
    let m = try unaryModel { b, x in
      try b.lookupTable(x, table: allBytes, outputScale: 0.05, outputZeroPoint: -3)
    }
    #expect(loadFailure(m) == nil)
    // Tensor 1 is the table: 64 int32 values have its 256 bytes.
    expectRefused(editTensor(m, 1) { $0.elementType = ElementType.int32.rawValue; $0.rank = 1; $0.dims = (64, 0, 0, 0, 0) },
                  .badOp, "256 values")
  }

  // MARK: Arithmetic on every input byte

  @Test func byteTableKernelPathsMatchTheReference() {
    let isas = [KernelISA.portable, KernelISA.avx2, KernelISA.avx512].filter { resolvedKernelISA(request: $0) == $0 }
    // (path, VBMI form): the AVX-512 path also in both VBMI forms where the CPU has VBMI.
    var paths = isas.map { ($0, Int32(0)) }
    if isas.contains(KernelISA.avx512) && avx512ByteTableForm(isa: KernelISA.avx512) != 0 {
      paths += [(KernelISA.avx512, 1), (KernelISA.avx512, 2)]
    } else {
      print("notice: no AVX-512 VBMI on this CPU; its byte-table kernel is checked by make avx512-emu-test")
    }
    var rng = SplitMix64(seed: 42)
    for trial in 0..<20 {
      let table = (0..<256).map { _ in Int8(truncatingIfNeeded: rng.next()) }
      // Every byte value in every position mod 32, then random lengths (tails 0...31).
      let count = trial == 0 ? 256 * 33 : Int(rng.next() % 300)
      let input = (0..<count).map { k in trial == 0 ? Int8(truncatingIfNeeded: k &* 7) : Int8(truncatingIfNeeded: rng.next()) }
      let want = input.map { table[Int($0) + 128] }
      for (isa, form) in paths {
        var got = [Int8](repeating: 0, count: count + 1)
        got[count] = 99  // guard byte
        table.withUnsafeBufferPointer { t in input.withUnsafeBufferPointer { i in got.withUnsafeMutableBufferPointer { o in
          byteTableLookup(isa: isa, vbmiForm: form, table: t.baseAddress!, count: count, input: i.baseAddress ?? t.baseAddress!,
                          output: o.baseAddress!)
        } } }
        #expect(Array(got[0..<count]) == want && got[count] == 99, "path \(isa) form \(form), trial \(trial), count \(count)")
      }
    }
    print("byte table lookup checked on paths \(paths)")
  }

  @Test func lookupTableMapsEveryByte() throws {
    let table = allBytes.map { Int8(truncatingIfNeeded: 37 &* Int($0) &+ 11) }
    let out = try runAll(try unaryModel { b, x in try b.lookupTable(x, table: table, outputScale: 0.05, outputZeroPoint: -3) })
    #expect(out == table)
  }

  @Test func relu6ClampsTheInputBytes() throws {
    // zero = zp_in = -3, six = -3 + round(6 / 0.05) = 117.
    let out = try runAll(try unaryModel { b, x in try b.relu6(x) })
    #expect(out == allBytes.map { min(max($0, -3), 117) })
  }

  @Test func reluAndQuantizeFollowTheirRealValues() throws {
    // Equal scales: ReLU is max(x - zp_in, 0) + zp_out exactly; Quantize shifts the zero point.
    let relu = try runAll(try unaryModel { b, x in try b.relu(x, outputScale: 0.05, outputZeroPoint: -128) })
    #expect(relu == allBytes.map { Int8(clamping: max(Int($0) + 3, 0) - 128) })
    let q = try runAll(try unaryModel { b, x in try b.requantize(x, outputScale: 0.05, outputZeroPoint: 20) })
    #expect(q == allBytes.map { Int8(clamping: Int($0) + 23) })
  }

  @Test func tanhAndHardSwishStayNearTheirRealValues() throws {
    // Independent check of the fixed-point paths: within 1 step of the real function.
    let t = try runAll(try unaryModel(inScale: 0.03, inZero: 4) { b, x in try b.tanh(x) })
    for (x, y) in zip(allBytes, t) {
      let r = Foundation.tanh(0.03 * Double(Int(x) - 4)) * 128
      #expect(abs(Double(y) - max(-128, min(127, r))) <= 1.01, "tanh(\(x)) = \(y), real \(r)")
    }
    let h = try runAll(try unaryModel(inScale: 0.05, inZero: -3) { b, x in
      try b.hardSwish(x, outputScale: 0.03, outputZeroPoint: -40) })
    for (x, y) in zip(allBytes, h) {
      let v = 0.05 * Double(Int(x) + 3)
      let r = v * min(max(v + 3, 0), 6) / 6 / 0.03 - 40
      #expect(abs(Double(y) - max(-128, min(127, r))) <= 1.51, "hardswish(\(x)) = \(y), real \(r)")
    }
  }
}
