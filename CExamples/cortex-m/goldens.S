/* Golden data embedded in flash, found through the assembler's include path
 * (-Wa,-I): the TFLM goldens of the MLPerf Tiny models
 * (Tests/Golden/tflm/<case>.{inputs,outputs}.bin, 200 samples each) and the
 * MNIST sample images with the outputs the host (x86-64) library gives for
 * them (build/<arch>/firmware/mnist_*.bin, written by host_expected.c). */
  .section .rodata.goldens, "a"

  .macro blob name, file
  .balign 16
  .global \name
\name:
  .incbin "\file"
  .global \name\()_end
\name\()_end:
  .endm

  blob resnet8_inputs, "mlperf_tiny_ic_resnet8.inputs.bin"
  blob resnet8_outputs, "mlperf_tiny_ic_resnet8.outputs.bin"
  blob dscnn_inputs, "mlperf_tiny_kws_dscnn.inputs.bin"
  blob dscnn_outputs, "mlperf_tiny_kws_dscnn.outputs.bin"
  blob mnist_pixels, "mnist_pixels.bin"
  blob mnist_outputs, "mnist_outputs.bin"
  blob mnist_classes, "mnist_classes.bin"
