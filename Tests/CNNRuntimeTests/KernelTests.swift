// Reference kernels against plain, obviously-correct formulas on seeded
// random shapes and parameters.
//
// The oracles here accumulate in Int64 over explicitly padded inputs (a tap
// outside the image is "zero point", i.e. 0 after the offset), in a different
// loop order from the kernels, then requantize with the exact-rational
// double-rounding formula (Int128). Softmax and logistic are compared with
// float math (within 1 LSB) and checked for exact properties.

import Foundation
import Testing
@testable import CNNRuntime
import CNNTools

// MARK: - Utilities (file-private)

private typealias Rng = SplitMix64

extension SplitMix64 {
  mutating func int8s(_ n: Int, _ range: ClosedRange<Int> = -128...127) -> [Int8] {
    (0..<n).map { _ in Int8(int(range)) }
  }
  /// A log-uniform value in [10^lo, 10^hi].
  mutating func logUniform(_ lo: Double, _ hi: Double) -> Double { pow(10, lo + (hi - lo) * unit()) }
}

/// Exact-rational double-rounding requantization (independent of the kernel
/// code): s = round_ties_up(acc * 2^left * M / 2^31), r = round_ties_away(s / 2^right),
/// then + zero point and clamp.
private func refRequant(_ acc: Int64, _ m: Int32, _ shift: Int32, _ zp: Int32, _ lo: Int32, _ hi: Int32) -> Int8 {
  let left = max(Int(shift), 0), right = max(-Int(shift), 0)
  let v = Int128(Int32(truncatingIfNeeded: acc << left))
  var s = (v * Int128(m) + (Int128(1) << 30)) >> 31
  if s > Int128(Int32.max) { s = Int128(Int32.max) }
  var r = s
  if right > 0 {
    let half = Int128(1) << (right - 1)
    r = s >= 0 ? (s + half) >> right : -((-s + half) >> right)
  }
  let out = min(max(Int64(r) + Int64(zp), Int64(lo)), Int64(hi))
  return Int8(out)
}

/// Random per-channel requantization from realistic scales.
private func randomRequant(_ rng: inout Rng, count: Int, k: Int) -> (m: [Int32], s: [Int32]) {
  // effective scale ~ 1 / (k * 32) up to a few times that, as a trained
  // layer would have (keeps outputs spread over the int8 range).
  var m: [Int32] = [], s: [Int32] = []
  let base = 1.0 / (Double(max(k, 1)) * 40.0)
  for _ in 0..<count {
    let q = quantizeMultiplier(base * rng.logUniform(-0.7, 0.7))
    m.append(q.multiplier); s.append(q.shift)
  }
  return (m, s)
}

private struct Activation {
  var lo: Int32, hi: Int32
  static func random(_ rng: inout Rng, zp: Int32) -> Activation {
    switch rng.int(0...2) {
    case 0: return Activation(lo: -128, hi: 127)                         // none
    case 1: return Activation(lo: max(-128, zp), hi: 127)                // relu
    default: return Activation(lo: max(-128, zp), hi: min(127, zp + Int32(rng.int(20...120))))  // relu6-like
    }
  }
}

/// Output buffer with guard bytes on both sides to catch out-of-bounds writes.
private struct Guarded {
  static let pad = 64
  static let pattern: Int8 = 0x5A
  var storage: [Int8]
  let count: Int
  init(count: Int) {
    self.count = count
    storage = [Int8](repeating: Guarded.pattern, count: count + 2 * Guarded.pad)
  }
  mutating func withOutput(_ body: (UnsafeMutablePointer<Int8>) -> Void) {
    storage.withUnsafeMutableBufferPointer { body($0.baseAddress! + Guarded.pad) }
  }
  var output: [Int8] { Array(storage[Guarded.pad..<(Guarded.pad + count)]) }
  var guardsIntact: Bool {
    storage[0..<Guarded.pad].allSatisfy { $0 == Guarded.pattern }
      && storage[(Guarded.pad + count)...].allSatisfy { $0 == Guarded.pattern }
  }
}

/// Byte comparison reporting the number of differing bytes and the first one
/// (instead of dumping whole arrays).
private func expectBytes(_ got: [Int8], _ want: [Int8], _ label: @autoclosure () -> String,
                         sourceLocation: SourceLocation = #_sourceLocation) {
  guard got.count == want.count else {
    Issue.record("\(label()): \(got.count) bytes, expected \(want.count)", sourceLocation: sourceLocation)
    return
  }
  let differing = (0..<got.count).filter { got[$0] != want[$0] }
  if let first = differing.first {
    Issue.record("\(label()): \(differing.count) of \(got.count) bytes differ; first at \(first): got \(got[first]), want \(want[first])",
                 sourceLocation: sourceLocation)
  }
}

/// Output size and leading pad for one spatial dimension.
private func spatial(_ rng: inout Rng, input: Int, kernel: Int, stride: Int, dilation: Int)
  -> (out: Int, padBefore: Int)?
{
  let effective = (kernel - 1) * dilation + 1
  switch rng.int(0...2) {
  case 0:  // SAME (TFLite): out = ceil(in / stride), extra padding after
    let out = (input + stride - 1) / stride
    let total = max((out - 1) * stride + effective - input, 0)
    return (out, total / 2)
  case 1:  // VALID
    guard input >= effective else { return nil }
    return ((input - effective) / stride + 1, 0)
  default:  // explicit pads
    let before = rng.int(0...2), after = rng.int(0...2)
    let padded = input + before + after
    guard padded >= effective else { return nil }
    return ((padded - effective) / stride + 1, before)
  }
}

// MARK: - Convolution

@Suite("Reference kernels: convolution")
struct ConvolutionKernelTests {
  @Test("conv2D (groups, dilation, stride 1-3, SAME/VALID/explicit pads, per-channel, clamps) matches Int64 oracle")
  func conv2DRandom() {
    var rng = Rng(seed: 100)
    var checked = 0
    while checked < 400 {
      let batches = rng.int(1...2)
      let groups = rng.int(1...3)
      let groupInC = rng.int(1...5)
      let filtersPerGroup = rng.int(1...4)
      let inC = groups * groupInC, outC = groups * filtersPerGroup
      let inH = rng.int(1...9), inW = rng.int(1...9)
      let kH = rng.int(1...4), kW = rng.int(1...4)
      let strideH = rng.int(1...3), strideW = rng.int(1...3)
      let dilationH = rng.int(1...3), dilationW = rng.int(1...3)
      guard let (outH, padTop) = spatial(&rng, input: inH, kernel: kH, stride: strideH, dilation: dilationH),
            let (outW, padLeft) = spatial(&rng, input: inW, kernel: kW, stride: strideW, dilation: dilationW)
      else { continue }
      let inputZP = Int32(rng.int(-128...127)), outputZP = Int32(rng.int(-128...127))
      let act = Activation.random(&rng, zp: outputZP)
      let input = rng.int8s(batches * inH * inW * inC)
      let filter = rng.int8s(outC * kH * kW * groupInC, -127...127)
      let bias: [Int32]? = rng.int(0...3) == 0 ? nil : (0..<outC).map { _ in Int32(rng.int(-40_000...40_000)) }
      let rq = randomRequant(&rng, count: outC, k: kH * kW * groupInC)
      let params = ConvParams(inputOffset: -inputZP, outputOffset: outputZP, strideH: strideH, strideW: strideW,
                              dilationH: dilationH, dilationW: dilationW, padTop: padTop, padLeft: padLeft,
                              depthMultiplier: 1, activationMin: act.lo, activationMax: act.hi)

      // Oracle: explicit padded-input lookup, Int64 accumulation.
      func x(_ b: Int, _ y: Int, _ xx: Int, _ c: Int) -> Int64 {
        guard y >= 0, y < inH, xx >= 0, xx < inW else { return 0 }   // padding = zero point
        return Int64(input[((b * inH + y) * inW + xx) * inC + c]) - Int64(inputZP)
      }
      var expected = [Int8](repeating: 0, count: batches * outH * outW * outC)
      for b in 0..<batches {
        for oc in 0..<outC {
          let g = oc / filtersPerGroup
          for oy in 0..<outH {
            for ox in 0..<outW {
              var acc: Int64 = bias.map { Int64($0[oc]) } ?? 0
              for ic in 0..<groupInC {
                for ky in 0..<kH {
                  for kx in 0..<kW {
                    let w = Int64(filter[((oc * kH + ky) * kW + kx) * groupInC + ic])
                    acc += w * x(b, oy * strideH - padTop + ky * dilationH,
                                 ox * strideW - padLeft + kx * dilationW, g * groupInC + ic)
                  }
                }
              }
              expected[((b * outH + oy) * outW + ox) * outC + oc] =
                refRequant(acc, rq.m[oc], rq.s[oc], outputZP, act.lo, act.hi)
            }
          }
        }
      }

      var out = Guarded(count: expected.count)
      rq.m.withUnsafeBufferPointer { m in
        rq.s.withUnsafeBufferPointer { s in
          let requant = ChannelRequant(multiplier: m.baseAddress!, shift: s.baseAddress!)
          input.withUnsafeBufferPointer { inp in
            filter.withUnsafeBufferPointer { f in
              out.withOutput { o in
                if let bias {
                  bias.withUnsafeBufferPointer { bp in
                    conv2DReference(params: params, requant: requant,
                                    inputShape: Dims4(n: batches, h: inH, w: inW, c: inC), input: inp.baseAddress!,
                                    filterShape: Dims4(n: outC, h: kH, w: kW, c: groupInC), filter: f.baseAddress!,
                                    bias: bp.baseAddress!,
                                    outputShape: Dims4(n: batches, h: outH, w: outW, c: outC), output: o)
                  }
                } else {
                  conv2DReference(params: params, requant: requant,
                                  inputShape: Dims4(n: batches, h: inH, w: inW, c: inC), input: inp.baseAddress!,
                                  filterShape: Dims4(n: outC, h: kH, w: kW, c: groupInC), filter: f.baseAddress!,
                                  bias: nil,
                                  outputShape: Dims4(n: batches, h: outH, w: outW, c: outC), output: o)
                }
              }
            }
          }
        }
      }
      expectBytes(out.output, expected, "conv case \(checked): in \(inH)x\(inW)x\(inC) k \(kH)x\(kW) g \(groups) s \(strideH),\(strideW) d \(dilationH),\(dilationW) pad \(padTop),\(padLeft)")
      #expect(out.guardsIntact)
      checked += 1
    }
  }

  @Test("depthwise conv (multiplier 1-4, dilation, strides, pads) matches Int64 oracle")
  func depthwiseRandom() {
    var rng = Rng(seed: 200)
    var checked = 0
    while checked < 400 {
      let batches = rng.int(1...2)
      let inC = rng.int(1...7), mult = rng.int(1...4)
      let outC = inC * mult
      let inH = rng.int(1...9), inW = rng.int(1...9)
      let kH = rng.int(1...4), kW = rng.int(1...4)
      let strideH = rng.int(1...3), strideW = rng.int(1...3)
      let dilationH = rng.int(1...3), dilationW = rng.int(1...3)
      guard let (outH, padTop) = spatial(&rng, input: inH, kernel: kH, stride: strideH, dilation: dilationH),
            let (outW, padLeft) = spatial(&rng, input: inW, kernel: kW, stride: strideW, dilation: dilationW)
      else { continue }
      let inputZP = Int32(rng.int(-128...127)), outputZP = Int32(rng.int(-128...127))
      let act = Activation.random(&rng, zp: outputZP)
      let input = rng.int8s(batches * inH * inW * inC)
      let filter = rng.int8s(kH * kW * outC, -127...127)
      let bias: [Int32]? = rng.int(0...3) == 0 ? nil : (0..<outC).map { _ in Int32(rng.int(-40_000...40_000)) }
      let rq = randomRequant(&rng, count: outC, k: kH * kW)
      let params = ConvParams(inputOffset: -inputZP, outputOffset: outputZP, strideH: strideH, strideW: strideW,
                              dilationH: dilationH, dilationW: dilationW, padTop: padTop, padLeft: padLeft,
                              depthMultiplier: mult, activationMin: act.lo, activationMax: act.hi)

      var expected = [Int8](repeating: 0, count: batches * outH * outW * outC)
      for b in 0..<batches {
        for oc in 0..<outC {
          let ic = oc / mult
          for oy in 0..<outH {
            for ox in 0..<outW {
              var acc: Int64 = bias.map { Int64($0[oc]) } ?? 0
              for ky in 0..<kH {
                for kx in 0..<kW {
                  let y = oy * strideH - padTop + ky * dilationH
                  let xx = ox * strideW - padLeft + kx * dilationW
                  let v: Int64 = (y < 0 || y >= inH || xx < 0 || xx >= inW)
                    ? 0 : Int64(input[((b * inH + y) * inW + xx) * inC + ic]) - Int64(inputZP)
                  acc += Int64(filter[(ky * kW + kx) * outC + oc]) * v
                }
              }
              expected[((b * outH + oy) * outW + ox) * outC + oc] =
                refRequant(acc, rq.m[oc], rq.s[oc], outputZP, act.lo, act.hi)
            }
          }
        }
      }

      var out = Guarded(count: expected.count)
      rq.m.withUnsafeBufferPointer { m in
        rq.s.withUnsafeBufferPointer { s in
          let requant = ChannelRequant(multiplier: m.baseAddress!, shift: s.baseAddress!)
          input.withUnsafeBufferPointer { inp in
            filter.withUnsafeBufferPointer { f in
              (bias ?? []).withUnsafeBufferPointer { bp in
                out.withOutput { o in
                  depthwiseConv2DReference(
                    params: params, requant: requant,
                    inputShape: Dims4(n: batches, h: inH, w: inW, c: inC), input: inp.baseAddress!,
                    filterShape: Dims4(n: 1, h: kH, w: kW, c: outC), filter: f.baseAddress!,
                    bias: bias == nil ? nil : bp.baseAddress!,
                    outputShape: Dims4(n: batches, h: outH, w: outW, c: outC), output: o)
                }
              }
            }
          }
        }
      }
      expectBytes(out.output, expected, "depthwise case \(checked)")
      #expect(out.guardsIntact)
      checked += 1
    }
  }

  @Test("conv2D: 3x3 SAME on a constant zero-point image gives bias-only outputs")
  func zeroPointImage() {
    // Every tap equals the zero point, so acc = bias exactly, including at
    // the borders where taps fall in the padding.
    let zp: Int32 = 17
    let input = [Int8](repeating: Int8(zp), count: 5 * 5 * 3)
    let filter = [Int8](repeating: 100, count: 2 * 3 * 3 * 3)
    let bias: [Int32] = [1000, -1000]
    let m: [Int32] = [1 << 30, 1 << 30], s: [Int32] = [-4, -4]   // * 1/32
    var out = [Int8](repeating: 0, count: 5 * 5 * 2)
    let params = ConvParams(inputOffset: -zp, outputOffset: 3, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1,
                            padTop: 1, padLeft: 1, depthMultiplier: 1, activationMin: -128, activationMax: 127)
    m.withUnsafeBufferPointer { mp in
      s.withUnsafeBufferPointer { sp in
        conv2DReference(params: params, requant: ChannelRequant(multiplier: mp.baseAddress!, shift: sp.baseAddress!),
                        inputShape: Dims4(n: 1, h: 5, w: 5, c: 3), input: input,
                        filterShape: Dims4(n: 2, h: 3, w: 3, c: 3), filter: filter, bias: bias,
                        outputShape: Dims4(n: 1, h: 5, w: 5, c: 2), output: &out)
      }
    }
    for i in 0..<25 {
      #expect(out[2 * i] == 1000 / 32 + 3 + 0)      // 31.25 -> 31, + 3
      #expect(out[2 * i + 1] == -31 + 3)
    }
  }
}

// MARK: - Fully connected

@Suite("Reference kernels: fully connected")
struct FullyConnectedKernelTests {
  @Test("fully connected (per-channel and per-tensor, weight zero point, no bias) matches Int64 oracle")
  func fullyConnectedRandom() {
    var rng = Rng(seed: 300)
    for caseIndex in 0..<300 {
      let batches = rng.int(1...3), depth = rng.int(1...120), units = rng.int(1...20)
      let inputZP = Int32(rng.int(-128...127)), outputZP = Int32(rng.int(-128...127))
      let filterZP: Int32 = rng.int(0...3) == 0 ? Int32(rng.int(-127...127)) : 0
      let act = Activation.random(&rng, zp: outputZP)
      let input = rng.int8s(batches * depth)
      let filter = rng.int8s(units * depth, -127...127)
      let bias: [Int32]? = rng.bool() ? (0..<units).map { _ in Int32(rng.int(-50_000...50_000)) } : nil
      var rq = randomRequant(&rng, count: units, k: depth)
      if rng.bool() {   // per-tensor: all entries equal
        rq.m = [Int32](repeating: rq.m[0], count: units); rq.s = [Int32](repeating: rq.s[0], count: units)
      }
      let params = FullyConnectedParams(inputOffset: -inputZP, filterOffset: -filterZP, outputOffset: outputZP,
                                        activationMin: act.lo, activationMax: act.hi)
      var expected = [Int8]()
      for b in 0..<batches {
        for u in 0..<units {
          var acc = Int64(bias?[u] ?? 0)
          for d in 0..<depth {
            acc += (Int64(filter[u * depth + d]) - Int64(filterZP)) * (Int64(input[b * depth + d]) - Int64(inputZP))
          }
          expected.append(refRequant(acc, rq.m[u], rq.s[u], outputZP, act.lo, act.hi))
        }
      }
      var out = Guarded(count: expected.count)
      rq.m.withUnsafeBufferPointer { m in
        rq.s.withUnsafeBufferPointer { s in
          (bias ?? []).withUnsafeBufferPointer { bp in
            out.withOutput { o in
              fullyConnectedReference(params: params,
                                      requant: ChannelRequant(multiplier: m.baseAddress!, shift: s.baseAddress!),
                                      batches: batches, depth: depth, units: units, input: input, filter: filter,
                                      bias: bias == nil ? nil : bp.baseAddress!, output: o)
            }
          }
        }
      }
      expectBytes(out.output, expected, "fc case \(caseIndex)")
      #expect(out.guardsIntact)
    }
  }
}

// MARK: - Pooling

@Suite("Reference kernels: pooling")
struct PoolingKernelTests {
  private struct PoolCase {
    var batches, inH, inW, c, fH, fW, sH, sW, outH, outW, padTop, padLeft: Int
    var lo, hi: Int32
    var input: [Int8]
  }

  private func randomCase(_ rng: inout Rng) -> PoolCase? {
    let batches = rng.int(1...2), inH = rng.int(1...10), inW = rng.int(1...10), c = rng.int(1...6)
    let fH = rng.int(1...4), fW = rng.int(1...4), sH = rng.int(1...3), sW = rng.int(1...3)
    guard let (outH, padTop) = spatial(&rng, input: inH, kernel: fH, stride: sH, dilation: 1),
          let (outW, padLeft) = spatial(&rng, input: inW, kernel: fW, stride: sW, dilation: 1) else { return nil }
    // Every window must hold at least one in-bounds tap (TFLM rejects others).
    for oy in 0..<outH where oy * sH - padTop >= inH || oy * sH - padTop + fH <= 0 { return nil }
    for ox in 0..<outW where ox * sW - padLeft >= inW || ox * sW - padLeft + fW <= 0 { return nil }
    let zp = Int32(rng.int(-128...127))
    let act = Activation.random(&rng, zp: zp)
    return PoolCase(batches: batches, inH: inH, inW: inW, c: c, fH: fH, fW: fW, sH: sH, sW: sW,
                    outH: outH, outW: outW, padTop: padTop, padLeft: padLeft, lo: act.lo, hi: act.hi,
                    input: rng.int8s(batches * inH * inW * c))
  }

  /// In-bounds taps of one window, by explicit bounds checks.
  private func taps(_ p: PoolCase, _ b: Int, _ oy: Int, _ ox: Int, _ ch: Int) -> [Int] {
    var values: [Int] = []
    for fy in 0..<p.fH {
      for fx in 0..<p.fW {
        let y = oy * p.sH - p.padTop + fy, x = ox * p.sW - p.padLeft + fx
        if y >= 0 && y < p.inH && x >= 0 && x < p.inW {
          values.append(Int(p.input[((b * p.inH + y) * p.inW + x) * p.c + ch]))
        }
      }
    }
    return values
  }

  private func run(_ p: PoolCase, average: Bool) -> Guarded {
    var out = Guarded(count: p.batches * p.outH * p.outW * p.c)
    let params = PoolParams(strideH: p.sH, strideW: p.sW, filterH: p.fH, filterW: p.fW,
                            padTop: p.padTop, padLeft: p.padLeft, activationMin: p.lo, activationMax: p.hi)
    out.withOutput { o in
      if average {
        averagePool2DReference(params: params, inputShape: Dims4(n: p.batches, h: p.inH, w: p.inW, c: p.c),
                               input: p.input, outputShape: Dims4(n: p.batches, h: p.outH, w: p.outW, c: p.c), output: o)
      } else {
        maxPool2DReference(params: params, inputShape: Dims4(n: p.batches, h: p.inH, w: p.inW, c: p.c),
                           input: p.input, outputShape: Dims4(n: p.batches, h: p.outH, w: p.outW, c: p.c), output: o)
      }
    }
    return out
  }

  @Test("max pool matches max over in-bounds taps, clamped")
  func maxPoolRandom() {
    var rng = Rng(seed: 400)
    var checked = 0
    while checked < 400 {
      guard let p = randomCase(&rng) else { continue }
      var expected: [Int8] = []
      for b in 0..<p.batches {
        for oy in 0..<p.outH {
          for ox in 0..<p.outW {
            for ch in 0..<p.c {
              expected.append(Int8(min(max(taps(p, b, oy, ox, ch).max()!, Int(p.lo)), Int(p.hi))))
            }
          }
        }
      }
      let out = run(p, average: false)
      expectBytes(out.output, expected, "max pool case \(checked)")
      #expect(out.guardsIntact)
      checked += 1
    }
  }

  @Test("average pool matches round-half-away(sum / in-bounds count), clamped")
  func averagePoolRandom() {
    var rng = Rng(seed: 500)
    var checked = 0
    while checked < 400 {
      guard let p = randomCase(&rng) else { continue }
      var expected: [Int8] = []
      for b in 0..<p.batches {
        for oy in 0..<p.outH {
          for ox in 0..<p.outW {
            for ch in 0..<p.c {
              let t = taps(p, b, oy, ox, ch)
              let mean = (Double(t.reduce(0, +)) / Double(t.count)).rounded(.toNearestOrAwayFromZero)
              expected.append(Int8(min(max(Int(mean), Int(p.lo)), Int(p.hi))))
            }
          }
        }
      }
      let out = run(p, average: true)
      expectBytes(out.output, expected, "average pool case \(checked)")
      #expect(out.guardsIntact)
      checked += 1
    }
  }

  @Test("average pool rounds ties away from zero")
  func averageTies() {
    let input: [Int8] = [1, 2, -1, -2]   // 1x1x4x1, windows of 2: 1.5 -> 2, -1.5 -> -2
    var out = [Int8](repeating: 0, count: 2)
    averagePool2DReference(params: PoolParams(strideH: 1, strideW: 2, filterH: 1, filterW: 2, padTop: 0, padLeft: 0,
                                              activationMin: -128, activationMax: 127),
                           inputShape: Dims4(n: 1, h: 1, w: 4, c: 1), input: input,
                           outputShape: Dims4(n: 1, h: 1, w: 2, c: 1), output: &out)
    #expect(out == [2, -2])
  }
}

// MARK: - Add

@Suite("Reference kernels: add")
struct AddKernelTests {
  @Test("add matches the staged exact-rational formula and float within 1 LSB")
  func addRandom() {
    var rng = Rng(seed: 600)
    for caseIndex in 0..<300 {
      let s1 = Float(rng.logUniform(-2.5, -0.5)), s2 = Float(rng.logUniform(-2.5, -0.5))
      let so = Float(rng.logUniform(-2.3, -0.3))
      let z1 = Int32(rng.int(-128...127)), z2 = Int32(rng.int(-128...127)), zo = Int32(rng.int(-128...127))
      let act = rng.bool()
        ? (min: Int32(-128), max: Int32(127))
        : quantizedActivationRange(realMin: 0, realMax: rng.bool() ? nil : 6, outputScale: so, outputZeroPoint: zo)
      let p = prepareAdd(input1Scale: s1, input1ZeroPoint: z1, input2Scale: s2, input2ZeroPoint: z2,
                         outputScale: so, outputZeroPoint: zo, activationMin: act.min, activationMax: act.max)
      let n = rng.int(1...300)
      let a = rng.int8s(n), b = rng.int8s(n)
      var out = Guarded(count: n)
      out.withOutput { o in addReference(params: p, count: n, input1: a, input2: b, output: o) }
      #expect(out.guardsIntact)
      var mismatches = 0, farFromFloat = 0
      for i in 0..<n {
        let sa = wideMBQM(Int64(Int32(a[i]) - z1) << 20, p.input1Multiplier, p.input1Shift)
        let sb = wideMBQM(Int64(Int32(b[i]) - z2) << 20, p.input2Multiplier, p.input2Shift)
        let expected = refRequant(sa + sb, p.outputMultiplier, p.outputShift, zo, act.min, act.max)
        if out.output[i] != expected { mismatches += 1 }
        let real = (Double(s1) * Double(Int32(a[i]) - z1) + Double(s2) * Double(Int32(b[i]) - z2)) / Double(so)
        let floatQ = min(max((real.rounded() + Double(zo)), Double(act.min)), Double(act.max))
        if abs(Double(out.output[i]) - floatQ) > 1 { farFromFloat += 1 }
      }
      #expect(mismatches == 0, "add case \(caseIndex)")
      #expect(farFromFloat == 0, "add case \(caseIndex) strays > 1 LSB from float")
    }
  }
}

/// Staged double-rounding MBQM without narrowing (for Add's intermediate sums).
private func wideMBQM(_ x: Int64, _ m: Int32, _ shift: Int32) -> Int64 {
  let left = max(Int(shift), 0), right = max(-Int(shift), 0)
  let v = Int128(Int32(truncatingIfNeeded: x << left))
  var s = (v * Int128(m) + (Int128(1) << 30)) >> 31
  if s > Int128(Int32.max) { s = Int128(Int32.max) }
  if right == 0 { return Int64(s) }
  let half = Int128(1) << (right - 1)
  return Int64(s >= 0 ? (s + half) >> right : -((-s + half) >> right))
}

// MARK: - Softmax and logistic

@Suite("Reference kernels: softmax and logistic")
struct ActivationKernelTests {
  @Test("softmax: within 1 LSB of float softmax, in range, monotonic, sums to ~256")
  func softmaxRandom() {
    var rng = Rng(seed: 700)
    for caseIndex in 0..<300 {
      let scale = Float(rng.logUniform(-2, 0))   // 0.01 ... 1
      let beta: Float = rng.int(0...3) == 0 ? Float(0.5 + rng.unit()) : 1
      let params = prepareSoftmax(inputScale: scale, beta: beta)
      let rows = rng.int(1...4), depth = rng.int(1...40)
      let input = rng.int8s(rows * depth)
      var out = Guarded(count: rows * depth)
      out.withOutput { o in softmaxReference(params: params, rows: rows, depth: depth, input: input, output: o) }
      #expect(out.guardsIntact)
      let got = out.output
      for r in 0..<rows {
        let row = Array(input[(r * depth)..<((r + 1) * depth)])
        let o = Array(got[(r * depth)..<((r + 1) * depth)])
        let mx = Double(row.max()!)
        let exps = row.map { Foundation.exp(Double(beta) * Double(scale) * (Double($0) - mx)) }
        let sum = exps.reduce(0, +)
        for c in 0..<depth {
          let want = min((exps[c] / sum * 256).rounded() - 128, 127)
          #expect(abs(Double(o[c]) - want) <= 1, "softmax case \(caseIndex) row \(r) col \(c)")
        }
        // Monotonic: a larger logit never gets a smaller probability.
        for i in 0..<depth {
          for j in 0..<depth where row[i] > row[j] {
            #expect(o[i] >= o[j], "softmax case \(caseIndex) not monotonic")
          }
        }
        let total = o.reduce(0) { $0 + Int($1) + 128 }
        #expect(abs(total - 256) <= depth + 1, "softmax case \(caseIndex) sum \(total)")
      }
    }
  }

  @Test("softmax: the table kernel (the op's eval) gives the reference's bytes, cut taps included")
  func softmaxTableMatchesReference() {
    var rng = Rng(seed: 701)
    var cut = 0
    for caseIndex in 0..<400 {
      let scale = Float(rng.logUniform(-3, 1))   // 0.001 ... 10: large scales cut taps (diffMin)
      let beta: Float = rng.int(0...3) == 0 ? Float(0.25 + 2 * rng.unit()) : 1
      let params = prepareSoftmax(inputScale: scale, beta: beta)
      let rows = rng.int(1...4), depth = rng.int(1...300)
      let input = rng.int8s(rows * depth)
      var table = [Int32](repeating: -1, count: softmaxExpTableCount)
      fillSoftmaxExpTable(params: params, table: &table)
      cut += table.filter { $0 == 0 }.count > 0 ? 1 : 0
      var want = [Int8](repeating: 0, count: rows * depth)
      softmaxReference(params: params, rows: rows, depth: depth, input: input, output: &want)
      var got = Guarded(count: rows * depth)
      got.withOutput { o in softmaxTable(table: table, rows: rows, depth: depth, input: input, output: o) }
      #expect(got.guardsIntact)
      #expect(got.output == want, "softmax table case \(caseIndex): scale \(scale) beta \(beta)")
    }
    #expect(cut > 50, "cases with cut taps: \(cut)")
  }

  @Test("softmax: equal logits share the probability; one dominant logit gets 127")
  func softmaxExact() {
    let params = prepareSoftmax(inputScale: 1.0 / 16.0, beta: 1)
    var out = [Int8](repeating: 0, count: 4)
    softmaxReference(params: params, rows: 1, depth: 4, input: [5, 5, 5, 5], output: &out)
    #expect(out == [-64, -64, -64, -64])                // 1/4 * 256 - 128
    softmaxReference(params: params, rows: 1, depth: 4, input: [127, -128, -128, -128], output: &out)
    #expect(out == [127, -128, -128, -128])
  }

  @Test("logistic: all 256 inputs for random scales within 1 LSB of float, monotonic")
  func logisticRandom() {
    var rng = Rng(seed: 800)
    let input = (-128...127).map { Int8($0) }
    for caseIndex in 0..<300 {
      let scale = Float(caseIndex == 0 ? 1.0 / 16.0 : rng.logUniform(-3, 0))
      let zp = Int32(rng.int(-128...127))
      let params = prepareLogistic(inputScale: scale, inputZeroPoint: zp)
      var out = Guarded(count: 256)
      out.withOutput { o in logisticReference(params: params, count: 256, input: input, output: o) }
      #expect(out.guardsIntact)
      let got = out.output
      for i in 0..<256 {
        let x = Double(scale) * Double(Int32(input[i]) - zp)
        let want = min((256 / (1 + Foundation.exp(-x))).rounded() - 128, 127)
        #expect(abs(Double(got[i]) - want) <= 1, "logistic case \(caseIndex) input \(input[i])")
        if i > 0 { #expect(got[i] >= got[i - 1], "logistic case \(caseIndex) not monotonic") }
      }
      // sigmoid(0) = 1/2 -> exactly 0 in the output quantization.
      if zp >= -128 && zp <= 127 { #expect(got[Int(zp) + 128] == 0) }
    }
  }
}

// MARK: - Robustness: invalid or out-of-domain inputs never trap

@Suite("Reference kernels: no trap outside the valid domain")
struct KernelRobustnessTests {
  @Test("invalid shapes write nothing (the loader rejects them; kernels must not trap)")
  func invalidShapes() {
    let input = [Int8](repeating: 1, count: 64), filter = [Int8](repeating: 1, count: 64)
    let m: [Int32] = [Int32](repeating: 1 << 30, count: 8), s: [Int32] = [Int32](repeating: 0, count: 8)
    let params = ConvParams(inputOffset: 0, outputOffset: 0, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1,
                            padTop: 0, padLeft: 0, depthMultiplier: 1, activationMin: -128, activationMax: 127)
    var out = [Int8](repeating: 77, count: 64)
    m.withUnsafeBufferPointer { mp in
      s.withUnsafeBufferPointer { sp in
        let rq = ChannelRequant(multiplier: mp.baseAddress!, shift: sp.baseAddress!)
        // Cin 3 not a multiple of the filter's 2 input channels.
        conv2DReference(params: params, requant: rq, inputShape: Dims4(n: 1, h: 2, w: 2, c: 3), input: input,
                        filterShape: Dims4(n: 2, h: 1, w: 1, c: 2), filter: filter, bias: nil,
                        outputShape: Dims4(n: 1, h: 2, w: 2, c: 2), output: &out)
        // Zero and negative dimensions.
        conv2DReference(params: params, requant: rq, inputShape: Dims4(n: 1, h: 0, w: 2, c: 1), input: input,
                        filterShape: Dims4(n: 1, h: 1, w: 1, c: 1), filter: filter, bias: nil,
                        outputShape: Dims4(n: 1, h: -1, w: 2, c: 1), output: &out)
        // Depthwise with a channel count that is not Cin * multiplier.
        depthwiseConv2DReference(params: params, requant: rq, inputShape: Dims4(n: 1, h: 2, w: 2, c: 2), input: input,
                                 filterShape: Dims4(n: 1, h: 1, w: 1, c: 3), filter: filter, bias: nil,
                                 outputShape: Dims4(n: 1, h: 2, w: 2, c: 3), output: &out)
        fullyConnectedReference(params: FullyConnectedParams(inputOffset: 0, filterOffset: 0, outputOffset: 0,
                                                             activationMin: -128, activationMax: 127),
                                requant: rq, batches: 1, depth: -3, units: 2, input: input, filter: filter,
                                bias: nil, output: &out)
      }
    }
    let pool = PoolParams(strideH: 1, strideW: 1, filterH: 0, filterW: 2, padTop: 0, padLeft: 0,
                          activationMin: -128, activationMax: 127)
    maxPool2DReference(params: pool, inputShape: Dims4(n: 1, h: 2, w: 2, c: 1), input: input,
                       outputShape: Dims4(n: 1, h: 2, w: 2, c: 1), output: &out)
    averagePool2DReference(params: pool, inputShape: Dims4(n: 1, h: 2, w: 2, c: 1), input: input,
                           outputShape: Dims4(n: 1, h: 2, w: 2, c: 1), output: &out)
    softmaxReference(params: prepareSoftmax(inputScale: 0.1, beta: 1), rows: 1, depth: 0, input: input, output: &out)
    #expect(out.allSatisfy { $0 == 77 })
  }

  @Test("pool windows entirely in the padding do not trap (TFLM rejects them)")
  func emptyWindows() {
    let input: [Int8] = [10, 20, 30, 40]
    var out = [Int8](repeating: 77, count: 4)
    // padTop 5: every window of output row 0 lies above the image.
    let pool = PoolParams(strideH: 1, strideW: 1, filterH: 2, filterW: 2, padTop: 5, padLeft: 0,
                          activationMin: -128, activationMax: 127)
    maxPool2DReference(params: pool, inputShape: Dims4(n: 1, h: 2, w: 2, c: 1), input: input,
                       outputShape: Dims4(n: 1, h: 2, w: 2, c: 1), output: &out)
    #expect(out == [-128, -128, -128, -128])
    averagePool2DReference(params: pool, inputShape: Dims4(n: 1, h: 2, w: 2, c: 1), input: input,
                           outputShape: Dims4(n: 1, h: 2, w: 2, c: 1), output: &out)
    #expect(out == [0, 0, 0, 0])
  }

  @Test("softmax rows beyond TFLM's domain (thousands of equal logits) do not trap")
  func hugeSoftmaxRow() {
    let depth = 10_000
    let input = [Int8](repeating: 3, count: depth)
    var out = [Int8](repeating: 0, count: depth)
    softmaxReference(params: prepareSoftmax(inputScale: 0.05, beta: 1), rows: 1, depth: depth, input: input, output: &out)
    #expect(out.allSatisfy { $0 >= -128 && $0 <= -127 })
  }

  @Test("extreme requantization parameters do not trap")
  func extremeRequant() {
    for shift in [Int32.min, -100, -32, 31, 32, 100, Int32.max] {
      for x in [Int32.min, -1, 0, 1, Int32.max] {
        _ = multiplyByQuantizedMultiplier(x, Int32.max, shift)
        _ = roundingDivideByPOT(x, shift)
        _ = saturatingRoundingMultiplyByPOT(x, shift)
        _ = requantizeToInt8(x, multiplier: Int32.min, shift: shift, outputOffset: Int32.max,
                             activationMin: Int32.min, activationMax: Int32.max)
      }
      _ = calculateInputRadius(inputIntegerBits: 5, inputLeftShift: shift)
      _ = calculateInputRadius(inputIntegerBits: shift, inputLeftShift: 3)
    }
    for scale: Float in [0, -1, .infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude] {
      _ = prepareSoftmax(inputScale: scale, beta: 1)
      _ = prepareLogistic(inputScale: scale, inputZeroPoint: 0)
      _ = prepareAdd(input1Scale: scale, input1ZeroPoint: 0, input2Scale: 1, input2ZeroPoint: 0,
                     outputScale: scale, outputZeroPoint: 0, activationMin: -128, activationMax: 127)
      _ = convRequant(inputScale: scale, filterScale: 1, outputScale: scale)
      _ = quantizedActivationRange(realMin: 0, realMax: 6, outputScale: scale, outputZeroPoint: 0)
    }
  }
}
