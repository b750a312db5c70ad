// Shape arithmetic of dynamic-batch ONNX exports (PyTorch's
// `x.view(x.size(0), -1)`: Shape → Gather → Unsqueeze → Concat → Reshape),
// evaluated at import: the importer fixes a symbolic batch at 1, so Shape
// of a value is a constant, and integer Gather / Unsqueeze / Squeeze /
// Concat / Cast of constants are constants too, as is integer Add / Sub /
// Mul / Div of them (ShuffleNet's `x.chunk(2, dim=1)`: Slice bounds from
// (C + 1) / 2 · k). The Reshape or Slice then reads a constant. Only integer constants are folded (shape values); any
// other node goes to its op unit as before.

extension ONNXImporter {
  /// Evaluates `n` at import when it is shape arithmetic on constants;
  /// returns whether it did (its output is then a constant).
  mutating func foldShapeArithmetic(_ n: ONNXNode) throws -> Bool {
    let names = n.proto.input.filter { !$0.isEmpty }
    guard let first = names.first else { return false }
    func int64(_ dims: [Int], _ v: [Int64]) -> ONNXConstant {
      ONNXConstant(dims: dims, floats: v.map { Float($0) }, ints: v, quant: nil, dataType: ONNXDataType.int64)
    }
    if n.opType == "Shape" {
      let s: [Int]
      if let v = values[first] { s = v.onnxShape } else if let c = constants[first] { s = c.dims } else { return false }
      let r = s.count
      var start = try n.a.int("start", 0), end = try n.a.int("end", r)
      if start < 0 { start += r }
      if end < 0 { end += r }
      start = min(max(start, 0), r); end = min(max(end, start), r)
      constants[n.outName] = int64([end - start], s[start..<end].map { Int64($0) })
      return true
    }
    guard ["Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Add", "Sub", "Mul", "Div"].contains(n.opType),
          names.allSatisfy({ constants[$0]?.ints != nil }) else { return false }
    let c = constants[first]!
    if ["Add", "Sub", "Mul", "Div"].contains(n.opType) {
      // Integer arithmetic (C semantics: Div truncates) of two integer
      // constants of one shape, or of a constant and a one-element one.
      guard names.count == 2, let b = constants[names[1]], let x = c.ints, let y = b.ints,
            x.count == y.count && c.dims == b.dims || x.count == 1 || y.count == 1 else {
        throw n.unsupported("\(n.opType) of integer constants of shapes \(c.dims) and \(constants[names[1]]?.dims ?? [])")
      }
      let count = max(x.count, y.count)
      var out: [Int64] = []
      for i in 0..<count {
        let u = x[x.count == 1 ? 0 : i], v = y[y.count == 1 ? 0 : i]
        switch n.opType {
        case "Add": out.append(u &+ v)
        case "Sub": out.append(u &- v)
        case "Mul": out.append(u &* v)
        default:
          guard v != 0 else { throw n.invalid("integer division by zero") }
          out.append(v == -1 ? 0 &- u : u / v)
        }
      }
      constants[n.outName] = int64(x.count >= y.count ? c.dims : b.dims, out)
      return true
    }
    let data = c.ints!
    let r = c.dims.count
    func axis(_ a: Int, rank: Int) throws -> Int {
      let v = a < 0 ? a + rank : a
      guard v >= 0, v < rank else { throw n.invalid("axis \(a) for rank \(rank)") }
      return v
    }
    func axesInput() throws -> [Int] {
      if im(opset13: true), names.count > 1 { return try constants[names[1]]!.integers(n.ctx) }
      return try n.a.ints("axes") ?? []
    }
    switch n.opType {
    case "Gather":
      guard names.count == 2 else { throw n.invalid("Gather needs data and indices") }
      let idx = constants[names[1]]!
      let a = try axis(try n.a.int("axis", 0), rank: r)
      let outer = c.dims[..<a].reduce(1, *), size = c.dims[a], inner = c.dims[(a + 1)...].reduce(1, *)
      var out: [Int64] = []
      for o in 0..<outer {
        for i in idx.ints! {
          let k = i < 0 ? Int(i) + size : Int(i)
          guard k >= 0, k < size else { throw n.invalid("index \(i) outside dimension \(size)") }
          out += data[((o * size + k) * inner)..<((o * size + k + 1) * inner)]
        }
      }
      constants[n.outName] = int64(Array(c.dims[..<a]) + idx.dims + Array(c.dims[(a + 1)...]), out)
    case "Unsqueeze":
      let ax = try axesInput()
      let rank = r + ax.count
      let resolved = try ax.map { try axis($0, rank: rank) }
      var it = c.dims.makeIterator()
      constants[n.outName] = int64((0..<rank).map { resolved.contains($0) ? 1 : it.next()! }, data)
    case "Squeeze":
      let ax = try axesInput().map { try axis($0, rank: r) }
      let keep = c.dims.indices.filter { ax.isEmpty ? c.dims[$0] != 1 : !ax.contains($0) }
      guard ax.allSatisfy({ c.dims[$0] == 1 }) else { throw n.invalid("squeeze of a dimension other than 1") }
      constants[n.outName] = int64(keep.map { c.dims[$0] }, data)
    case "Concat":
      let a = try axis(try n.a.int("axis", 0), rank: r)
      let parts = names.map { constants[$0]! }
      guard parts.allSatisfy({ $0.dims.count == r && $0.dims.enumerated().allSatisfy { $0.offset == a || $0.element == c.dims[$0.offset] } }) else {
        throw n.invalid("Concat of constants with shapes \(parts.map(\.dims))")
      }
      let outer = c.dims[..<a].reduce(1, *)
      var out: [Int64] = []
      for o in 0..<outer {
        for p in parts {
          let chunk = p.dims[a...].reduce(1, *)
          out += p.ints![(o * chunk)..<((o + 1) * chunk)]
        }
      }
      var dims = c.dims
      dims[a] = parts.map { $0.dims[a] }.reduce(0, +)
      constants[n.outName] = int64(dims, out)
    default:  // Cast of an integer constant to an integer type keeps the values
      let to = Int32(try n.a.int("to", 0))
      guard [ONNXDataType.int32, ONNXDataType.int64, ONNXDataType.int16, ONNXDataType.int8].contains(to) else { return false }
      constants[n.outName] = int64(c.dims, data)
    }
    return true
  }

  /// Axes as an input (opset 13) rather than an attribute.
  private func im(opset13: Bool) -> Bool { opset >= 13 }
}
