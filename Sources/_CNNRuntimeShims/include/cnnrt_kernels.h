/*
 * cnnrt_kernels.h — the argument block of the optimised (per-ISA) kernels.
 *
 * The ISA kernel modules (_CNNKernelsAVX2, _CNNKernelsAVX512) take only raw
 * pointers and this plain C struct, so they do not depend on CNNRuntime.
 * The runtime fills one block per Conv2D op at model load (in the model
 * block, next to the packed weights) and passes it unchanged at inference.
 */
#ifndef CNNRT_KERNELS_H
#define CNNRT_KERNELS_H

#include <stdint.h>

typedef struct cnnrt_conv_args {
  int64_t batches, in_h, in_w, in_c;
  int64_t out_h, out_w, out_c;
  int64_t k_h, k_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  /* Input-channel groups of the packed layout: pairs (AVX2) or quads (AVX-512). */
  int64_t c_groups;
  /* Output-channel blocks of the packed layout (8 lanes AVX2, 16 AVX-512). */
  int64_t oc_blocks;
  int32_t input_offset, output_offset, act_min, act_max;
  /* Packed weights (layout per ISA, see the kernel module). */
  const void *weights;
  /* Per output channel, padded to oc_blocks * lanes: the accumulator's
   * initial value (bias, plus any load-time correction), multiplier, shift. */
  const int32_t *acc_init;
  const int32_t *multiplier;
  const int32_t *shift;
  /* AVX2 row-scratch kernels (ConvRowsAVX2.swift, DepthwiseAVX2.swift).
   * variant 0: the per-tap kernel (layout above); 1: the row-scratch kernel:
   * each output row's input rows are widened once to int16 (x + offset,
   * padding = 0) in a 4 KiB stack buffer, chunk_w output pixels at a time, and the packed
   * filter is [oc_blocks][k_h][taps_per_row][pairs_per_tap][8][2] (when
   * dilation_w == 1 a kernel row's k_w * in_c inputs are one tap).
   * AVX-512 variant 2 (row mode, ConvAVX512.swift): dilation_w == 1 and
   * k_w * in_c <= CNNRT_AVX512_ROW_MAX_INPUTS; a kernel row's k_w * in_c
   * inputs are one tap of c_groups quads: [oc_blocks][k_h][c_groups][16][4].
   * AVX-512 depthwise variant 3 (DepthwiseAVX512.swift): c_groups quads of
   * taps, oc_blocks blocks of 64 output channels; weights
   * [oc_blocks][c_groups][4][16][4], acc_init/multiplier/shift
   * [oc_blocks][4][16] in the kernel's lane order; rq_table (depth
   * multiplier > 1) the vpermw gather indices, [oc_blocks][2][32] int16;
   * chunk_w: 0 for the per-tap kernel, else the band kernel with that
   * many output pixels per 64-byte vector (1, or 64 / in_c for 16 or 32
   * channels, depth multiplier 1 and stride_w 1: the vector's lanes hold
   * that many adjacent pixels, weights repeated in each); taps_per_row 3:
   * the column kernel (3x3, stride_h 1 or 2, dilation_h 1, multiplier 1),
   * whose quad q is kernel row q's three taps and a zero weight, chunk_w
   * its pixels per column group. AVX-512 Conv2D
   * (variants 0 and 2): chunk_w 1 for the band kernel, 0 for the per-tap
   * kernel (cnnrt_conv512_band_row_bytes). */
  int64_t variant;
  int64_t taps_per_row, pairs_per_tap;
  /* int16 elements per input pixel in the scratch rows (depthwise: the
   * output channels padded to a multiple of 16, input channel ic repeated
   * for its depth_multiplier outputs); output pixels per chunk. */
  int64_t px_stride, chunk_w;
  /* Requantization table (variant 1): per 8-lane block, 7 vectors of 8
   * int32 (layout and derivation: _CNNKernelsAVX2/RequantAVX2.swift). */
  const int32_t *rq_table;
  /* Some left shift is non-zero (variant 1). Depthwise: output channels
   * per input channel (out_c = in_c * depth_multiplier). */
  int32_t has_left_shift, depth_multiplier;
} cnnrt_conv_args;

/* Elementwise int8 Add, same-shape inputs (the reference's AddParams, as
 * filled by prepareAdd). Shifts must lie in -31...31 and left_shift in
 * 0...31, act_min/act_max in -128...127 (checked by the runtime before it
 * chooses an ISA kernel). */
typedef struct cnnrt_add_args {
  int32_t input1_offset, input2_offset, output_offset, left_shift;
  int32_t input1_multiplier, input1_shift;
  int32_t input2_multiplier, input2_shift;
  int32_t output_multiplier, output_shift;
  int32_t act_min, act_max;
  /* 1 or 2: the CPU has AVX512-VBMI (set at load on the AVX-512 path): the
   * AVX-512 kernel may look each input's term up in byte tables, with four
   * vpermb (1) or two vpermt2b (2) per byte plane (cnnrt_cpu_prefers_vpermt2b). */
  int32_t byte_tables;
  /* 1 + q (q in 0...4 extra bits): cnnrtAddSplitOutputAVX512 found, at
   * load, that the output stage splits between the two inputs' tables for
   * these parameters (the sum of two table values, one arithmetic shift and
   * the offset give the reference's output for all 65,536 input pairs): the
   * table kernel runs that form (AddSplit512). 0: the exact output stage. */
  int32_t split_output;
} cnnrt_add_args;

/* FullyConnected: output[b][u] = requant(sum_d (filter[u][d] + filter_offset)
 * * (input[b][d] + input_offset) + bias[u]). filter is the model's own
 * [units][depth] int8 tensor (used in place); bias may be NULL;
 * multiplier/shift have `units` entries. Offsets must lie in -127...128
 * (so x + offset fits int16), shifts in -31...31, act_min/act_max in
 * -128...127 (checked by the runtime). */
/* Row mode's limit on k_w * in_c (the AVX-512 kernel's 256-byte scratch slot). */
#define CNNRT_AVX512_ROW_MAX_INPUTS 252
/* Largest k_h * k_w of the AVX-512 depthwise kernel (a 64-bit tap mask);
 * larger kernels run the AVX2 depthwise kernels on the AVX-512 path. */
#define CNNRT_AVX512_DW_MAX_TAPS 64
/* Bytes of one scratch row of the AVX-512 Conv2D band kernel
 * (ConvAVX512.swift, convBandAVX512) for the packed layout's c_groups quads:
 * in row mode (variant 2: dilation_w 1, a kernel row's k_w * in_c inputs one
 * tap) in_c bytes per input pixel and a tap's quads read from its first
 * pixel, else 4 * c_groups bytes per pixel; rounded up to 64; -1 when out of
 * range. The loader picks the band kernel (chunk_w = 1) when k_h such rows fit
 * CNNRT_AVX2_STACK_BYTES. */
static inline int64_t cnnrt_conv512_band_row_bytes(int64_t out_w, int64_t stride_w, int64_t k_w,
                                                   int64_t dilation_w, int64_t in_c, int64_t c_groups,
                                                   int row_mode) {
  if (out_w < 1 || stride_w < 1 || k_w < 1 || dilation_w < 1 || in_c < 1 || c_groups < 1 || out_w > (1 << 20) ||
      stride_w > (1 << 10) || k_w > (1 << 10) || dilation_w > (1 << 10) || in_c > (1 << 16)) return -1;
  int64_t needed;
  if (row_mode) {
    if (dilation_w != 1 || k_w * in_c > CNNRT_AVX512_ROW_MAX_INPUTS || c_groups != (k_w * in_c + 3) / 4) return -1;
    needed = (out_w - 1) * stride_w * in_c + 4 * c_groups;
  } else {
    if (c_groups != (in_c + 3) / 4) return -1;
    needed = ((out_w - 1) * stride_w + (k_w - 1) * dilation_w + 1) * 4 * c_groups;
  }
  return (needed + 63) / 64 * 64;
}

/* Bytes of one scratch row of the AVX-512 depthwise band kernel
 * (DepthwiseAVX512.swift): the input columns the output row reads, padding
 * included, `channels` bytes each, plus 64 bytes that a vector read at the
 * last column may cover, rounded up to 64; -1 when out of range. The band
 * kernel runs when k_h such rows fit CNNRT_AVX2_STACK_BYTES. */
static inline int64_t cnnrt_dw512_band_row_bytes(int64_t out_w, int64_t stride_w, int64_t k_w,
                                                 int64_t dilation_w, int64_t channels) {
  if (out_w < 1 || stride_w < 1 || k_w < 1 || dilation_w < 1 || channels < 1 || out_w > (1 << 20) ||
      stride_w > (1 << 10) || k_w > (1 << 10) || dilation_w > (1 << 10) || channels > (1 << 20)) return -1;
  int64_t cols = (out_w - 1) * stride_w + (k_w - 1) * dilation_w + 1;
  return (cols * channels + 64 + 63) / 64 * 64;
}

typedef struct cnnrt_fc_args {
  int64_t batches, depth, units;
  int32_t input_offset, filter_offset, output_offset, act_min, act_max;
  const int8_t *filter;
  const int32_t *bias;
  const int32_t *multiplier;
  const int32_t *shift;
} cnnrt_fc_args;

/* AveragePool2D (the reference's PoolParams and shapes), NHWC int8; input
 * and output share quantization; act_min/act_max in -128...127. */
typedef struct cnnrt_pool_args {
  int64_t batches, in_h, in_w, channels, out_h, out_w;
  int64_t stride_h, stride_w, filter_h, filter_w, pad_top, pad_left;
  int32_t act_min, act_max;
} cnnrt_pool_args;

/* binary: elementwise int8 Mul of two contiguous rows (the reference's
 * MulParams, as filled by prepareMul): out = clamp(MBQM((x1 + input1_offset)
 * * (x2 + input2_offset), output_multiplier, output_shift) + output_offset).
 * output_shift must lie in -31...31, output_multiplier in 0...2^31-1,
 * act_min/act_max in -128...127 (checked by the runtime before it chooses
 * an ISA kernel). */
typedef struct cnnrt_mul_args {
  int32_t input1_offset, input2_offset, output_offset;
  int32_t output_multiplier, output_shift;
  int32_t act_min, act_max, reserved;
} cnnrt_mul_args;

/* Arm (aarch64) Conv2D and depthwise Conv2D, NHWC int8 (ArmKernels.swift
 * packs at load, Sources/_CNNKernelsNEON runs). Per-channel arrays are padded
 * to oc_blocks * 16 entries: the accumulator's initial value, multiplier,
 * left shift (max(shift, 0)) and negated right shift (-max(-shift, 0)).
 * Conv2D weights: [oc_blocks][k_h][k_w][c_groups][4][4 oc][4 c] int8, zero
 * padded; or, when row_groups > 0 (dilation_w 1, in_c not a multiple of 4,
 * e.g. an RGB first layer), one kernel row's k_w * in_c filter values as one
 * run of row_groups groups of 4: [oc_blocks][k_h][row_groups][4][4 oc][4];
 * acc_init = bias + input_offset * sum(filter), so padded taps are
 * fed the input zero point (-input_offset) and contribute nothing.
 * Depthwise weights: [k_h * k_w][oc_blocks * 16] int8, zero padded; acc_init
 * = bias + input_offset * sum of the channel's taps (padded taps are fed the
 * input zero point, as in Conv2D). Offsets in -127...128, act_min/act_max in -128...127. */
typedef struct cnnrt_arm_conv_args {
  int64_t batches, in_h, in_w, in_c;
  int64_t out_h, out_w, out_c;
  int64_t k_h, k_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int64_t c_groups, oc_blocks, depth_multiplier, row_groups;
  int32_t input_offset, output_offset, act_min, act_max;
  const int8_t *weights;
  const int32_t *acc_init;
  const int32_t *multiplier;
  const int32_t *left_shift;
  const int32_t *neg_right_shift;
} cnnrt_arm_conv_args;

/* Uninitialised stack memory for the AVX2 row-scratch kernels
 * (ConvRowsAVX2.swift): calls body(buffer, context) with `buffer` pointing at
 * CNNRT_AVX2_STACK_BYTES bytes, 32-byte aligned, in this call's stack frame.
 * The kernels widen their int8 packed weights into it once per call. (A
 * Swift value would have to be initialised first: 32 KiB of zero stores per
 * kernel call, which also push the working set out of the L1 cache.) */
#define CNNRT_AVX2_STACK_BYTES 32768
#if defined(CNNRT_ASAN_POISON)
/* AddressSanitizer builds (make ctest-asan): 64 poisoned bytes on each side
 * of the buffer, so that a kernel stepping out of it is reported (the
 * compiler gives this C frame no redzones of its own). */
#include "cnnrt_shims.h"
static inline void cnnrt_with_stack_buffer(void (*body)(void *buffer, void *context), void *context) {
  _Alignas(64) unsigned char guarded[64 + CNNRT_AVX2_STACK_BYTES + 64];
  cnnrt_shim_asan_poison(guarded, 64);
  cnnrt_shim_asan_poison(guarded + 64 + CNNRT_AVX2_STACK_BYTES, 64);
  body(guarded + 64, context);
  cnnrt_shim_asan_unpoison(guarded, sizeof guarded);
}
#else
static inline void cnnrt_with_stack_buffer(void (*body)(void *buffer, void *context), void *context) {
  _Alignas(32) unsigned char buffer[CNNRT_AVX2_STACK_BYTES];
  body(buffer, context);
}
#endif

#endif /* CNNRT_KERNELS_H */
