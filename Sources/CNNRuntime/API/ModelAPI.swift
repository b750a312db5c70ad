// C API: loading and inspecting models.
//
// Thin exported shims: each validates its arguments, converts handles and
// calls the internal Swift implementation. All raw C interop is here and in
// ContextAPI.swift.
import _CNNRuntimeShims

@inline(__always)
func modelState(_ m: UnsafePointer<cnn_model>?) -> UnsafeMutablePointer<ModelState>? {
  guard let m else { return nil }
  return UnsafeMutableRawPointer(mutating: m).assumingMemoryBound(to: ModelState.self)
}

/// Loads and validates the model in `data` WITHOUT copying it: weights,
/// names and labels are used in place, so `data` must stay valid and
/// unchanged until cnn_model_free(). Suitable for flash or mmap'ed files.
///
/// - `data`: the model bytes, 16-byte aligned (else CNN_STATUS_MISALIGNED).
/// - `size`: bytes available at `data`; at least the model's file size
///   (only that many bytes are read). 0, or a size that would pass the end
///   of the address space (e.g. SIZE_MAX), gives CNN_STATUS_INVALID_ARGUMENT.
/// - `out_model`: receives the model handle; set to NULL on failure.
/// - `message`, `message_capacity`: optional buffer (may be NULL/0) that
///   receives a NUL-terminated description of what is wrong on failure
///   (e.g. "op 3: Conv2D: output height/width differ from (W - F + 2P) / S + 1").
///
/// Every offset, size, index and parameter is checked; a bad model yields a
/// specific status, never a crash. Requantization is checked too, so that
/// every kernel path gives the same bytes: each multiplier an op derives
/// from its scales (Conv2D, DepthwiseConv2D and FullyConnected: input scale
/// × filter scale / output scale per channel; Add: its two input and one
/// output multipliers; Mean: input / output scale over the window) must be
/// below 2^31, i.e. TFLite's QuantizeMultiplier shift at most 31; a larger
/// one is CNN_STATUS_BAD_OP with a message naming the op and its output
/// tensor ("op 0: Conv2D, tensor 5 'conv1': requantization multiplier
/// >= 2^31 ..."). A format-1 file is CNN_STATUS_UNSUPPORTED_VERSION with a
/// message asking to re-import it. Allocates one block (its size is what
/// cnn_model_memory_size() reports) for the prepared model.
/// Returns CNN_STATUS_OK or an error status.
@c(cnn_model_load_memory) public func cnnModelLoadMemory(
  _ data: UnsafeRawPointer?, _ size: UInt, _ out_model: UnsafeMutablePointer<UnsafeMutablePointer<cnn_model>?>?,
  _ message: UnsafeMutablePointer<CChar>?, _ message_capacity: UInt
) -> CNNStatus {
  var w = MessageWriter(buffer: message, capacity: clampSize(message_capacity))
  if let data, bufferWraps(data, size) { return sizeWraps(out_model, &w) }
  return loadModel(data, clampSize(size), memory: nil, memorySize: 0, owned: nil, out_model, &w)
}

/// Reads the file at `path` into memory owned by the model, then loads it as
/// cnn_model_load_memory() does. The file may be closed/removed afterwards.
/// Returns CNN_STATUS_IO_ERROR when the file cannot be opened or read, and
/// always on bare-metal builds (Cortex-M: no file system; use
/// cnn_model_load_static on a model array, docs/EMBEDDED.md).
@c(cnn_model_load_file) public func cnnModelLoadFile(
  _ path: UnsafePointer<CChar>?, _ out_model: UnsafeMutablePointer<UnsafeMutablePointer<cnn_model>?>?,
  _ message: UnsafeMutablePointer<CChar>?, _ message_capacity: UInt
) -> CNNStatus {
  var w = MessageWriter(buffer: message, capacity: clampSize(message_capacity))
  out_model?.pointee = nil
  guard let path, let out_model else {
    w.append("path and out_model must not be NULL")
    return .invalidArgument
  }
  var raw: UnsafeMutableRawPointer? = nil
  var size = 0
  let rc = cnnrt_shim_read_file(path, &raw, &size)
  if rc == -4 { w.append("cannot allocate memory for the model file"); return .outOfMemory }
  if rc == -5 { w.append("this build has no file system (bare metal): use cnn_model_load_static"); return .ioError }
  guard rc == 0, let raw else { w.append("cannot open or read the model file"); return .ioError }
  let status = loadModel(raw, size, memory: nil, memorySize: 0, owned: raw, out_model, &w)
  if status != .ok { cnnrt_shim_free(raw) }
  return status
}

/// Validates the model in `data` and stores in `*out_bytes` the size of the
/// memory block cnn_model_load_static() needs for it (alignment 16).
@c(cnn_model_memory_size) public func cnnModelMemorySize(
  _ data: UnsafeRawPointer?, _ size: UInt, _ out_bytes: UnsafeMutablePointer<UInt>?
) -> CNNStatus {
  guard let data, let out_bytes, size > 0, !bufferWraps(data, size) else { return .invalidArgument }
  if UInt(bitPattern: data) % 16 != 0 { return .misaligned }
  do throws(LoadError) {
    out_bytes.pointee = UInt(try inspectLayout(data, clampSize(size)).blockBytes)
    return .ok
  } catch {
    return error.status
  }
}

/// Like cnn_model_load_memory(), but places the prepared model in the
/// caller's `memory` (`memory_size` bytes from cnn_model_memory_size(),
/// 16-byte aligned) instead of allocating: no heap use at all. A
/// `memory_size` of 0 or one passing the end of the address space gives
/// CNN_STATUS_INVALID_ARGUMENT.
/// cnn_model_free() on such a model releases nothing; the caller owns both
/// `data` and `memory`, which must outlive the model.
@c(cnn_model_load_static) public func cnnModelLoadStatic(
  _ data: UnsafeRawPointer?, _ size: UInt, _ memory: UnsafeMutableRawPointer?, _ memory_size: UInt,
  _ out_model: UnsafeMutablePointer<UnsafeMutablePointer<cnn_model>?>?,
  _ message: UnsafeMutablePointer<CChar>?, _ message_capacity: UInt
) -> CNNStatus {
  var w = MessageWriter(buffer: message, capacity: clampSize(message_capacity))
  guard let memory, memory_size > 0, !bufferWraps(memory, memory_size) else {
    out_model?.pointee = nil
    w.append("memory must not be NULL and memory_size must be positive and fit in the address space")
    return .invalidArgument
  }
  if let data, bufferWraps(data, size) { return sizeWraps(out_model, &w) }
  return loadModel(data, clampSize(size), memory: memory, memorySize: clampSize(memory_size), owned: nil, out_model, &w)
}

/// The status for a `size` that passes the end of the address space.
func sizeWraps(_ out: UnsafeMutablePointer<UnsafeMutablePointer<cnn_model>?>?, _ w: inout MessageWriter) -> CNNStatus {
  out?.pointee = nil
  w.append("data + size passes the end of the address space")
  return .invalidArgument
}

func loadModel(_ data: UnsafeRawPointer?, _ size: Int, memory: UnsafeMutableRawPointer?, memorySize: Int,
               owned: UnsafeMutableRawPointer?,
               _ out: UnsafeMutablePointer<UnsafeMutablePointer<cnn_model>?>?,
               _ w: inout MessageWriter) -> CNNStatus {
  out?.pointee = nil
  guard let data, let out else { w.append("data and out_model must not be NULL"); return .invalidArgument }
  if size <= 0 { w.append("size must be positive"); return .invalidArgument }
  if UInt(bitPattern: data) % 16 != 0 { w.append("model data must be 16-byte aligned"); return .misaligned }
  do throws(LoadError) {
    let layout = try inspectLayout(data, size)
    let block: UnsafeMutableRawPointer
    if let memory {
      if UInt(bitPattern: memory) % 16 != 0 { w.append("model memory must be 16-byte aligned"); return .misaligned }
      if memorySize < layout.blockBytes { w.append("model memory smaller than cnn_model_memory_size()"); return .arenaTooSmall }
      block = memory
    } else {
      guard let b = cnnrt_shim_aligned_alloc(blockAlignment, layout.blockBytes) else {
        w.append("cannot allocate the model block"); return .outOfMemory
      }
      block = b
    }
    do throws(LoadError) {
      let state = try prepareModel(data, size, layout, block: block)
      state.pointee.ownsBlock = memory == nil
      state.pointee.ownedData = owned
      out.pointee = UnsafeMutableRawPointer(state).assumingMemoryBound(to: cnn_model.self)
      return .ok
    } catch {
      if memory == nil { cnnrt_shim_free(block) }
      throw error
    }
  } catch {
    error.write(to: &w)
    return error.status
  }
}

/// Releases a model and, for cnn_model_load_file(), its bytes. NULL is a
/// no-op. Free every context of the model first.
@c(cnn_model_free) public func cnnModelFree(_ model: UnsafeMutablePointer<cnn_model>?) {
  guard let s = modelState(model) else { return }
  let owned = s.pointee.ownedData
  let ownsBlock = s.pointee.ownsBlock
  if let owned { cnnrt_shim_free(owned) }
  if ownsBlock { cnnrt_shim_free(UnsafeMutableRawPointer(s)) }
}

/// Number of model inputs (0 for NULL).
@c(cnn_model_input_count) public func cnnModelInputCount(_ model: UnsafePointer<cnn_model>?) -> Int32 {
  Int32(modelState(model)?.pointee.inputCount ?? 0)
}

/// Number of model outputs (0 for NULL).
@c(cnn_model_output_count) public func cnnModelOutputCount(_ model: UnsafePointer<cnn_model>?) -> Int32 {
  Int32(modelState(model)?.pointee.outputCount ?? 0)
}

/// Name of the kernel path the model was prepared for at load: "portable",
/// "avx2" or "avx512" on x86-64, "portable", "neon" or "dotprod" on aarch64
/// (chosen from the CPU's features, capped by CNNRT_ISA; see README). A static
/// NUL-terminated string, never NULL ("" for a NULL model); do not free.
@c(cnn_model_kernel_path) public func cnnModelKernelPath(_ model: UnsafePointer<cnn_model>?) -> UnsafePointer<CChar> {
  let s: StaticString = modelState(model).map { KernelISA.name($0.pointee.kernelISA) } ?? ""
  return UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Number of tensors (activations and constants; 0 for NULL).
@c(cnn_model_tensor_count) public func cnnModelTensorCount(_ model: UnsafePointer<cnn_model>?) -> Int32 {
  Int32(modelState(model)?.pointee.tensorCount ?? 0)
}

/// Number of ops, in execution order (0 for NULL).
@c(cnn_model_op_count) public func cnnModelOpCount(_ model: UnsafePointer<cnn_model>?) -> Int32 {
  Int32(modelState(model)?.pointee.opCount ?? 0)
}

/// Describes tensor `index` (0 ≤ index < cnn_model_tensor_count()).
@c(cnn_model_tensor_info) public func cnnModelTensorInfo(
  _ model: UnsafePointer<cnn_model>?, _ index: Int32, _ info: UnsafeMutablePointer<cnn_tensor_info>?
) -> CNNStatus {
  guard let s = modelState(model), let info, index >= 0, Int(index) < s.pointee.tensorCount else {
    return .invalidArgument
  }
  fillTensorInfo(s.pointee, Int(index), info)
  return .ok
}

/// Describes model input `index` (0 ≤ index < cnn_model_input_count()).
@c(cnn_model_input_info) public func cnnModelInputInfo(
  _ model: UnsafePointer<cnn_model>?, _ index: Int32, _ info: UnsafeMutablePointer<cnn_tensor_info>?
) -> CNNStatus {
  guard let s = modelState(model), let info, index >= 0, Int(index) < s.pointee.inputCount else {
    return .invalidArgument
  }
  fillTensorInfo(s.pointee, s.pointee.inputTensor(Int(index)), info)
  return .ok
}

/// Describes model output `index` (0 ≤ index < cnn_model_output_count()).
@c(cnn_model_output_info) public func cnnModelOutputInfo(
  _ model: UnsafePointer<cnn_model>?, _ index: Int32, _ info: UnsafeMutablePointer<cnn_tensor_info>?
) -> CNNStatus {
  guard let s = modelState(model), let info, index >= 0, Int(index) < s.pointee.outputCount else {
    return .invalidArgument
  }
  fillTensorInfo(s.pointee, s.pointee.outputTensor(Int(index)), info)
  return .ok
}

func fillTensorInfo(_ s: ModelState, _ i: Int, _ info: UnsafeMutablePointer<cnn_tensor_info>) {
  let t = s.tensors[i]
  let r = TensorRecord.read(from: s.data + Int(s.header.tensorTableOffset) + i * ModelFormat.tensorRecordSize)
  info.pointee.dtype = Int32(t.type.rawValue)
  info.pointee.rank = Int32(t.rank)
  info.pointee.dims = r.dims
  info.pointee.element_count = t.count
  info.pointee.byte_size = t.byteSize
  info.pointee.scale = t.scale
  info.pointee.zero_point = t.zeroPoint
  info.pointee.per_channel = t.quantKind == .perChannel ? 1 : 0
  info.pointee.is_constant = t.isActivation ? 0 : 1
  info.pointee.name = s.string(t.nameOffset)
}

/// Describes op `index` (0 ≤ index < cnn_model_op_count()): type, tensors,
/// output shape, parameter count and multiply-accumulates.
@c(cnn_model_op_info) public func cnnModelOpInfo(
  _ model: UnsafePointer<cnn_model>?, _ index: Int32, _ info: UnsafeMutablePointer<cnn_op_info>?
) -> CNNStatus {
  guard let s = modelState(model), let info, index >= 0, Int(index) < s.pointee.opCount else {
    return .invalidArgument
  }
  let op = s.pointee.ops[Int(index)]
  let out = s.pointee.tensors[Int(op.output)].dims
  info.pointee.type = Int32(op.code.rawValue)
  info.pointee.type_name = UnsafeRawPointer(op.code.staticName.utf8Start).assumingMemoryBound(to: CChar.self)
  info.pointee.input_count = Int32(op.inputCount)
  info.pointee.output_count = Int32(op.outputCount)
  info.pointee.inputs = (op.input(0), op.input(1), op.input(2))
  info.pointee.output = op.output
  info.pointee.output_dims = (Int32(out.n), Int32(out.h), Int32(out.w), Int32(out.c))
  info.pointee.param_count = op.paramCount
  info.pointee.macs = op.macs
  return .ok
}

/// Tensor index of input `k` of op `op` (0 ≤ k < cnn_op_info.input_count);
/// -1 when that optional input is absent, or for a NULL model or an index
/// out of range.
@c(cnn_model_op_input) public func cnnModelOpInput(_ model: UnsafePointer<cnn_model>?, _ op: Int32, _ k: Int32) -> Int32 {
  guard let s = modelState(model), op >= 0, Int(op) < s.pointee.opCount else { return -1 }
  let o = s.pointee.ops[Int(op)]
  guard k >= 0, Int(k) < o.inputCount else { return -1 }
  return o.input(Int(k))
}

/// Tensor index of output `k` of op `op` (0 ≤ k < cnn_op_info.output_count);
/// -1 for a NULL model or an index out of range.
@c(cnn_model_op_output) public func cnnModelOpOutput(_ model: UnsafePointer<cnn_model>?, _ op: Int32, _ k: Int32) -> Int32 {
  guard let s = modelState(model), op >= 0, Int(op) < s.pointee.opCount else { return -1 }
  let o = s.pointee.ops[Int(op)]
  guard k >= 0, Int(k) < o.outputCount else { return -1 }
  return o.output(Int(k))
}

/// Number of classes: the size of the last dimension of output 0 (0 for NULL).
@c(cnn_model_class_count) public func cnnModelClassCount(_ model: UnsafePointer<cnn_model>?) -> Int32 {
  guard let s = modelState(model) else { return 0 }
  return Int32(s.pointee.tensors[s.pointee.outputTensor(0)].dims.c)
}

/// Label of class `index`, NUL-terminated UTF-8 inside the model data, or ""
/// when the model has no labels. NULL when `model` is NULL or `index` is out
/// of range. Valid until the model is freed.
@c(cnn_model_class_label) public func cnnModelClassLabel(_ model: UnsafePointer<cnn_model>?, _ index: Int32) -> UnsafePointer<CChar>? {
  guard let s = modelState(model), index >= 0, index < cnnModelClassCount(model) else { return nil }
  return s.pointee.label(Int(index))
}

/// Model name from the metadata ("" when absent; NULL when `model` is NULL).
@c(cnn_model_name) public func cnnModelName(_ model: UnsafePointer<cnn_model>?) -> UnsafePointer<CChar>? {
  guard let s = modelState(model) else { return nil }
  return s.pointee.hasMetadata ? s.pointee.string(s.pointee.metadata.nameOffset) : emptyCString()
}

/// Bytes of the activation pool chosen by the memory planner: tensors whose
/// lifetimes do not overlap share space, and a Reshape's input, or an input
/// of a Concatenation with only 1s before its axis, is placed inside the
/// output's bytes (nothing copied). Part of cnn_context_arena_size().
/// 0 for NULL.
@c(cnn_model_activation_bytes) public func cnnModelActivationBytes(_ model: UnsafePointer<cnn_model>?) -> UInt {
  UInt(modelState(model)?.pointee.activationBytes ?? 0)
}

/// Bytes the activations would need with one buffer per tensor (no
/// sharing), for comparison with cnn_model_activation_bytes(). 0 for NULL.
@c(cnn_model_unplanned_activation_bytes) public func cnnModelUnplannedActivationBytes(_ model: UnsafePointer<cnn_model>?) -> UInt {
  UInt(modelState(model)?.pointee.unplannedActivationBytes ?? 0)
}
