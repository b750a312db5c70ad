// Elementwise int8 ops whose output byte depends only on the input byte
// (ReLU, ReLU6, LeakyReLU, HardSwish, Tanh, Logistic, Quantize, LookupTable): at load
// the op runs its TFLite Micro integer arithmetic on each of the 256 int8
// values and keeps the results in a table in its extra region; `eval` is a
// table lookup. The outputs are those of the exact kernel by construction,
// and the lookup costs the same whatever the arithmetic behind it.
// On the AVX-512 path of a CPU with AVX512-VBMI the lookup is the VBMI
// kernel (_CNNKernelsAVX512/ByteTableAVX512.swift), on the AVX2 path and the
// AVX-512 path without VBMI the AVX2 one (_CNNKernelsAVX2/ByteTableAVX2.swift),
// on both Arm paths the NEON one (_CNNKernelsNEON/ChannelOpsNEON.swift).

#if canImport(_CNNKernelsAVX2)
import _CNNKernelsAVX2
#endif
#if canImport(_CNNKernelsAVX512)
import _CNNKernelsAVX512
#endif
#if canImport(_CNNKernelsNEON)
import _CNNKernelsNEON
#endif

/// Prepared data of a byte-table op.
struct ByteTableData {
  /// table[x + 128] is the output byte for the input byte x (256 entries,
  /// 16-byte aligned, in the op's extra region).
  var table: UnsafePointer<Int8>
  var isa: Int32
  /// avx512ByteTableForm(isa:) at load: the VBMI kernel's form, 0 for none.
  var vbmiForm: Int32
}

/// Extra bytes a byte-table op plans in pass 1: its table.
let byteTableBytes = 256

extension OpPrepareContext {
  /// The checks every elementwise activation shares: input 0 is an
  /// activation with the output's shape, no fused activation. Returns the input.
  func elementwiseInput() throws(LoadError) -> TensorInfo {
    let input = try activationInput(0)
    let output = self.output
    if input.rank != output.rank || input.dims != output.dims || input.count != output.count {
      throw fail(.shapeMismatch, "input and output shapes differ")
    }
    try requireNoActivation()
    return input
  }

  /// Allocates the op's table and fills table[x + 128] = f(x) for x in
  /// -128...127 (f gets x as an Int32).
  mutating func byteTable(_ f: (Int32) -> Int8) throws(LoadError) -> ByteTableData {
    let table = try allocate(bytes: byteTableBytes).bindMemory(to: Int8.self, capacity: byteTableBytes)
    var x: Int32 = -128
    while x <= 127 {
      table[Int(x &+ 128)] = f(x)
      x &+= 1
    }
    return ByteTableData(table: UnsafePointer(table), isa: isa, vbmiForm: avx512ByteTableForm(isa: isa))
  }
}

/// Clamps an int32 to the int8 range.
@inline(__always)
func saturatingInt8(_ v: Int32) -> Int8 {
  Int8(truncatingIfNeeded: v < -128 ? -128 : (v > 127 ? 127 : v))
}

/// out[i] = table[in[i] + 128] for `count` bytes.
public func byteTableReference(table: UnsafePointer<Int8>, count: Int,
                               input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>) {
  var i = 0
  while i < count {
    output[i] = table[Int(input[i]) &+ 128]
    i &+= 1
  }
}

/// The lookup on kernel path `isa`: on the AVX-512 path with `vbmiForm` 1 or
/// 2 (avx512ByteTableForm(isa:)) the VBMI kernel (ByteTableAVX512.swift) in
/// that form, else the AVX2 kernel (ByteTableAVX2.swift, the AVX2 path and
/// the AVX-512 path without VBMI), the NEON one (both Arm paths) or the
/// reference. The caller guarantees the CPU supports `isa` (and VBMI where
/// `vbmiForm` is not 0).
@inline(__always)
public func byteTableLookup(isa: Int32, vbmiForm: Int32 = 0, table: UnsafePointer<Int8>, count: Int,
                            input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>) {
  #if canImport(_CNNKernelsNEON) && arch(arm64)
  if isArmISA(isa) {
    cnnrtByteTableArm(table, count, input, output)
    return
  }
  #endif
  #if canImport(_CNNKernelsAVX512) && arch(x86_64)
  if isa == KernelISA.avx512 && vbmiForm != 0 {
    cnnrtByteTableAVX512(table, count, input, output, vbmiForm)
    return
  }
  #endif
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  if isa == KernelISA.avx2 || isa == KernelISA.avx512 {
    cnnrtByteTableAVX2(table, count, input, output)
    return
  }
  #endif
  byteTableReference(table: table, count: count, input: input, output: output)
}

/// Runs a byte-table op.
@inline(__always)
func evalByteTable(_ data: UnsafePointer<ByteTableData>, _ ctx: OpEvalContext) {
  let d = data.pointee
  byteTableLookup(isa: d.isa, vbmiForm: d.vbmiForm, table: d.table, count: ctx.outputCount, input: ctx.input(0), output: ctx.output)
}
