// Int64 widening on 32-bit targets (Cortex-M), without allocation.
//
// On a 32-bit target the standard library widens a word-sized or smaller
// integer to Int64 through the generic `FixedWidthInteger._truncatingInit`,
// which walks `source.words` and so needs the `Words: Sequence` witness table;
// that table carries `_copyToContiguousArray`, which allocates an Array, and
// Embedded Swift's `-no-allocations` refuses the build ("cannot use
// allocating type '_ContiguousArrayStorage<UInt>'"). On 64-bit the generic
// path folds to a plain sign extension and none of this exists.
//
// These concrete overloads are preferred by overload resolution over the
// generic initialiser, so every `Int64(x)` in the runtime with `x` of type
// Int/Int32/Int16/Int8 (or unsigned) becomes one sign or zero extension.
// The same goes for the stdlib operations whose bodies widen a word to 64
// bits: smart shifts and clamping of Int64/UInt64, Double(Int64), Float(Int32),
// and unaligned loads/stores (their size check is `UInt64(size)`). Each has a
// concrete overload here with the stdlib's semantics (smart shifts: a negative
// amount shifts the other way, an amount >= 64 gives 0 or the sign fill).
// They are compiled for 32-bit targets only: 64-bit builds are unchanged.
#if _pointerBitWidth(_32)
import _CNNRuntimeShims

extension Int64 {
  /// Sign extension of a 32-bit word: `(v ^ 2^31) - 2^31` on the zero-extended bits.
  @_transparent
  init(_ x: Int) {
    let zeroExtended = Int64(_truncatingBits: UInt(bitPattern: x))
    self = (zeroExtended ^ 0x8000_0000) &- 0x8000_0000
  }

  @_transparent init(_ x: Int32) { self.init(Int(x)) }
  @_transparent init(_ x: Int16) { self.init(Int(x)) }
  @_transparent init(_ x: Int8) { self.init(Int(x)) }
  @_transparent init(_ x: UInt) { self.init(_truncatingBits: x) }
  @_transparent init(_ x: UInt32) { self.init(_truncatingBits: UInt(x)) }
  @_transparent init(_ x: UInt16) { self.init(_truncatingBits: UInt(x)) }
  @_transparent init(_ x: UInt8) { self.init(_truncatingBits: UInt(x)) }

  @_transparent init(truncatingIfNeeded x: Int) { self.init(x) }
  @_transparent init(truncatingIfNeeded x: Int32) { self.init(Int(x)) }

}

extension Int {
  /// A UInt32 read from a model file: on 64-bit every value fits, on 32-bit
  /// the stdlib's Int(_: UInt32) traps from 2^31 on, which a corrupt (or
  /// hostile) model would turn into a fault. No valid model has a count or
  /// offset that large (a model is smaller than 2 GiB), so values from 2^31
  /// on become Int.max, which every range check after the conversion refuses.
  @_transparent init(_ x: UInt32) {
    self = x > 0x7FFF_FFFF ? Int.max : Int(bitPattern: UInt(x))
  }
}

extension UInt64 {
  @_transparent init(_ x: UInt) { self.init(_truncatingBits: x) }
  @_transparent init(_ x: UInt32) { self.init(_truncatingBits: UInt(x)) }
  @_transparent init(truncatingIfNeeded x: Int) { self.init(bitPattern: Int64(x)) }

}

extension Int8 {
  @_transparent init(clamping x: Int64) {
    self = x < -128 ? -128 : x > 127 ? 127 : Int8(truncatingIfNeeded: x)
  }
}

extension Int32 {
  @_transparent init(clamping x: Int64) {
    self = x < -0x8000_0000 ? .min : x > 0x7fff_ffff ? .max : Int32(truncatingIfNeeded: x)
  }
}

extension Float {
  @_transparent init(_ x: Int32) { self.init(Int(x)) }
}

extension Double {
  /// hi * 2^32 and lo are exact before the one rounding of the addition, so this
  /// rounds like the hardware conversion.
  @_transparent init(_ x: Int64) {
    let hi = Int(truncatingIfNeeded: x &>> 32), lo = Int(truncatingIfNeeded: x)
    // x = (hi + 1) * 2^32 + lo when the low word, read signed, is negative.
    self = (Double(hi) + (lo < 0 ? 1 : 0)) * 4_294_967_296.0 + Double(lo)
  }
}

extension UnsafeRawPointer {
  @_transparent
  func loadUnaligned<T: FixedWidthInteger>(fromByteOffset offset: Int = 0, as type: T.Type) -> T {
    var v = T.zero
    withUnsafeMutableBytes(of: &v) { cnnrt_shim_memcpy($0.baseAddress, self + offset, MemoryLayout<T>.size) }
    return v
  }
}

extension UnsafeMutableRawPointer {
  @_transparent
  func loadUnaligned<T: FixedWidthInteger>(fromByteOffset offset: Int = 0, as type: T.Type) -> T {
    UnsafeRawPointer(self).loadUnaligned(fromByteOffset: offset, as: type)
  }

  @_transparent
  func storeBytes<T: FixedWidthInteger & BitwiseCopyable>(of value: T, toByteOffset offset: Int = 0, as type: T.Type) {
    var v = value
    withUnsafeBytes(of: &v) { cnnrt_shim_memcpy(self + offset, $0.baseAddress, MemoryLayout<T>.size) }
  }
}

#endif
