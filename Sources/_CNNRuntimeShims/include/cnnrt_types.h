/*
 * cnnrt_types.h — the C types of the public API.
 *
 * This is the single definition of the structs and handles that the exported
 * cnn_* functions take. The Swift runtime imports it; tools/gen_header.py
 * copies the part between the CNNRT-PUBLIC markers into Include/cnnrt.h
 * (the handles become incomplete types there: their content is private).
 */
#ifndef CNNRT_TYPES_H
#define CNNRT_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* Private definitions of the opaque handles: the runtime uses the memory
 * behind these pointers as raw storage. C users only ever see pointers. */
struct cnn_model { uint8_t opaque_; };
struct cnn_context { uint8_t opaque_; };

/* Swift-only naming, removed from the public header by tools/gen_header.py. */
#if defined(__has_attribute)
#if __has_attribute(swift_name) && __has_attribute(enum_extensibility)
#define CNN_SWIFT_NAME(name) __attribute__((swift_name(#name)))
#define CNN_CLOSED_ENUM __attribute__((enum_extensibility(closed)))
#endif
#endif
#ifndef CNN_SWIFT_NAME
#define CNN_SWIFT_NAME(name)
#define CNN_CLOSED_ENUM
#endif

/* CNNRT-PUBLIC-BEGIN */
/**
 * Result of a cnnrt call. 0 is success, every error is negative. Values are
 * part of the ABI: they are never renumbered, new codes get new values.
 * cnn_status_string() describes each.
 */
typedef enum CNN_CLOSED_ENUM CNN_SWIFT_NAME(CNNStatus) cnn_status {
  /** Success. */
  CNN_STATUS_OK CNN_SWIFT_NAME(ok) = 0,
  /** A required pointer is NULL, a size is zero or negative, or an index is out of range. */
  CNN_STATUS_INVALID_ARGUMENT CNN_SWIFT_NAME(invalidArgument) = -1,
  /** An allocation made by a convenience call (cnn_model_load_file, cnn_context_create) failed. */
  CNN_STATUS_OUT_OF_MEMORY CNN_SWIFT_NAME(outOfMemory) = -2,
  /** The model file cannot be opened or read. */
  CNN_STATUS_IO_ERROR CNN_SWIFT_NAME(ioError) = -3,
  /** The buffer does not start with the cnnrt model magic: not a cnnrt model. */
  CNN_STATUS_BAD_MAGIC CNN_SWIFT_NAME(badMagic) = -4,
  /** The model's format or quantization-scheme version is not the one this library reads: a newer one (upgrade cnnrt), or format 1 (re-import the model with this cnnrt). */
  CNN_STATUS_UNSUPPORTED_VERSION CNN_SWIFT_NAME(unsupportedVersion) = -5,
  /** The buffer is shorter than the model it holds (truncated copy or download). */
  CNN_STATUS_TRUNCATED CNN_SWIFT_NAME(truncated) = -6,
  /** The model's checksum does not match its bytes (corrupted file). */
  CNN_STATUS_CHECKSUM_MISMATCH CNN_SWIFT_NAME(checksumMismatch) = -7,
  /** A table, offset, size or string of the model lies outside the file or overlaps wrongly. */
  CNN_STATUS_MALFORMED_MODEL CNN_SWIFT_NAME(malformedModel) = -8,
  /** A tensor record is invalid: element type, rank, dimensions, quantization or constant data size. */
  CNN_STATUS_BAD_TENSOR CNN_SWIFT_NAME(badTensor) = -9,
  /** An op or the model's input/output table refers to a tensor index that does not exist. */
  CNN_STATUS_BAD_TENSOR_INDEX CNN_SWIFT_NAME(badTensorIndex) = -10,
  /** An op code is unknown, or an op parameter (stride, dilation, padding, filter size, activation) is illegal. */
  CNN_STATUS_BAD_OP CNN_SWIFT_NAME(badOp) = -11,
  /** Tensor shapes are inconsistent with an op's parameters (e.g. the output size is not (W − F + 2P)/S + 1). */
  CNN_STATUS_SHAPE_MISMATCH CNN_SWIFT_NAME(shapeMismatch) = -12,
  /** The op list is not a valid graph: a tensor is read before it is produced, or produced twice. */
  CNN_STATUS_BAD_GRAPH CNN_SWIFT_NAME(badGraph) = -13,
  /** The caller-provided arena is smaller than cnn_context_arena_size() reports. */
  CNN_STATUS_ARENA_TOO_SMALL CNN_SWIFT_NAME(arenaTooSmall) = -14,
  /** A buffer is not aligned as documented (model data: 16 bytes; arena: CNN_ARENA_ALIGNMENT). */
  CNN_STATUS_MISALIGNED CNN_SWIFT_NAME(misaligned) = -15,
  /** The image has 0 channels, or a channel count the model input cannot be fed from. */
  CNN_STATUS_UNSUPPORTED_IMAGE CNN_SWIFT_NAME(unsupportedImage) = -16,
  /** The model has no output the call can use (e.g. cnn_classify on a model whose output is not a class vector). */
  CNN_STATUS_UNSUPPORTED_MODEL CNN_SWIFT_NAME(unsupportedModel) = -17
} cnn_status;

/**
 * A loaded, validated model. Immutable after loading: one model may be used
 * by any number of contexts on any number of threads at once.
 * Created by cnn_model_load_memory(), cnn_model_load_file() or
 * cnn_model_load_static(); released by cnn_model_free().
 */
typedef struct cnn_model cnn_model;

/**
 * The mutable state of one inference: activations, scratch and the input
 * preprocessing table, all inside one arena. A context is used by one thread
 * at a time. Created by cnn_context_init() (caller's arena) or
 * cnn_context_create() (one allocation); released by cnn_context_free().
 * A context refers to its model: the model must outlive it.
 */
typedef struct cnn_context cnn_context;

/** Element type of a tensor. */
typedef enum cnn_dtype {
  CNN_DTYPE_INT8 = 1,  /**< int8_t, quantized: real = scale * (q - zero_point). */
  CNN_DTYPE_INT32 = 2  /**< int32_t (biases). */
} cnn_dtype;

/** Operator types, as stored in the model (values never change). */
typedef enum cnn_op_type {
  CNN_OP_CONV_2D = 1,
  CNN_OP_DEPTHWISE_CONV_2D = 2,
  CNN_OP_FULLY_CONNECTED = 3,
  CNN_OP_MAX_POOL_2D = 4,
  CNN_OP_AVERAGE_POOL_2D = 5,
  CNN_OP_GLOBAL_AVERAGE_POOL = 6,
  CNN_OP_ADD = 7,
  CNN_OP_RESHAPE = 8,
  CNN_OP_SOFTMAX = 9,
  CNN_OP_LOGISTIC = 10,
  CNN_OP_MEAN = 11,  /**< Mean over any axes of a rank 1-5 input (TFLite MEAN, ONNX ReduceMean; before 0.3.0 H and W only). */
  CNN_OP_PAD = 12,   /**< Constant padding of H and W (TFLite PAD / PADV2). */
  /* activations */
  CNN_OP_RELU = 13,
  CNN_OP_RELU6 = 14,
  CNN_OP_LEAKY_RELU = 15,
  CNN_OP_PRELU = 16,       /**< Input 1: constant int8 alpha, broadcast to the input. */
  CNN_OP_HARD_SWISH = 17,
  CNN_OP_TANH = 18,        /**< Output scale 1/128, zero point 0. */
  CNN_OP_QUANTIZE = 19,    /**< int8 -> int8 requantization. */
  CNN_OP_LOOKUP_TABLE = 20, /**< Input 1: constant int8 [256] table, out = table[in + 128]. */
  /* binary */
  CNN_OP_MUL = 21,     /**< Elementwise product, broadcast (TFLite MUL). */
  CNN_OP_SUB = 22,     /**< Elementwise difference, broadcast (TFLite SUB). */
  CNN_OP_MAXIMUM = 23, /**< Elementwise maximum, broadcast (TFLite MAXIMUM). */
  CNN_OP_MINIMUM = 24, /**< Elementwise minimum, broadcast (TFLite MINIMUM). */
  CNN_OP_TRANSPOSE_CONV = 33, /**< Transposed convolution (TFLite TRANSPOSE_CONV, ONNX ConvTranspose; SAME, VALID or explicit pads). */
  /* shape */
  CNN_OP_STRIDED_SLICE = 40,  /**< Strided slice (TFLite STRIDED_SLICE / SLICE, ONNX Slice). */
  CNN_OP_TRANSPOSE = 41,      /**< Permutation of the dimensions. */
  CNN_OP_DEPTH_TO_SPACE = 42, /**< Channels to blocks of H and W (DCR order). */
  CNN_OP_SPACE_TO_DEPTH = 43, /**< Blocks of H and W to channels. */
  CNN_OP_SPLIT = 44,          /**< One input, several outputs (TFLite SPLIT / SPLIT_V / UNPACK). */
  CNN_OP_GATHER = 46,         /**< Gather along an axis with constant indices. */
  CNN_OP_TILE = 49,           /**< Input repeated along each axis (TFLite TILE, ONNX Tile; constant multiples). */
  /* reduce */
  CNN_OP_SUM = 47,        /**< Sum over any axes, requantized (TFLite SUM, ONNX ReduceSum). */
  CNN_OP_REDUCE_MAX = 48, /**< Maximum over any axes (TFLite REDUCE_MAX, ONNX ReduceMax). */
  /* join */
  CNN_OP_CONCATENATION = 30,           /**< Concatenation along one axis (TFLite CONCATENATION). */
  CNN_OP_RESIZE_NEAREST_NEIGHBOR = 31, /**< Nearest-neighbor resize of H and W (TFLite RESIZE_NEAREST_NEIGHBOR). */
  CNN_OP_RESIZE_BILINEAR = 32          /**< Bilinear resize of H and W (TFLite RESIZE_BILINEAR, TFLM integer arithmetic). */
} cnn_op_type;

/**
 * Description of one tensor, filled by cnn_model_tensor_info() and friends.
 * All pointers point into the model's own data and stay valid until the
 * model is freed.
 */
typedef struct cnn_tensor_info {
  int32_t dtype;        /**< A cnn_dtype value. */
  int32_t rank;         /**< Number of dimensions, 1 to 5. */
  int32_t dims[5];      /**< Shape, NHWC for rank 4; entries past rank are 0. */
  size_t element_count; /**< Product of the dims. */
  size_t byte_size;     /**< element_count × element size. */
  float scale;          /**< Quantization scale (per-tensor, or the first channel's when per_channel). */
  int32_t zero_point;   /**< Quantization zero point (int8 range). */
  int32_t per_channel;  /**< 1 when quantized per channel (weights), else 0. */
  int32_t is_constant;  /**< 1 for weights/biases stored in the model, 0 for activations. */
  const char *name;     /**< NUL-terminated UTF-8 name; "" when the model has none. */
} cnn_tensor_info;

/**
 * Description of one op, filled by cnn_model_op_info(). Counts are exact
 * 64-bit integers.
 */
typedef struct cnn_op_info {
  int32_t type;          /**< A cnn_op_type value. */
  const char *type_name; /**< Static name, e.g. "Conv2D". */
  int32_t input_count;   /**< Number of inputs (absent optional ones included); see cnn_model_op_input(). */
  int32_t output_count;  /**< Number of outputs (at least 1); see cnn_model_op_output(). */
  int32_t inputs[3];     /**< Tensor indices of the first three inputs; -1 where absent or past input_count. */
  int32_t output;        /**< Tensor index of the first output. */
  int32_t output_dims[4];/**< First output's shape (NHWC, rank padded with 1 on the left; rank 5 folds its first two dims). */
  int64_t param_count;   /**< Weights + biases of this op (FM × (F × F × FMP + 1) for a convolution). */
  int64_t macs;          /**< Multiply-accumulates one inference of this op performs. */
} cnn_op_info;

/**
 * Result of cnn_classify(). `label` points into the model data (valid until
 * the model is freed); it is "" when the model carries no labels.
 */
typedef struct cnn_classification {
  int32_t class_index;   /**< Index of the highest-scoring class (lowest index on ties). */
  float probability;     /**< Its dequantized score, in [0, 1] for softmax outputs. */
  const char *label;     /**< Its label. */
} cnn_classification;

/**
 * Called by cnn_run() and cnn_classify() after each op when installed with
 * cnn_context_set_op_observer(): `op_index` is the op just run, `output`
 * its int8 output (NHWC, `count` elements; describe it with
 * cnn_model_op_info() and cnn_model_tensor_info()). The data is valid only
 * during the call: a later op may reuse the memory. Used for per-layer
 * debugging and quantization-error reports; keep it fast, it runs inside
 * inference.
 */
typedef void (*cnn_op_observer)(void *user_data, int32_t op_index, const int8_t *output, size_t count);
/* CNNRT-PUBLIC-END */

#endif /* CNNRT_TYPES_H */
