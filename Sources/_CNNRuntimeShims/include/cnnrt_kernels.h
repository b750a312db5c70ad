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
} cnnrt_conv_args;

#endif /* CNNRT_KERNELS_H */
