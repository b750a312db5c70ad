// Plain parameter structs shared by every kernel (reference and optimised).
//
// All shapes are NHWC. Kernels receive pointers that the loader has already
// validated (every index a kernel can form is in bounds for the shapes given),
// so kernels only debug-assert. Everything here is prepared at model load;
// the run loop passes these structs to the kernels unchanged.

/// A 4-D NHWC shape. Rank < 4 tensors are padded on the left with 1s.
public struct Dims4: Equatable, Sendable {
  public var n: Int
  public var h: Int
  public var w: Int
  public var c: Int

  @inline(__always)
  public init(n: Int, h: Int, w: Int, c: Int) {
    self.n = n; self.h = h; self.w = w; self.c = c
  }

  /// Number of elements (the caller guarantees it does not overflow: the
  /// loader checks every tensor's element count against the file size / arena).
  @inline(__always)
  public var count: Int { n &* h &* w &* c }
}

/// Per-output-channel requantization: out = MultiplyByQuantizedMultiplier(acc, multiplier[c], shift[c]).
/// `shift` follows the TFLite convention: positive = left shift.
/// For per-tensor quantization both pointers address arrays whose entries are all equal
/// (the loader expands them), so kernels never branch on per-tensor vs per-channel.
public struct ChannelRequant {
  public var multiplier: UnsafePointer<Int32>
  public var shift: UnsafePointer<Int32>

  @inline(__always)
  public init(multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int32>) {
    self.multiplier = multiplier; self.shift = shift
  }
}

/// Convolution parameters (Conv2D, grouped Conv2D, DepthwiseConv2D).
public struct ConvParams {
  /// -input_zero_point, added to every input tap (padding taps contribute 0).
  public var inputOffset: Int32
  /// output_zero_point, added after requantization.
  public var outputOffset: Int32
  public var strideH: Int
  public var strideW: Int
  public var dilationH: Int
  public var dilationW: Int
  /// Zero padding before the first row / column (bottom/right follow from the output size).
  public var padTop: Int
  public var padLeft: Int
  /// Depthwise only: output channels per input channel.
  public var depthMultiplier: Int
  /// Fused activation as clamp bounds, in output quantized units.
  public var activationMin: Int32
  public var activationMax: Int32

  public init(inputOffset: Int32, outputOffset: Int32, strideH: Int, strideW: Int,
              dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int,
              depthMultiplier: Int, activationMin: Int32, activationMax: Int32) {
    self.inputOffset = inputOffset; self.outputOffset = outputOffset
    self.strideH = strideH; self.strideW = strideW
    self.dilationH = dilationH; self.dilationW = dilationW
    self.padTop = padTop; self.padLeft = padLeft
    self.depthMultiplier = depthMultiplier
    self.activationMin = activationMin; self.activationMax = activationMax
  }
}

/// Fully-connected parameters. Input is [batches, depth] (any NHWC tensor
/// flattened, batches = element count / depth), filter is [units, depth].
public struct FullyConnectedParams {
  public var inputOffset: Int32
  /// -filter_zero_point (0 for symmetric int8 weights).
  public var filterOffset: Int32
  public var outputOffset: Int32
  public var activationMin: Int32
  public var activationMax: Int32

  public init(inputOffset: Int32, filterOffset: Int32, outputOffset: Int32,
              activationMin: Int32, activationMax: Int32) {
    self.inputOffset = inputOffset; self.filterOffset = filterOffset
    self.outputOffset = outputOffset
    self.activationMin = activationMin; self.activationMax = activationMax
  }
}

/// Max / average pooling parameters. Input and output share quantization.
public struct PoolParams {
  public var strideH: Int
  public var strideW: Int
  public var filterH: Int
  public var filterW: Int
  public var padTop: Int
  public var padLeft: Int
  public var activationMin: Int32
  public var activationMax: Int32

  public init(strideH: Int, strideW: Int, filterH: Int, filterW: Int,
              padTop: Int, padLeft: Int, activationMin: Int32, activationMax: Int32) {
    self.strideH = strideH; self.strideW = strideW
    self.filterH = filterH; self.filterW = filterW
    self.padTop = padTop; self.padLeft = padLeft
    self.activationMin = activationMin; self.activationMax = activationMax
  }
}

/// Elementwise Add with rescaling of both inputs (TFLite reference add).
public struct AddParams {
  public var input1Offset: Int32
  public var input2Offset: Int32
  public var outputOffset: Int32
  public var leftShift: Int32
  public var input1Multiplier: Int32
  public var input1Shift: Int32
  public var input2Multiplier: Int32
  public var input2Shift: Int32
  public var outputMultiplier: Int32
  public var outputShift: Int32
  public var activationMin: Int32
  public var activationMax: Int32

  public init(input1Offset: Int32, input2Offset: Int32, outputOffset: Int32, leftShift: Int32,
              input1Multiplier: Int32, input1Shift: Int32, input2Multiplier: Int32, input2Shift: Int32,
              outputMultiplier: Int32, outputShift: Int32, activationMin: Int32, activationMax: Int32) {
    self.input1Offset = input1Offset; self.input2Offset = input2Offset
    self.outputOffset = outputOffset; self.leftShift = leftShift
    self.input1Multiplier = input1Multiplier; self.input1Shift = input1Shift
    self.input2Multiplier = input2Multiplier; self.input2Shift = input2Shift
    self.outputMultiplier = outputMultiplier; self.outputShift = outputShift
    self.activationMin = activationMin; self.activationMax = activationMax
  }
}

/// Softmax int8 parameters (prepared by `prepareSoftmax`). Output quantization
/// is fixed: scale 1/256, zero point -128.
public struct SoftmaxParams {
  public var inputMultiplier: Int32
  public var inputLeftShift: Int32
  public var diffMin: Int32

  public init(inputMultiplier: Int32, inputLeftShift: Int32, diffMin: Int32) {
    self.inputMultiplier = inputMultiplier; self.inputLeftShift = inputLeftShift
    self.diffMin = diffMin
  }
}

/// Logistic (sigmoid) int8 parameters (prepared by `prepareLogistic`).
/// Output quantization is fixed: scale 1/256, zero point -128.
public struct LogisticParams {
  public var inputZeroPoint: Int32
  public var inputRangeRadius: Int32
  public var inputMultiplier: Int32
  public var inputLeftShift: Int32

  public init(inputZeroPoint: Int32, inputRangeRadius: Int32, inputMultiplier: Int32, inputLeftShift: Int32) {
    self.inputZeroPoint = inputZeroPoint; self.inputRangeRadius = inputRangeRadius
    self.inputMultiplier = inputMultiplier; self.inputLeftShift = inputLeftShift
  }
}
