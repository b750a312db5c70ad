// The optimised bilinear resize (AVX2 kernel; also on the AVX-512 path)
// against resizeBilinearReference, byte for byte, on seeded random shapes:
// upscales and downscales, each coordinate option, channel counts around the
// 16-channel step, inputs at the int8 extremes, guard bytes after the output.

import Testing
@testable import CNNRuntime
import CNNTools

@Suite("Optimised kernels: resize bilinear")
struct ResizeOptimizedTests {
  @Test func randomShapesMatchTheReference() throws {
    let paths = optimisedPathsOnThisCPU()
    if paths.isEmpty { print("notice: no AVX2 on this CPU; the optimised bilinear resize is not run here"); return }
    var rng = SplitMix64(seed: 41)
    var cases = 0
    for channels in [1, 3, 15, 16, 17, 31, 32, 33, 64, 70] {
      for _ in 0..<12 {
        let inH = rng.int(1...9), inW = rng.int(1...9)
        let outH = rng.int(1...20), outW = rng.int(1...20), batches = rng.int(1...2)
        let mode = rng.int(0...2)
        let align = mode == 1, half = mode == 2
        var rows = [BilinearTap](repeating: BilinearTap(lower: 0, upper: 0, fraction: 0), count: outH)
        var cols = [BilinearTap](repeating: BilinearTap(lower: 0, upper: 0, fraction: 0), count: outW)
        guard prepareBilinearTaps(inSize: inH, outSize: outH, alignCorners: align, halfPixelCenters: half, into: &rows),
              prepareBilinearTaps(inSize: inW, outSize: outW, alignCorners: align, halfPixelCenters: half, into: &cols)
        else { continue }
        let extremes = rng.int(0...3) == 0
        let x = (0..<(batches * inH * inW * channels)).map { _ in
          extremes ? (rng.bool() ? Int8(-128) : 127) : Int8(truncatingIfNeeded: rng.int(-128...127))
        }
        let inShape = Dims4(n: batches, h: inH, w: inW, c: channels)
        let outShape = Dims4(n: batches, h: outH, w: outW, c: channels)
        let n = batches * outH * outW * channels
        var want = [Int8](repeating: 0, count: n)
        resizeBilinearReference(inputShape: inShape, input: x, rows: rows, cols: cols, outputShape: outShape, output: &want)
        for isa in paths {
          var got = [Int8](repeating: 0x5A, count: n + 32)
          resizeBilinear(isa: isa, inputShape: inShape, input: x, rows: rows, cols: cols, outputShape: outShape, output: &got)
          #expect(Array(got[..<n]) == want, "\(KernelISA.name(isa)) \(inH)x\(inW) -> \(outH)x\(outW) c\(channels) mode \(mode)")
          #expect(got[n...].allSatisfy { $0 == 0x5A }, "wrote past the output")
        }
        cases += 1
      }
    }
    #expect(cases >= 100)
  }
}
