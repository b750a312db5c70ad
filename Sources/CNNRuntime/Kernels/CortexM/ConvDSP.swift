// Cortex-M4 DSP kernels (Armv7E-M: SXTB16, SADD16, SMLAD, SMLABB/SMLATT;
// cnnrt_dsp.h) for Conv2D, depthwise Conv2D and FullyConnected, compiled only into builds with `-D CNNRT_DSP`
// (`make lib ARCH=cortex-m4`). They compute the reference kernels' sums in
// another order: four int8 inputs per 32-bit load, split into two pairs of
// int16 (x + input_offset) and multiplied-accumulated with the matching
// weight pairs, two filters per input load. Integer sums modulo 2^32 do not
// depend on order, so the int32 accumulators, and so the output bytes, are
// those of the reference kernels (TFLM's). Each entry point returns false
// when the op is outside what it covers; the reference kernel then runs.
import _CNNRuntimeShims

#if CNNRT_DSP

/// Adds Σ (x[c] + offset) × w0[c] to `a0` and Σ (x[c] + offset) × w1[c] to
/// `a1`, c < n. `offset2` is the offset in both 16-bit halves; every
/// x + offset must fit in int16 (the callers check |offset| <= 255).
/// Not inlined: as a leaf function its loop keeps everything in registers
/// (inlined into the convolution's loop nest it spilled to the stack).
@inline(never)
private func dot2(_ x: UnsafePointer<Int8>, _ w0: UnsafePointer<Int8>, _ w1: UnsafePointer<Int8>, _ n: Int,
                  _ offset: Int32, _ offset2: Int32, _ a0: Int32, _ a1: Int32) -> (Int32, Int32) {
  var s0 = a0, s1 = a1
  var px = x, p0 = w0, p1 = w1
  var k = n >> 2
  while k > 0 {
    let xv = cnnrt_word(px)
    let xEven = cnnrt_sadd16(cnnrt_sxtb16(xv), offset2)
    let xOdd = cnnrt_sadd16(cnnrt_sxtb16_ror8(xv), offset2)
    let v0 = cnnrt_word(p0), v1 = cnnrt_word(p1)
    s0 = cnnrt_smlad(xEven, cnnrt_sxtb16(v0), s0)
    s0 = cnnrt_smlad(xOdd, cnnrt_sxtb16_ror8(v0), s0)
    s1 = cnnrt_smlad(xEven, cnnrt_sxtb16(v1), s1)
    s1 = cnnrt_smlad(xOdd, cnnrt_sxtb16_ror8(v1), s1)
    px += 4
    p0 += 4
    p1 += 4
    k &-= 1
  }
  k = n & 3
  while k > 0 {
    let xc = Int32(px.pointee) &+ offset
    s0 = s0 &+ xc &* Int32(p0.pointee)
    s1 = s1 &+ xc &* Int32(p1.pointee)
    px += 1
    p0 += 1
    p1 += 1
    k &-= 1
  }
  return (s0, s1)
}

/// The same for one filter.
@inline(never)
private func dot1(_ x: UnsafePointer<Int8>, _ w: UnsafePointer<Int8>, _ n: Int,
                  _ offset: Int32, _ offset2: Int32, _ a: Int32) -> Int32 {
  var s = a
  var px = x, pw = w
  var k = n >> 2
  while k > 0 {
    let xv = cnnrt_word(px), v = cnnrt_word(pw)
    s = cnnrt_smlad(cnnrt_sadd16(cnnrt_sxtb16(xv), offset2), cnnrt_sxtb16(v), s)
    s = cnnrt_smlad(cnnrt_sadd16(cnnrt_sxtb16_ror8(xv), offset2), cnnrt_sxtb16_ror8(v), s)
    px += 4
    pw += 4
    k &-= 1
  }
  k = n & 3
  while k > 0 {
    s = s &+ (Int32(px.pointee) &+ offset) &* Int32(pw.pointee)
    px += 1
    pw += 1
    k &-= 1
  }
  return s
}

@inline(__always)
private func halves(_ offset: Int32) -> Int32 { (offset & 0xFFFF) | (offset &<< 16) }

/// Conv2D (not grouped, at least 4 input channels) with the DSP
/// instructions; false (nothing written) otherwise.
func conv2DDSP(
  params: ConvParams, requant: ChannelRequant,
  inputShape: Dims4, input: UnsafePointer<Int8>,
  filterShape: Dims4, filter: UnsafePointer<Int8>,
  bias: UnsafePointer<Int32>?,
  outputShape: Dims4, output: UnsafeMutablePointer<Int8>
) -> Bool {
  let batches = inputShape.n
  let inH = inputShape.h, inW = inputShape.w, inC = inputShape.c
  let outH = outputShape.h, outW = outputShape.w, outC = outputShape.c
  let kH = filterShape.h, kW = filterShape.w
  let offset = params.inputOffset
  guard batches > 0, inH > 0, inW > 0, inC >= 4, outH > 0, outW > 0, outC > 0, kH > 0, kW > 0,
        filterShape.c == inC, filterShape.n == outC, outputShape.n == batches,
        offset >= -255, offset <= 255 else { return false }
  let offset2 = halves(offset)
  let filterStride = kH &* kW &* inC
  var outIndex = 0
  for b in 0..<batches {
    for oy in 0..<outH {
      let inYOrigin = oy &* params.strideH &- params.padTop
      for ox in 0..<outW {
        let inXOrigin = ox &* params.strideW &- params.padLeft
        var oc = 0
        while oc < outC {
          let pair = oc &+ 1 < outC
          var acc0: Int32 = 0, acc1: Int32 = 0
          for ky in 0..<kH {
            let iy = inYOrigin &+ ky &* params.dilationH
            if iy < 0 || iy >= inH { continue }
            for kx in 0..<kW {
              let ix = inXOrigin &+ kx &* params.dilationW
              if ix < 0 || ix >= inW { continue }
              let pixel: Int = (b &* inH &+ iy) &* inW &+ ix
              let x = input + pixel &* inC
              let tap: Int = ky &* kW &+ kx
              let w0 = filter + (oc &* filterStride &+ tap &* inC)
              if pair {
                (acc0, acc1) = dot2(x, w0, w0 + filterStride, inC, offset, offset2, acc0, acc1)
              } else {
                acc0 = dot1(x, w0, inC, offset, offset2, acc0)
              }
            }
          }
          if let bias { acc0 = acc0 &+ bias[oc] }
          output[outIndex] = requantizeToInt8(
            acc0, multiplier: requant.multiplier[oc], shift: requant.shift[oc], outputOffset: params.outputOffset,
            activationMin: params.activationMin, activationMax: params.activationMax)
          if pair {
            if let bias { acc1 = acc1 &+ bias[oc &+ 1] }
            output[outIndex &+ 1] = requantizeToInt8(
              acc1, multiplier: requant.multiplier[oc &+ 1], shift: requant.shift[oc &+ 1],
              outputOffset: params.outputOffset,
              activationMin: params.activationMin, activationMax: params.activationMax)
          }
          let step = pair ? 2 : 1
          outIndex &+= step
          oc &+= step
        }
      }
    }
  }
  return true
}

/// Depthwise Conv2D with depth multiplier 1 and at least 4 channels: four
/// channels per 32-bit load of input and weights, one accumulator per
/// channel (SMLABB/SMLATT on the sign-extended halves); false otherwise.
func depthwiseConv2DDSP(
  params: ConvParams, requant: ChannelRequant,
  inputShape: Dims4, input: UnsafePointer<Int8>,
  filterShape: Dims4, filter: UnsafePointer<Int8>,
  bias: UnsafePointer<Int32>?,
  outputShape: Dims4, output: UnsafeMutablePointer<Int8>
) -> Bool {
  let batches = inputShape.n
  let inH = inputShape.h, inW = inputShape.w, channels = inputShape.c
  let outH = outputShape.h, outW = outputShape.w
  let kH = filterShape.h, kW = filterShape.w
  let offset = params.inputOffset
  guard params.depthMultiplier == 1, batches > 0, inH > 0, inW > 0, channels >= 4, outH > 0, outW > 0,
        kH > 0, kW > 0, outputShape.n == batches, outputShape.c == channels, filterShape.c == channels,
        filterShape.n == 1, offset >= -255, offset <= 255 else { return false }
  let offset2 = halves(offset)
  for b in 0..<batches {
    for oy in 0..<outH {
      let inYOrigin = oy &* params.strideH &- params.padTop
      for ox in 0..<outW {
        let inXOrigin = ox &* params.strideW &- params.padLeft
        let outBase: Int = ((b &* outH &+ oy) &* outW &+ ox) &* channels
        var c = 0
        while c < channels {
          let four = c &+ 4 <= channels
          var a0: Int32 = 0, a1: Int32 = 0, a2: Int32 = 0, a3: Int32 = 0
          for ky in 0..<kH {
            let iy = inYOrigin &+ ky &* params.dilationH
            if iy < 0 || iy >= inH { continue }
            for kx in 0..<kW {
              let ix = inXOrigin &+ kx &* params.dilationW
              if ix < 0 || ix >= inW { continue }
              let pixel: Int = (b &* inH &+ iy) &* inW &+ ix
              let x = input + (pixel &* channels &+ c)
              let tap: Int = ky &* kW &+ kx
              let w = filter + (tap &* channels &+ c)
              if four {
                let xv = cnnrt_word(x), wv = cnnrt_word(w)
                let xEven = cnnrt_sadd16(cnnrt_sxtb16(xv), offset2)
                let xOdd = cnnrt_sadd16(cnnrt_sxtb16_ror8(xv), offset2)
                let wEven = cnnrt_sxtb16(wv), wOdd = cnnrt_sxtb16_ror8(wv)
                a0 = cnnrt_smlabb(xEven, wEven, a0)
                a2 = cnnrt_smlatt(xEven, wEven, a2)
                a1 = cnnrt_smlabb(xOdd, wOdd, a1)
                a3 = cnnrt_smlatt(xOdd, wOdd, a3)
              } else {
                a0 = a0 &+ (Int32(x.pointee) &+ offset) &* Int32(w.pointee)
              }
            }
          }
          let count = four ? 4 : 1
          var k = 0
          while k < count {
            var acc = k == 0 ? a0 : (k == 1 ? a1 : (k == 2 ? a2 : a3))
            let oc = c &+ k
            if let bias { acc = acc &+ bias[oc] }
            output[outBase &+ oc] = requantizeToInt8(
              acc, multiplier: requant.multiplier[oc], shift: requant.shift[oc], outputOffset: params.outputOffset,
              activationMin: params.activationMin, activationMax: params.activationMax)
            k &+= 1
          }
          c &+= count
        }
      }
    }
  }
  return true
}

/// FullyConnected (weights without an offset, depth at least 4) with the
/// DSP instructions; false (nothing written) otherwise.
func fullyConnectedDSP(
  params: FullyConnectedParams, requant: ChannelRequant,
  batches: Int, depth: Int, units: Int,
  input: UnsafePointer<Int8>, filter: UnsafePointer<Int8>,
  bias: UnsafePointer<Int32>?,
  output: UnsafeMutablePointer<Int8>
) -> Bool {
  let offset = params.inputOffset
  guard batches > 0, depth >= 4, units > 0, params.filterOffset == 0, offset >= -255, offset <= 255 else {
    return false
  }
  let offset2 = halves(offset)
  for b in 0..<batches {
    let row = input + b &* depth
    var u = 0
    while u < units {
      let pair = u &+ 1 < units
      var acc0: Int32 = 0, acc1: Int32 = 0
      let w0 = filter + u &* depth
      if pair {
        (acc0, acc1) = dot2(row, w0, w0 + depth, depth, offset, offset2, 0, 0)
      } else {
        acc0 = dot1(row, w0, depth, offset, offset2, 0)
      }
      var k = 0
      while k < (pair ? 2 : 1) {
        var acc = k == 0 ? acc0 : acc1
        if let bias { acc = acc &+ bias[u &+ k] }
        output[b &* units &+ u &+ k] = requantizeToInt8(
          acc, multiplier: requant.multiplier[u &+ k], shift: requant.shift[u &+ k],
          outputOffset: params.outputOffset,
          activationMin: params.activationMin, activationMax: params.activationMax)
        k &+= 1
      }
      u &+= pair ? 2 : 1
    }
  }
  return true
}

#endif
