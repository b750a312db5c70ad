// Inference context: one arena holding the context header, the activation
// pool, the input preprocessing tables and the per-op profile.
//
//   arena: | ContextState | activation pool (planned) | op times |
//
// Everything is laid out at load (ModelState.*Offset); creating a context
// only writes the header. The input pixel tables depend only on the model,
// so they live in the model block (built at load), not in every arena.
import _CNNRuntimeShims

struct ContextState {
  var model: UnsafeMutablePointer<ModelState>
  var arena: UnsafeMutableRawPointer
  var arenaSize: Int
  /// The arena was allocated by cnn_context_create and is freed with the context.
  var ownsArena: Bool
  /// Called after each op when set (cnn_context_set_op_observer).
  var observer: cnn_op_observer? = nil
  var observerUserData: UnsafeMutableRawPointer? = nil

  var pool: UnsafeMutableRawPointer { arena + model.pointee.poolOffset }
  /// The model's uint8 pixel → int8 input tables (built at load).
  var lut: UnsafeMutablePointer<Int8> { model.pointee.pixelTable }
  var opTimes: UnsafeMutablePointer<UInt64> {
    (arena + model.pointee.profileOffset).assumingMemoryBound(to: UInt64.self)
  }

  /// Data of tensor `i`: arena bytes for activations, model bytes for constants.
  @inline(__always)
  func tensorData(_ i: Int) -> UnsafeMutableRawPointer {
    let t = model.pointee.tensors[i]
    if let c = t.constData { return UnsafeMutableRawPointer(mutating: c) }
    return pool + t.arenaOffset
  }
}

let contextHeaderBytes = MemoryLayout<ContextState>.stride

/// Required alignment of a caller-provided arena.
public let arenaAlignment = 16

/// Places a context at the start of `arena` (already checked for size and alignment).
func initContext(model: UnsafeMutablePointer<ModelState>, arena: UnsafeMutableRawPointer, size: Int,
                 ownsArena: Bool) -> UnsafeMutablePointer<ContextState> {
  let ctx = arena.bindMemory(to: ContextState.self, capacity: 1)
  ctx.initialize(to: ContextState(model: model, arena: arena, arenaSize: size, ownsArena: ownsArena))
  let m = model.pointee
  cnnrt_shim_memset(arena + m.poolOffset, 0, m.activationBytes)
  cnnrt_shim_memset(arena + m.profileOffset, 0, m.opCount * 8)
  return ctx
}

/// Builds the uint8 pixel → int8 input tables for model input 0 from the
/// model's preprocessing metadata, at load (load-time floating point;
/// classification itself only indexes the tables). Without metadata the mapping is
/// x = pixel, quantized with the input tensor's scale and zero point
/// (for scale 1, zero point -128 that is q = pixel − 128).
func buildPixelTables(_ model: UnsafeMutablePointer<ModelState>) {
  let m = model.pointee
  let input = m.tensors[m.inputTensor(0)]
  let channels = min(input.dims.c, 4)
  let meta = m.metadata
  let pixelScale: Double = m.hasMetadata ? Double(meta.pixelScale) : 1
  let lut = m.pixelTable
  cnnrt_shim_memset(lut, 0, pixelTableBytes)
  var c = 0
  while c < channels {
    let mean: Double = m.hasMetadata ? Double(meta.meanValue(c)) : 0
    let std: Double = m.hasMetadata ? Double(meta.stdValue(c)) : 1
    var p = 0
    while p < 256 {
      let real = (Double(p) * pixelScale - mean) / std
      let q = roundHalfAwayClamped(real / Double(input.scale)) + Int64(input.zeroPoint)
      lut[c * 256 + p] = Int8(clamping: q)
      p += 1
    }
    c += 1
  }
}

/// Round half away from zero without libm, clamped to ±2^40 (enough for
/// any int8 result).
func roundHalfAwayClamped(_ x: Double) -> Int64 {
  if !(x == x) { return 0 }
  if x > 1_099_511_627_776 { return 1 &<< 40 }
  if x < -1_099_511_627_776 { return -(1 &<< 40) }
  let t = Int64(x)  // truncates toward zero
  let frac = x - Double(t)
  if frac >= 0.5 { return t + 1 }
  if frac <= -0.5 { return t - 1 }
  return t
}
