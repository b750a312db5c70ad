# Firmware test for Cortex-M, included by the Makefile when ARCH is
# cortex-m4 or cortex-m0plus (`make test ARCH=cortex-m4`). See docs/EMBEDDED.md.
#
#   1. the host CLI imports the MLPerf Tiny models from ../shared/data/models
#      into $(FW_DIR) and exports them and the bundled MNIST model as C
#      (`cnnrt export-c`; nothing derived from ../shared/data is committed);
#   2. the host library (make lib ARCH=<host>) classifies the MNIST sample
#      images: their expected outputs (host_expected.c);
#   3. arm-none-eabi-gcc builds the firmware (strict C11 flags, the exported
#      model sources included) against $(LIBDIR)/libcnnrt.a;
#   4. qemu-system-arm runs it with -icount shift=0; the exit status is the
#      firmware's (0 = every output byte matched).
FW_SRC        := CExamples/cortex-m
FW_DIR        := $(BUILD)/$(ARCH)/firmware
SHARED_MODELS := ../shared/data/models
HOST_LIBDIR   := $(if $(filter x86_64,$(HOST_ARCH)),$(BUILD)/lib,$(BUILD)/$(HOST_ARCH)/lib)
FW_MODELS     := mnist resnet8 dscnn
FW_MODEL_SRCS := $(patsubst %,$(FW_DIR)/models/%_model.c,$(FW_MODELS))
MNIST_IMAGES  := $(sort $(wildcard samples/mnist/digit_*.pgm))
# Samples per MLPerf model (0 = all 200 of each golden file); mutated models.
FW_SAMPLES    ?= 0
FW_MUTATIONS  ?= 300
FW_CFLAGS     := $(CFLAGS_STRICT) $(MCU_CFLAGS_$(ARCH)) -Os -g -ffunction-sections -fdata-sections \
                 -IInclude -I$(FW_SRC) -I$(FW_DIR)/models -DFW_TARGET='"$(ARCH)"' -DFW_SAMPLES=$(FW_SAMPLES) -DFW_MUTATIONS=$(FW_MUTATIONS)
FW_LDFLAGS    := -nostartfiles --specs=nano.specs -T $(FW_SRC)/mps2_an386.ld -Wl,--gc-sections \
                 -Wl,-Map=$(FW_DIR)/firmware.map -Wl,--no-enum-size-warning -Wl,--no-warn-execstack
# (libgcc and newlib are built with short enums but pass none across calls.)
# mps2-an386 is a Cortex-M4F. QEMU has no Cortex-M0+ board with enough memory;
# Armv6-M code is a subset of Armv7-M, so the M0+ build runs on the Cortex-M3
# board (mps2-an385, same memory map).
QEMU_MACHINE_cortex-m4     := mps2-an386
QEMU_MACHINE_cortex-m0plus := mps2-an385
FW_QEMU       := qemu-system-arm -M $(QEMU_MACHINE_$(ARCH)) -nographic -monitor none -serial none \
                 -semihosting-config enable=on,target=native -icount shift=0
FW_TIMEOUT    ?= 1200

.PHONY: firmware firmware-test firmware-models embedded-figures fw-cli firmware-ops-test fw-ops-run

# Only the CLI (swift build without --product also builds swift-protobuf's protoc).
# (Not again in the OPS sub-make of firmware-ops-test: the models exist by then.)
fw-cli:
	$(if $(OPS_LIST),@true,$(SWIFT) build -c $(SPM_CONFIG) --product cnnrt)
	$(if $(OPS_LIST),@true,$(SWIFT) build -c $(SPM_CONFIG) --product cnnrt-fixtures)

# Every TFLM golden case (Tests/Golden/tflm, up to FW_SUITE_SAMPLES samples
# each; the MLPerf models run all theirs above) as flash data: the imported
# models (the fixtures tool) and tools/mcu/golden_suite.py's table.
FW_SUITE_SAMPLES ?= 3
$(FW_DIR)/fixtures/golden_models.txt: $(wildcard Tests/Golden/tflm/*.json) | fw-cli
	@mkdir -p $(FW_DIR)/fixtures
	$(SPM_BIN)/cnnrt-fixtures $(FW_DIR)/fixtures
$(FW_DIR)/suite/suite.S: $(FW_DIR)/fixtures/golden_models.txt tools/mcu/golden_suite.py
	$(PYTHON) tools/mcu/golden_suite.py --fixtures $(FW_DIR)/fixtures --out $(FW_DIR)/suite --samples $(FW_SUITE_SAMPLES)
$(FW_DIR)/obj/suite.o: $(FW_DIR)/suite/suite.S
	@mkdir -p $(FW_DIR)/obj
	$(TARGET_CC) $(MCU_CFLAGS_$(ARCH)) -c $< -o $@

firmware: $(FW_DIR)/firmware.elf

# Models as C: MNIST from models/, the MLPerf models imported first.
$(FW_DIR)/resnet8.cnnrt: $(SHARED_MODELS)/mlperf_tiny_ic_resnet8_int8.tflite | fw-cli
	@mkdir -p $(FW_DIR)
	$(SPM_BIN)/cnnrt import $< -o $@ --name resnet8
$(FW_DIR)/dscnn.cnnrt: $(SHARED_MODELS)/mlperf_tiny_kws_dscnn_int8.tflite | fw-cli
	@mkdir -p $(FW_DIR)
	$(SPM_BIN)/cnnrt import $< -o $@ --name dscnn
$(FW_DIR)/mnist.cnnrt: models/mnist.cnnrt
	@mkdir -p $(FW_DIR)
	cp $< $@
$(FW_DIR)/models/%_model.c $(FW_DIR)/models/%_model.h &: $(FW_DIR)/%.cnnrt | fw-cli
	$(SPM_BIN)/cnnrt export-c $< -o $(FW_DIR)/models --name $*
firmware-models: $(FW_MODEL_SRCS)

# Expected MNIST outputs from the host library.
$(FW_DIR)/host_expected: $(FW_SRC)/host_expected.c Include/cnnrt.h
	@mkdir -p $(FW_DIR)
	$(MAKE) --no-print-directory lib ARCH=$(HOST_ARCH) OPS=
	$(CC) $(CFLAGS_STRICT) -O2 -IInclude $< -o $@ -L$(HOST_LIBDIR) -lcnnrt -Wl,-rpath,$(abspath $(HOST_LIBDIR))
$(FW_DIR)/mnist_outputs.bin: $(FW_DIR)/host_expected models/mnist.cnnrt $(MNIST_IMAGES)
	$(FW_DIR)/host_expected models/mnist.cnnrt $(FW_DIR) $(MNIST_IMAGES)

FW_OBJS := $(patsubst %,$(FW_DIR)/obj/%.o,firmware startup goldens suite $(FW_MODELS:%=%_model))
# Rebuild when FW_SAMPLES or FW_MUTATIONS changes.
FW_SAMPLES_STAMP := $(FW_DIR)/obj/fw-samples
$(shell mkdir -p $(FW_DIR)/obj; [ "$$(cat $(FW_SAMPLES_STAMP) 2>/dev/null)" = "$(FW_SAMPLES) $(FW_MUTATIONS)" ] || echo $(FW_SAMPLES) $(FW_MUTATIONS) > $(FW_SAMPLES_STAMP))
$(FW_DIR)/obj/%.o: $(FW_SRC)/%.c $(FW_SRC)/board.h Include/cnnrt.h $(FW_MODEL_SRCS) $(FW_SAMPLES_STAMP)
	@mkdir -p $(FW_DIR)/obj
	$(TARGET_CC) $(FW_CFLAGS) -c $< -o $@
$(FW_DIR)/obj/%_model.o: $(FW_DIR)/models/%_model.c
	@mkdir -p $(FW_DIR)/obj
	$(TARGET_CC) $(FW_CFLAGS) -c $< -o $@
$(FW_DIR)/obj/goldens.o: $(FW_SRC)/goldens.S $(FW_DIR)/mnist_outputs.bin
	@mkdir -p $(FW_DIR)/obj
	$(TARGET_CC) $(MCU_CFLAGS_$(ARCH)) -c $< -o $@ -Wa,-I,Tests/Golden/tflm -Wa,-I,$(FW_DIR)

$(FW_DIR)/firmware.elf: $(FW_OBJS) $(LIB) $(FW_SRC)/mps2_an386.ld
	$(TARGET_CC) $(MCU_CFLAGS_$(ARCH)) $(FW_LDFLAGS) $(FW_OBJS) -L$(LIBDIR) -lcnnrt -lgcc -o $@
	arm-none-eabi-size $@

firmware-test: $(FW_DIR)/firmware.elf
	@echo "== firmware test: $(ARCH) on qemu-system-arm -M $(QEMU_MACHINE_$(ARCH)) -icount shift=0"
	set -o pipefail; timeout $(FW_TIMEOUT) $(FW_QEMU) -kernel $< 2>&1 | tee $(FW_DIR)/firmware-test.log

# The firmware of a ResNet-8 product: the library built with only the ops
# ResNet-8 uses (OPS = RESNET8_OPS from its exported header, the least flash),
# firmware.c with -DFW_RESNET8_OPS_ONLY: ResNet-8's goldens through cnn_run
# and cnn_classify, MNIST and DS-CNN refused at load. The make below runs
# with OPS set, so LIBDIR and ARCH_DIR are build/<arch>/ops-<hash>/.
FW_OPS_HEADER := $(FW_DIR)/models/resnet8_model.h
firmware-ops-test: $(FW_MODEL_SRCS) $(FW_DIR)/obj/goldens.o
	ops=$$(sed -n 's/^#define RESNET8_OPS "\(.*\)"$$/\1/p' $(FW_OPS_HEADER)); \
	  test -n "$$ops" || { echo "no RESNET8_OPS in $(FW_OPS_HEADER)" >&2; exit 1; }; \
	  $(MAKE) --no-print-directory fw-ops-run ARCH=$(ARCH) OPS="$$ops" FW_SAMPLES=$(FW_SAMPLES)
ifneq ($(OPS_LIST),)
FW_OPS_DIR  := $(ARCH_DIR)/firmware
FW_OPS_OBJS := $(FW_OPS_DIR)/firmware.o $(patsubst %,$(FW_DIR)/obj/%.o,startup goldens $(FW_MODELS:%=%_model))
$(FW_OPS_DIR)/firmware.o: $(FW_SRC)/firmware.c $(FW_SRC)/board.h Include/cnnrt.h $(FW_MODEL_SRCS) $(FW_SAMPLES_STAMP)
	@mkdir -p $(FW_OPS_DIR)
	$(TARGET_CC) $(FW_CFLAGS) -DFW_RESNET8_OPS_ONLY -c $< -o $@
$(FW_OPS_DIR)/firmware.elf: $(FW_OPS_OBJS) $(LIB) $(FW_SRC)/mps2_an386.ld
	$(TARGET_CC) $(MCU_CFLAGS_$(ARCH)) $(subst $(FW_DIR)/firmware.map,$(FW_OPS_DIR)/firmware.map,$(FW_LDFLAGS)) \
	  $(FW_OPS_OBJS) -L$(LIBDIR) -lcnnrt -lgcc -o $@
	arm-none-eabi-size $@
fw-ops-run: $(FW_OPS_DIR)/firmware.elf
	@echo "== firmware test, library with OPS=\"$(OPS_LIST)\": $(ARCH) on qemu-system-arm -M $(QEMU_MACHINE_$(ARCH))"
	set -o pipefail; timeout $(FW_TIMEOUT) $(FW_QEMU) -kernel $< 2>&1 | tee $(BUILD)/$(ARCH)/firmware/firmware-ops-test.log
	cp $(FW_OPS_DIR)/firmware.map $(BUILD)/$(ARCH)/firmware/firmware-ops.map
endif

# Figures for docs/EMBEDDED.md: the map's per-object sizes and the run's log.
embedded-figures: firmware-test firmware-ops-test
	$(PYTHON) tools/mcu/figures.py --map $(FW_DIR)/firmware.map --log $(FW_DIR)/firmware-test.log \
	  --ops-map $(FW_DIR)/firmware-ops.map --ops-log $(FW_DIR)/firmware-ops-test.log \
	  --arch $(ARCH) --command "make embedded-figures ARCH=$(ARCH)" --out docs/EMBEDDED.md
