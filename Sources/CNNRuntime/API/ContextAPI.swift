// C API: contexts, running, reading outputs, classifying images.
import _CNNRuntimeShims

@inline(__always)
func clampSize(_ x: UInt) -> Int { x > UInt(Int.max) ? Int.max : Int(x) }

/// A caller's buffer of `size` bytes at `p` would pass the end of the
/// address space: the size cannot be true (e.g. SIZE_MAX).
@inline(__always)
func bufferWraps(_ p: UnsafeRawPointer, _ size: UInt) -> Bool {
  UInt(bitPattern: p).addingReportingOverflow(size).overflow
}

/// Like bufferWraps() for `count` floats.
@inline(__always)
func floatBufferWraps(_ p: UnsafeRawPointer, _ count: UInt) -> Bool {
  let (bytes, overflow) = count.multipliedReportingOverflow(by: UInt(MemoryLayout<Float>.stride))
  return overflow || bufferWraps(p, bytes)
}

@inline(__always)
func contextState(_ c: UnsafePointer<cnn_context>?) -> UnsafeMutablePointer<ContextState>? {
  guard let c else { return nil }
  return UnsafeMutableRawPointer(mutating: c).assumingMemoryBound(to: ContextState.self)
}

/// Stores in `*out_bytes` the arena size a context of `model` needs, in
/// bytes: the context header, the planned activation pool
/// (cnn_model_activation_bytes()) and 8 bytes per op for profiling. (Since
/// 0.2.0 the 1 KiB input preprocessing table is built at load into the model
/// block, cnn_model_memory_size(), and no longer counted here.) The arena
/// must be CNN_ARENA_ALIGNMENT-aligned.
@c(cnn_context_arena_size) public func cnnContextArenaSize(
  _ model: UnsafePointer<cnn_model>?, _ out_bytes: UnsafeMutablePointer<UInt>?
) -> CNNStatus {
  guard let s = modelState(model), let out_bytes else { return .invalidArgument }
  out_bytes.pointee = UInt(s.pointee.contextBytes)
  return .ok
}

/// Creates a context inside the caller's `arena` of `arena_size` bytes
/// (at least cnn_context_arena_size(), aligned to CNN_ARENA_ALIGNMENT).
/// No allocation at all: the arena holds everything; it must stay valid
/// until the context is no longer used. cnn_context_free() on such a
/// context releases nothing. Returns CNN_STATUS_ARENA_TOO_SMALL or
/// CNN_STATUS_MISALIGNED when the arena does not fit, and
/// CNN_STATUS_INVALID_ARGUMENT for a size of 0 or one that would pass the end
/// of the address space (e.g. SIZE_MAX).
@c(cnn_context_init) public func cnnContextInit(
  _ model: UnsafePointer<cnn_model>?, _ arena: UnsafeMutableRawPointer?, _ arena_size: UInt,
  _ out_context: UnsafeMutablePointer<UnsafeMutablePointer<cnn_context>?>?
) -> CNNStatus {
  out_context?.pointee = nil
  guard let s = modelState(model), let arena, let out_context, arena_size > 0 else { return .invalidArgument }
  if bufferWraps(arena, arena_size) { return .invalidArgument }
  if UInt(bitPattern: arena) % UInt(arenaAlignment) != 0 { return .misaligned }
  if clampSize(arena_size) < s.pointee.contextBytes { return .arenaTooSmall }
  let ctx = initContext(model: s, arena: arena, size: clampSize(arena_size), ownsArena: false)
  out_context.pointee = UnsafeMutableRawPointer(ctx).assumingMemoryBound(to: cnn_context.self)
  return .ok
}

/// Creates a context with an arena allocated once (cnn_context_arena_size()
/// bytes). Released by cnn_context_free().
@c(cnn_context_create) public func cnnContextCreate(
  _ model: UnsafePointer<cnn_model>?, _ out_context: UnsafeMutablePointer<UnsafeMutablePointer<cnn_context>?>?
) -> CNNStatus {
  out_context?.pointee = nil
  guard let s = modelState(model), let out_context else { return .invalidArgument }
  guard let arena = cnnrt_shim_aligned_alloc(blockAlignment, s.pointee.contextBytes) else { return .outOfMemory }
  let ctx = initContext(model: s, arena: arena, size: s.pointee.contextBytes, ownsArena: true)
  out_context.pointee = UnsafeMutableRawPointer(ctx).assumingMemoryBound(to: cnn_context.self)
  return .ok
}

/// Releases a context created by cnn_context_create(); for
/// cnn_context_init() contexts it does nothing (the caller owns the
/// arena). NULL is a no-op.
@c(cnn_context_free) public func cnnContextFree(_ context: UnsafeMutablePointer<cnn_context>?) {
  guard let c = contextState(context) else { return }
  if c.pointee.ownsArena { cnnrt_shim_free(c.pointee.arena) }
}

/// Gives direct access to the int8 buffer of model input `index` inside the
/// arena, to fill before cnn_run() (NHWC, quantized with the input's scale
/// and zero point, see cnn_model_input_info()). `*out_size` receives its
/// size in bytes. The pointer stays valid for the context's lifetime. Fill
/// it before every cnn_run(): the memory planner lets later tensors reuse
/// the input's bytes once no op reads it, and cnn_classify() writes it too.
@c(cnn_input_buffer) public func cnnInputBuffer(
  _ context: UnsafeMutablePointer<cnn_context>?, _ index: Int32,
  _ out_data: UnsafeMutablePointer<UnsafeMutablePointer<Int8>?>?, _ out_size: UnsafeMutablePointer<UInt>?
) -> CNNStatus {
  guard let c = contextState(context), let out_data, index >= 0,
        Int(index) < c.pointee.model.pointee.inputCount else { return .invalidArgument }
  let ti = c.pointee.model.pointee.inputTensor(Int(index))
  out_data.pointee = c.pointee.tensorData(ti).assumingMemoryBound(to: Int8.self)
  out_size?.pointee = UInt(c.pointee.model.pointee.tensors[ti].byteSize)
  return .ok
}

/// Copies `size` bytes of int8 data into model input `index`. `size` must
/// equal the input's byte size (cnn_tensor_info.byte_size).
@c(cnn_set_input) public func cnnSetInput(
  _ context: UnsafeMutablePointer<cnn_context>?, _ index: Int32, _ data: UnsafePointer<Int8>?, _ size: UInt
) -> CNNStatus {
  guard let c = contextState(context), let data, index >= 0,
        Int(index) < c.pointee.model.pointee.inputCount else { return .invalidArgument }
  let ti = c.pointee.model.pointee.inputTensor(Int(index))
  if clampSize(size) != c.pointee.model.pointee.tensors[ti].byteSize { return .invalidArgument }
  cnnrt_shim_memcpy(c.pointee.tensorData(ti), data, Int(size))
  return .ok
}

/// Runs the model on the current input buffers. Integer-only, no heap
/// allocation, no locking. Outputs stay readable until the next run.
@c(cnn_run) public func cnnRun(_ context: UnsafeMutablePointer<cnn_context>?) -> CNNStatus {
  guard let c = contextState(context) else { return .invalidArgument }
  runModel(c)
  return .ok
}

/// Gives read access to the raw int8 data of model output `index` (NHWC)
/// and its element count. Dequantize with the scale and zero point from
/// cnn_model_output_info(): real = scale × (q − zero_point). Valid until
/// the next cnn_run()/cnn_classify() on this context. The data may start at
/// any byte address (an output placed inside a concatenation's bytes).
@c(cnn_output_raw) public func cnnOutputRaw(
  _ context: UnsafePointer<cnn_context>?, _ index: Int32,
  _ out_data: UnsafeMutablePointer<UnsafePointer<Int8>?>?, _ out_count: UnsafeMutablePointer<UInt>?
) -> CNNStatus {
  guard let c = contextState(context), let out_data, index >= 0,
        Int(index) < c.pointee.model.pointee.outputCount else { return .invalidArgument }
  let ti = c.pointee.model.pointee.outputTensor(Int(index))
  out_data.pointee = UnsafePointer(c.pointee.tensorData(ti).assumingMemoryBound(to: Int8.self))
  out_count?.pointee = UInt(c.pointee.model.pointee.tensors[ti].count)
  return .ok
}

/// Writes model output `index` dequantized to float into `out`, which has
/// room for `capacity` floats (at least the output's element count, else
/// CNN_STATUS_INVALID_ARGUMENT; also for a capacity passing the end of the
/// address space).
@c(cnn_output_dequantize) public func cnnOutputDequantize(
  _ context: UnsafePointer<cnn_context>?, _ index: Int32, _ out: UnsafeMutablePointer<Float>?, _ capacity: UInt
) -> CNNStatus {
  guard let c = contextState(context), let out, index >= 0,
        Int(index) < c.pointee.model.pointee.outputCount else { return .invalidArgument }
  let ti = c.pointee.model.pointee.outputTensor(Int(index))
  let t = c.pointee.model.pointee.tensors[ti]
  if clampSize(capacity) < t.count || floatBufferWraps(out, capacity) { return .invalidArgument }
  dequantize(c.pointee.tensorData(ti).assumingMemoryBound(to: Int8.self), count: t.count,
             scale: t.scale, zeroPoint: t.zeroPoint, into: out)
  return .ok
}

func dequantize(_ q: UnsafePointer<Int8>, count: Int, scale: Float, zeroPoint: Int32, into out: UnsafeMutablePointer<Float>) {
  var i = 0
  while i < count {
    out[i] = scale * Float(Int32(q[i]) - zeroPoint)
    i += 1
  }
}

/// Classifies an 8-bit image: converts it to the model's input (resizing
/// when its size differs from the model input, converting channels, and
/// applying the model's pixel preprocessing — all integer, no allocation),
/// runs the model and reports the top class of output 0.
///
/// - `pixels`: `height` rows of `width` × `channels` bytes, row `y` at
///   `pixels + y * row_stride` (0 = tightly packed). Channels: 1 (gray),
///   3 (RGB) or 4 (RGBA, alpha ignored); the model input must have 1 or 3
///   channels (CNN_STATUS_UNSUPPORTED_IMAGE otherwise).
/// - `width`, `height`, `channels`: positive (CNN_STATUS_INVALID_ARGUMENT
///   for 0 or negative; CNN_STATUS_UNSUPPORTED_IMAGE for 0 or 2 channels).
/// - `row_stride`: at least `width` × `channels`. The image spans
///   (`height` − 1) × `row_stride` + `width` × `channels` bytes; a span above
///   2^48 bytes, one that overflows `size_t` or passes the end of the address
///   space (e.g. `row_stride` = SIZE_MAX) gives CNN_STATUS_INVALID_ARGUMENT.
/// - `result`: receives the top class, its probability and label.
/// - `probabilities`: optional (may be NULL); receives the dequantized score
///   of every class; `capacity` must then be ≥ cnn_model_class_count().
@c(cnn_classify) public func cnnClassify(
  _ context: UnsafeMutablePointer<cnn_context>?, _ pixels: UnsafePointer<UInt8>?,
  _ width: Int32, _ height: Int32, _ channels: Int32, _ row_stride: UInt,
  _ result: UnsafeMutablePointer<cnn_classification>?,
  _ probabilities: UnsafeMutablePointer<Float>?, _ capacity: UInt
) -> CNNStatus {
  guard let c = contextState(context), let pixels, let result else { return .invalidArgument }
  if channels == 0 || channels == 2 || channels > 4 { return channels < 0 ? .invalidArgument : .unsupportedImage }
  guard let geometry = imageSpan(base: UInt(bitPattern: pixels), width: Int(width), height: Int(height),
                                 channels: Int(channels), rowStride: row_stride)
  else { return .invalidArgument }
  let stride = geometry.stride
  let m = c.pointee.model.pointee
  let inT = m.tensors[m.inputTensor(0)]
  if inT.rank != 4 || inT.dims.n != 1 { return .unsupportedModel }
  if !imageCompatible(channels: Int(channels), modelChannels: inT.dims.c) { return .unsupportedImage }
  let outT = m.tensors[m.outputTensor(0)]
  let classes = outT.dims.c
  if classes != outT.count { return .unsupportedModel }
  if let probabilities, clampSize(capacity) < classes || floatBufferWraps(probabilities, capacity) {
    return .invalidArgument
  }

  let image = ImageView(pixels: pixels, width: Int(width), height: Int(height), channels: Int(channels),
                        rowStride: stride)
  let swap = m.hasMetadata && m.metadata.channelOrder == ChannelOrder.bgr.rawValue
  fillInput(from: image, into: c.pointee.tensorData(m.inputTensor(0)).assumingMemoryBound(to: Int8.self),
            dims: inT.dims, lut: UnsafePointer(c.pointee.lut), swapRB: swap)
  runModel(c)

  let q = c.pointee.tensorData(m.outputTensor(0)).assumingMemoryBound(to: Int8.self)
  var best = 0
  var k = 1
  while k < classes {
    if q[k] > q[best] { best = k }
    k += 1
  }
  result.pointee.class_index = Int32(best)
  result.pointee.probability = outT.scale * Float(Int32(q[best]) - outT.zeroPoint)
  result.pointee.label = m.label(best)
  if let probabilities {
    dequantize(q, count: classes, scale: outT.scale, zeroPoint: outT.zeroPoint, into: probabilities)
  }
  return .ok
}

/// Time in nanoseconds that op `index` took in the last cnn_run() or
/// cnn_classify() on this context (monotonic clock), in `*out_ns`.
@c(cnn_context_op_time_ns) public func cnnContextOpTimeNs(
  _ context: UnsafePointer<cnn_context>?, _ index: Int32, _ out_ns: UnsafeMutablePointer<UInt64>?
) -> CNNStatus {
  guard let c = contextState(context), let out_ns, index >= 0,
        Int(index) < c.pointee.model.pointee.opCount else { return .invalidArgument }
  out_ns.pointee = c.pointee.opTimes[Int(index)]
  return .ok
}

/// Installs `observer` (NULL removes it), called after every op of the
/// following cnn_run()/cnn_classify() calls on this context with
/// `user_data` and the op's int8 output; see cnn_op_observer. Without an
/// observer inference pays one predictable branch per op.
@c(cnn_context_set_op_observer) public func cnnContextSetOpObserver(
  _ context: UnsafeMutablePointer<cnn_context>?, _ observer: cnn_op_observer?, _ user_data: UnsafeMutableRawPointer?
) -> CNNStatus {
  guard let c = contextState(context) else { return .invalidArgument }
  c.pointee.observer = observer
  c.pointee.observerUserData = user_data
  return .ok
}
