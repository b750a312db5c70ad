// Shape ops (StridedSlice 40, Transpose 41, DepthToSpace 42, SpaceToDepth 43,
// Split 44): models built with ModelBuilder and run through the C API
// against plain index formulas written here (not the runtime's strided-copy
// addressing), several-output Split feeding later ops (the memory planner
// keeps every output alive), and the loader's refusals of bad records.

import Testing
@testable import CNNRuntime
@testable import CNNTools

private func randomBytes(_ n: Int, seed: UInt64) -> [Int8] {
  var rng = SplitMix64(seed: seed)
  return (0..<n).map { _ in Int8(truncatingIfNeeded: rng.next()) }
}

/// Row-major index of `i` in `shape`.
private func flat(_ i: [Int], _ shape: [Int]) -> Int { zip(i, shape).reduce(0) { $0 * $1.1 + $1.0 } }

/// Every index of `shape`, in row-major order.
private func indices(_ shape: [Int]) -> [[Int]] {
  var all: [[Int]] = [[]]
  for d in shape { all = all.flatMap { p in (0..<d).map { p + [$0] } } }
  return all
}

/// Runs a one-input model; returns every output.
private func run(_ b: ModelBuilder, _ x: [Int8]) throws -> [[Int8]] {
  try RuntimeModel(bytes: try b.serialize()).run(inputs: [x])
}

@Suite struct ShapeOpKernelTests {
  @Test func stridedSliceMatchesIndexFormula() throws {
    var rng = SplitMix64(seed: 0x511CE)
    func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
    for trial in 0..<60 {
      let rank = pick(1...5)
      let shape = (0..<rank).map { _ in pick(1...6) }
      var begin: [Int] = [], step: [Int] = [], count: [Int] = []
      for d in shape {
        let s = [1, 2, 3, -1, -2][pick(0...4)]
        let b = pick(0...(d - 1))
        let room = s > 0 ? (d - 1 - b) / s : b / -s
        begin.append(b); step.append(s); count.append(pick(1...(room + 1)))
      }
      var m = ModelBuilder()
      let x = try m.addActivation(shape: shape, scale: 0.1, zeroPoint: 3)
      let y = try m.stridedSlice(x, begin: begin, step: step, count: count)
      try m.markInput(x); try m.markOutput(y)
      let data = randomBytes(shape.reduce(1, *), seed: UInt64(trial))
      let got = try run(m, data)[0]
      let want = indices(count).map { o in data[flat(zip(o, zip(begin, step)).map { $1.0 + $0 * $1.1 }, shape)] }
      #expect(got == want, "trial \(trial): \(shape) begin \(begin) step \(step) count \(count)")
    }
  }

  @Test func transposeMatchesIndexFormula() throws {
    for (shape, perm) in [([2, 3, 4], [2, 0, 1]), ([1, 3, 4, 5], [0, 3, 1, 2]), ([2, 3, 2, 3, 2], [4, 2, 0, 3, 1]), ([7, 5], [1, 0])] {
      var m = ModelBuilder()
      let x = try m.addActivation(shape: shape, scale: 0.1, zeroPoint: -7)
      let y = try m.transpose(x, perm: perm)
      try m.markInput(x); try m.markOutput(y)
      let data = randomBytes(shape.reduce(1, *), seed: 9)
      let outShape = perm.map { shape[$0] }
      let want = indices(outShape).map { o -> Int8 in
        var i = [Int](repeating: 0, count: shape.count)
        for k in perm.indices { i[perm[k]] = o[k] }
        return data[flat(i, shape)]
      }
      #expect(try run(m, data)[0] == want, "\(shape) perm \(perm)")
    }
  }

  @Test func depthToSpaceAndBackMatchIndexFormulas() throws {
    for (h, w, c, b) in [(3, 4, 12, 2), (2, 3, 20, 2), (2, 2, 27, 3), (1, 1, 5, 1)] {
      var m = ModelBuilder()
      let x = try m.addActivation(shape: [1, h, w, c], scale: 0.1, zeroPoint: 0)
      let y = try m.depthToSpace(x, blockSize: b)
      let z = try m.spaceToDepth(y, blockSize: b)
      try m.markInput(x); try m.markOutput(y); try m.markOutput(z)
      let data = randomBytes(h * w * c, seed: UInt64(c))
      let oc = c / (b * b)
      let want = indices([1, h * b, w * b, oc]).map { o in
        data[flat([0, o[1] / b, o[2] / b, ((o[1] % b) * b + o[2] % b) * oc + o[3]], [1, h, w, c])]
      }
      let outs = try run(m, data)
      #expect(outs[0] == want, "depth to space \(h)x\(w)x\(c) b \(b)")
      #expect(outs[1] == data, "space to depth undoes it")
    }
  }

  @Test func gatherMatchesIndexFormula() throws {
    for (shape, axis, idx) in [([1, 3, 4, 5], 3, [2, 0, 4, 4]), ([6, 2], 0, [5, 0, 5]), ([2, 3, 2, 3, 2], 2, [1])] {
      var m = ModelBuilder()
      let x = try m.addActivation(shape: shape, scale: 0.1, zeroPoint: 0)
      let y = try m.gather(x, axis: axis, indices: idx)
      try m.markInput(x); try m.markOutput(y)
      let data = randomBytes(shape.reduce(1, *), seed: 3)
      var outShape = shape
      outShape[axis] = idx.count
      let want = indices(outShape).map { o -> Int8 in
        var i = o
        i[axis] = idx[o[axis]]
        return data[flat(i, shape)]
      }
      #expect(try run(m, data)[0] == want, "\(shape) axis \(axis) indices \(idx)")
    }
  }

  /// Channel indices that interleave the two halves (ShuffleNet's channel
  /// shuffle of two groups) run `interleaveHalves`; the same indices with
  /// the last two swapped run the general gather. Both against the index
  /// formula (the model's default path).
  @Test func gatherInterleavingTwoHalvesMatchesIndexFormula() throws {
    for c in [2, 6, 20, 32, 34, 58, 64, 116, 232] {
      let interleave = (0..<c).map { $0 % 2 == 0 ? $0 / 2 : c / 2 + $0 / 2 }
      var swapped = interleave
      swapped.swapAt(c - 2, c - 1)
      for idx in [interleave, swapped] {
        var m = ModelBuilder()
        let x = try m.addActivation(shape: [1, 3, 5, c], scale: 0.1, zeroPoint: 0)
        let y = try m.gather(x, axis: 3, indices: idx)
        try m.markInput(x); try m.markOutput(y)
        let data = randomBytes(15 * c, seed: UInt64(c))
        let want = (0..<15).flatMap { p in idx.map { data[p * c + $0] } }
        #expect(try run(m, data)[0] == want, "\(c) channels, \(idx == interleave ? "interleave" : "swapped")")
      }
    }
  }

  /// The interleave on the portable path and every optimised path of this
  /// CPU (AVX2: whole 16-byte steps, the last one overlapping when 16 does
  /// not divide the half; halves under 16 take its loop), with guard bytes
  /// after the output.
  @Test func interleaveHalvesOnEveryPath() {
    for half in [1, 3, 10, 15, 16, 17, 29, 32, 58, 116] {
      for rows in [1, 7] {
        let data = randomBytes(rows * 2 * half, seed: UInt64(half * 10 + rows))
        let want = (0..<rows).flatMap { r in (0..<2 * half).map { data[r * 2 * half + ($0 % 2) * half + $0 / 2] } }
        for isa in [KernelISA.portable] + optimisedPathsOnThisCPU() {
          var got = [Int8](repeating: 0x5A, count: want.count + 32)
          data.withUnsafeBufferPointer { i in
            got.withUnsafeMutableBufferPointer { o in
              interleaveHalves(isa: isa, rows: rows, half: half, input: i.baseAddress!, output: o.baseAddress!)
            }
          }
          #expect(Array(got[..<want.count]) == want, "half \(half), rows \(rows), path \(isa)")
          #expect(got[want.count...].allSatisfy { $0 == 0x5A }, "half \(half), path \(isa) wrote past the output")
        }
      }
    }
  }

  /// Split's outputs (SPLIT, SPLIT_V, UNPACK) are alive together; the parts
  /// feed later ops and model outputs in a different order.
  @Test func splitOutputsFeedLaterOps() throws {
    var m = ModelBuilder()
    let x = try m.addActivation(shape: [1, 3, 4, 13], scale: 0.1, zeroPoint: 1)
    let parts = try m.split(x, axis: 3, sizes: [2, 7, 4])
    let t = try m.transpose(parts[0], perm: [0, 3, 1, 2])
    let u = try m.split(parts[2], axis: 3, sizes: [1, 1, 1, 1], unpack: true)
    try m.markInput(x)
    for o in [u[3], t, parts[1], u[0]] { try m.markOutput(o) }
    let data = randomBytes(3 * 4 * 13, seed: 44)
    func channels(_ r: Range<Int>) -> [Int8] { (0..<12).flatMap { p in r.map { data[p * 13 + $0] } } }
    let outs = try run(m, data)
    #expect(outs[0] == channels(12..<13))
    #expect(outs[2] == channels(2..<9))
    #expect(outs[3] == channels(9..<10))
    let p0 = channels(0..<2)
    #expect(outs[1] == (0..<2).flatMap { c in (0..<12).map { p0[$0 * 2 + c] } })
  }
}

// MARK: - Loader refusals




/// Overwrites int32 `k` of constant tensor `index`.
private func editConstant(_ bytes: [UInt8], _ index: Int, _ k: Int, _ value: Int32) -> [UInt8] {
  patched(bytes) { base, h in
    let r = TensorRecord.read(from: base + Int(h.tensorTableOffset) + index * ModelFormat.tensorRecordSize)
    base.storeBytes(of: value.littleEndian, toByteOffset: Int(r.dataOffset) + 4 * k, as: Int32.self)
  }
}


/// x [1,4,6,8] (tensor 0) → op 0 strided slice (params tensor 1, output 2:
/// [1,3,3,8] = rows 1…3, columns 0,2,4) → op 1 transpose (perm tensor 3,
/// output 4: [1,8,3,3]).
private func sliceTransposeModel() throws -> [UInt8] {
  var m = ModelBuilder()
  let x = try m.addActivation(shape: [1, 4, 6, 8], scale: 0.1, zeroPoint: 2)
  let s = try m.stridedSlice(x, begin: [0, 1, 0, 0], step: [1, 1, 2, 1], count: [1, 3, 3, 8])
  let t = try m.transpose(s, perm: [0, 3, 1, 2])
  try m.markInput(x); try m.markOutput(t)
  return try m.serialize()
}

/// x [1,4,6,8] (tensor 0) → op 0 depth to space b 2 (output 1 [1,8,12,2])
/// → op 1 space to depth b 2 (output 2 [1,4,6,8]) → op 2 split along
/// axis 3 (outputs 3, 4: [1,4,6,3], [1,4,6,5]).
private func blockSplitModel() throws -> [UInt8] {
  var m = ModelBuilder()
  let x = try m.addActivation(shape: [1, 4, 6, 8], scale: 0.1, zeroPoint: 2)
  let d = try m.depthToSpace(x, blockSize: 2)
  let s = try m.spaceToDepth(d, blockSize: 2)
  let parts = try m.split(s, axis: 3, sizes: [3, 5])
  try m.markInput(x); try m.markOutput(parts[0]); try m.markOutput(parts[1])
  return try m.serialize()
}

private let badOp = CNNStatus.badOp
private let shapeMismatch = CNNStatus.shapeMismatch

@Suite struct ShapeOpLoaderTests {
  @Test func validModelsLoad() throws {
    #expect(loadFailure(try sliceTransposeModel()) == nil)
    #expect(loadFailure(try blockSplitModel()) == nil)
  }

  @Test func badPermutationsAreRejected() throws {
    let good = try sliceTransposeModel()
    expectLoadFailure(op: 1, editConstant(good, 3, 1, 0), badOp, "not a permutation")    // [0, 0, 1, 2]
    expectLoadFailure(op: 1, editConstant(good, 3, 1, 4), badOp, "not a permutation")    // axis 4 of rank 4
    expectLoadFailure(op: 1, editConstant(good, 3, 1, -1), badOp, "not a permutation")
    // A permutation the output shape does not follow ([0, 2, 1, 3]).
    expectLoadFailure(op: 1, editConstant(editConstant(editConstant(good, 3, 1, 2), 3, 2, 1), 3, 3, 3), shapeMismatch, "perm[k]")
    expectLoadFailure(op: 1, editTensor(good, 4) { $0.rank = 3; $0.dims = (8, 3, 3, 0, 0) }, shapeMismatch, "rank")
    expectLoadFailure(op: 1, editTensor(good, 4) { $0.zeroPoint = 3 }, badOp, "same scale and zero point")
    expectLoadFailure(op: 1, editTensor(good, 3) { $0.dims = (3, 0, 0, 0, 0); $0.dataSize = 12 }, badOp, "permutation")
  }

  @Test func slicesOutsideTheTensorAreRejected() throws {
    let good = try sliceTransposeModel()
    // params [rank 4, 3]: axis k at 3k (first), 3k + 1 (step), 3k + 2 (count).
    expectLoadFailure(op: 0, editConstant(good, 1, 3, 2), shapeMismatch, "outside the input")   // rows 2…4 of 4
    expectLoadFailure(op: 0, editConstant(good, 1, 3, -1), shapeMismatch, "outside the input")
    expectLoadFailure(op: 0, editConstant(good, 1, 7, 3), shapeMismatch, "outside the input")   // columns 0, 3, 6 of 6
    expectLoadFailure(op: 0, editConstant(good, 1, 7, -2), shapeMismatch, "outside the input")  // columns 0, −2, −4
    expectLoadFailure(op: 0, editConstant(good, 1, 7, 0), badOp, "non-zero")
    expectLoadFailure(op: 0, editConstant(good, 1, 11, 9), badOp, "count")
    expectLoadFailure(op: 0, editConstant(good, 1, 11, 0), badOp, "count")
    // Backwards from the last column is fine ([1, 3, 3, 8]: columns 4, 2, 0).
    #expect(loadFailure(editConstant(editConstant(good, 1, 6, 4), 1, 7, -2)) == nil)
    expectLoadFailure(op: 0, editTensor(good, 2) { $0.dims = (1, 3, 2, 8, 0) }, shapeMismatch, "slice counts")
    expectLoadFailure(op: 0, editTensor(good, 1) { $0.rank = 1; $0.dims = (6, 0, 0, 0, 0); $0.dataSize = 24 }, badOp, "[rank, 3]")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.activation = FusedActivation.relu.rawValue }, badOp, "fused activation")
  }

  @Test func blockSizesThatDoNotDivideAreRejected() throws {
    let good = try blockSplitModel()
    expectLoadFailure(op: 0, editOp(good, 0) { $0.strideH = 3; $0.strideW = 3 }, shapeMismatch, "multiple of block size")
    expectLoadFailure(op: 1, editOp(good, 1) { $0.strideH = 5; $0.strideW = 5 }, shapeMismatch, "multiples of the block size")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.strideW = 1 }, badOp, "block size")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.strideH = 0; $0.strideW = 0 }, badOp, "block size")
    expectLoadFailure(op: 0, editTensor(good, 1) { $0.dims = (1, 12, 8, 2, 0) }, shapeMismatch, "[N, H*b, W*b, C/(b*b)]")
    expectLoadFailure(op: 1, editTensor(good, 2) { $0.dims = (1, 6, 4, 8, 0) }, shapeMismatch, "[N, H/b, W/b, C*b*b]")
    expectLoadFailure(op: 0, editTensor(good, 1) { $0.rank = 3; $0.dims = (8, 12, 2, 0, 0) }, shapeMismatch, "rank 4")
  }

  @Test func splitSizesThatDoNotAddUpAreRejected() throws {
    let good = try blockSplitModel()
    expectLoadFailure(op: 2, editTensor(good, 4) { $0.dims = (1, 4, 6, 4, 0) }, shapeMismatch, "add up")
    expectLoadFailure(op: 2, editTensor(good, 4) { $0.dims = (1, 4, 6, 6, 0) }, shapeMismatch, "exceed")
    expectLoadFailure(op: 2, editTensor(good, 3) { $0.dims = (1, 4, 5, 3, 0) }, shapeMismatch, "except along the axis")
    expectLoadFailure(op: 2, editTensor(good, 3) { $0.rank = 2; $0.dims = (4, 18, 0, 0, 0) }, shapeMismatch, "rank")
    expectLoadFailure(op: 2, editOp(good, 2) { $0.extra = 4 }, badOp, "axis")
    expectLoadFailure(op: 2, editOp(good, 2) { $0.extra = 2 }, shapeMismatch, "except along the axis")
    expectLoadFailure(op: 2, editTensor(good, 4) { $0.zeroPoint = -1 }, badOp, "same scale and zero point")
  }

  /// x [1,4,6,8] (tensor 0) → op 0 gather along axis 3 of indices (tensor 1)
  /// [7, 0, 3] → output 2 [1,4,6,3].
  @Test func gatherIndicesOutsideTheAxisAreRejected() throws {
    var m = ModelBuilder()
    let x = try m.addActivation(shape: [1, 4, 6, 8], scale: 0.1, zeroPoint: 2)
    let y = try m.gather(x, axis: 3, indices: [7, 0, 3])
    try m.markInput(x); try m.markOutput(y)
    let good = try m.serialize()
    #expect(loadFailure(good) == nil)
    expectLoadFailure(op: 0, editConstant(good, 1, 0, 8), shapeMismatch, "index outside")
    expectLoadFailure(op: 0, editConstant(good, 1, 2, -1), shapeMismatch, "index outside")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.extra = 4 }, badOp, "axis")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.extra = 1 }, shapeMismatch, "index outside")  // 7 ≥ 4 rows
    expectLoadFailure(op: 0, editTensor(good, 2) { $0.dims = (1, 4, 3, 6, 0) }, shapeMismatch, "input[:axis] + indices")
    expectLoadFailure(op: 0, editTensor(good, 2) { $0.zeroPoint = 0 }, badOp, "same scale and zero point")
    #expect(throws: ModelBuilderError.self) { try m.gather(x, axis: 3, indices: [8]) }
  }

  @Test func builderRefusesWhatTheLoaderRefuses() throws {
    var m = ModelBuilder()
    let x = try m.addActivation(shape: [1, 4, 6, 8], scale: 0.1, zeroPoint: 2)
    #expect(throws: ModelBuilderError.self) { try m.transpose(x, perm: [0, 1, 1, 2]) }
    #expect(throws: ModelBuilderError.self) { try m.stridedSlice(x, begin: [0, 2, 0, 0], step: [1, 1, 1, 1], count: [1, 3, 6, 8]) }
    #expect(throws: ModelBuilderError.self) { try m.depthToSpace(x, blockSize: 3) }
    #expect(throws: ModelBuilderError.self) { try m.spaceToDepth(x, blockSize: 4) }
    #expect(throws: ModelBuilderError.self) { try m.split(x, axis: 3, sizes: [3, 4]) }
    #expect(throws: ModelBuilderError.self) { try m.split(x, axis: 4, sizes: [8]) }
    #expect(try m.split(x, axis: 2, sizes: [1, 5]).count == 2)
  }
}
