// uint8 image → int8 input: resizing, channel conversion, value tables.
import Testing
@testable import CNNRuntime

/// Identity table (q = p - 128) for up to 4 channels.
private let identityLUT: [Int8] = (0..<4).flatMap { _ in (0..<256).map { Int8($0 - 128) } }

private func fill(_ pixels: [UInt8], w: Int, h: Int, c: Int, out: Dims4, swap: Bool = false,
                  stride: Int? = nil) -> [Int] {
  var dst = [Int8](repeating: 0, count: out.count)
  pixels.withUnsafeBufferPointer { px in
    identityLUT.withUnsafeBufferPointer { lut in
      dst.withUnsafeMutableBufferPointer { d in
        let image = ImageView(pixels: px.baseAddress!, width: w, height: h, channels: c, rowStride: stride ?? w * c)
        fillInput(from: image, into: d.baseAddress!, dims: out, lut: lut.baseAddress!, swapRB: swap)
      }
    }
  }
  return dst.map { Int($0) + 128 }
}

@Suite struct ImageInputTests {
  @Test func sameSizeCopiesPixels() {
    let px: [UInt8] = (0..<(5 * 4)).map { UInt8($0 * 9) }
    #expect(fill(px, w: 5, h: 4, c: 1, out: Dims4(n: 1, h: 4, w: 5, c: 1)) == px.map(Int.init))
  }

  @Test func rowStrideSkipsPadding() {
    // 3x2 image stored with 5-byte rows; the 2 padding bytes must be ignored.
    let px: [UInt8] = [1, 2, 3, 99, 99, 4, 5, 6, 99, 99]
    #expect(fill(px, w: 3, h: 2, c: 1, out: Dims4(n: 1, h: 2, w: 3, c: 1), stride: 5) == [1, 2, 3, 4, 5, 6])
  }

  @Test func halvingAveragesEachTwoByTwoBlock() {
    // 8x6 image of 2x2 blocks with values 10*(by*4+bx) + noise that averages out.
    var px = [UInt8](repeating: 0, count: 8 * 6)
    for y in 0..<6 { for x in 0..<8 {
      let base = 10 * ((y / 2) * 4 + x / 2) + 20
      px[y * 8 + x] = UInt8(base + ((x + y) % 2 == 0 ? 3 : -3))
    } }
    let out = fill(px, w: 8, h: 6, c: 1, out: Dims4(n: 1, h: 3, w: 4, c: 1))
    #expect(out == (0..<12).map { 10 * $0 + 20 })
  }

  @Test func constantImageStaysConstantAtAnySize() {
    let px = [UInt8](repeating: 77, count: 13 * 7 * 3)
    for (h, w) in [(28, 28), (3, 5), (7, 13), (40, 9)] {
      let out = fill(px, w: 13, h: 7, c: 3, out: Dims4(n: 1, h: h, w: w, c: 3))
      #expect(out.allSatisfy { $0 == 77 }, "\(h)x\(w)")
    }
  }

  @Test func enlargingInterpolatesBetweenNeighbours() {
    // A horizontal ramp 0, 100, 200 enlarged to width 6: monotonic, within the
    // source range, ends at the source ends.
    let px: [UInt8] = [0, 100, 200]
    let out = fill(px, w: 3, h: 1, c: 1, out: Dims4(n: 1, h: 1, w: 6, c: 1))
    #expect(out.first == 0 && out.last == 200)
    #expect(zip(out, out.dropFirst()).allSatisfy { $0 <= $1 })
    // Pixel centres: source positions -0.25, 0.25, 0.75, 1.25, 1.75, 2.25 (clamped).
    #expect(out == [0, 25, 75, 125, 175, 200])
  }

  @Test func channelConversions() {
    // RGB → gray uses luma weights 77/150/29 (per 256).
    let rgb: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 90, 90, 90]
    let gray = fill(rgb, w: 4, h: 1, c: 3, out: Dims4(n: 1, h: 1, w: 4, c: 1))
    #expect(gray == [(77 * 255 + 128) >> 8, (150 * 255 + 128) >> 8, (29 * 255 + 128) >> 8, 90])
    // gray → RGB replicates; RGBA drops alpha; BGR models get swapped channels.
    #expect(fill([9, 200], w: 2, h: 1, c: 1, out: Dims4(n: 1, h: 1, w: 2, c: 3)) == [9, 9, 9, 200, 200, 200])
    #expect(fill([1, 2, 3, 250], w: 1, h: 1, c: 4, out: Dims4(n: 1, h: 1, w: 1, c: 3)) == [1, 2, 3])
    #expect(fill([1, 2, 3], w: 1, h: 1, c: 3, out: Dims4(n: 1, h: 1, w: 1, c: 3), swap: true) == [3, 2, 1])
  }

  @Test func compatibility() {
    #expect(imageCompatible(channels: 1, modelChannels: 3))
    #expect(imageCompatible(channels: 4, modelChannels: 1))
    #expect(!imageCompatible(channels: 2, modelChannels: 1))
    #expect(!imageCompatible(channels: 3, modelChannels: 2))
  }
}
