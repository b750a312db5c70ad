# cnnrt — build, test and demo entry points.
#
#   make demo     build everything and classify the bundled demo images
#   make test     build everything and run every test (what .ci/run calls)
#
# SwiftPM builds the regular Swift targets (runtime module for Swift users
# and tests, tools, CLI). This Makefile compiles the SAME runtime sources as
# Embedded Swift into build/lib/libcnnrt.so (libc only, no allocations in
# the module) and generates Include/cnnrt.h from them.

SHELL      := /bin/bash
SWIFT      ?= swift
SWIFTC     ?= swiftc
CC         ?= gcc
PYTHON     ?= python3
BUILD      := build

# Target architecture of libcnnrt.so and the C tests: the host's by default.
#   make lib  ARCH=aarch64   cross-builds build/aarch64/lib/libcnnrt.so on an
#                            x86-64 host (Embedded Swift + aarch64-linux-gnu-gcc)
#   make test ARCH=aarch64   runs the C tests under qemu-aarch64 on every Arm path,
#                            also on the AddressSanitizer build (ctest-asan)
# On an aarch64 host (Raspberry Pi, Graviton, ...) the same commands build and
# run natively. The Swift tools (CLI, fixtures) always run on the host.
#   make lib  ARCH=cortex-m4      build/cortex-m4/lib/libcnnrt.a (Armv7E-M, FPv4-SP,
#                                 bare metal: no heap, no file system; docs/EMBEDDED.md)
#   make test ARCH=cortex-m4      builds the firmware test (CExamples/cortex-m) and runs
#                                 it in qemu-system-arm (mps2-an386)
#   make lib/test ARCH=cortex-m0plus   the same for Armv6-M (run on QEMU's Cortex-M3 board)
HOST_ARCH  := $(shell uname -m)
ARCH       ?= $(HOST_ARCH)
MCU_ARCHS  := cortex-m4 cortex-m0plus
MCU        := $(filter $(ARCH),$(MCU_ARCHS))
ifeq ($(ARCH),x86_64)
ARCH_DIR   := $(BUILD)
else ifneq ($(filter $(ARCH),aarch64 $(MCU_ARCHS)),)
ARCH_DIR   := $(BUILD)/$(ARCH)
else
$(error ARCH=$(ARCH): supported are x86_64, aarch64, cortex-m4 and cortex-m0plus)
endif

# The AVX-512 kernels on a CPU without AVX-512 (make avx512-emu-test, x86-64
# only): build/avx512emu/ holds a library whose _CNNKernelsAVX512 module is the
# same kernel sources compiled for x86-64-v3 together with
# tools/simd/AVX512Emulation.swift, a bit-level emulation of every AVX-512
# instruction they use (a function of the module shadows the intrinsic of the
# same name); its CPU check (CNNRT_AVX512_EMULATION, cnnrt_cpu.h) reports the
# AVX-512 path as available on an AVX2 CPU. Never a library to ship.
AVX512_EMU ?=
ifeq ($(AVX512_EMU),1)
ifneq ($(ARCH),x86_64)
$(error AVX512_EMU=1 needs ARCH=x86_64)
endif
ARCH_DIR   := $(BUILD)/avx512emu
endif

# A reduced op set, like TFLite Micro's op resolver (mainly for Cortex-M flash):
#   make lib ARCH=cortex-m4 OPS="CONV2D ADD AVERAGEPOOL2D RESHAPE FULLYCONNECTED SOFTMAX"
# compiles only those ops (Sources/CNNRuntime/Ops/OpTable.swift; the names are
# the op codes' case names in capitals, spaces or commas between them;
# `cnnrt export-c` writes a model's list as NAME_OPS) into
# build/<arch>/ops-<hash of the list>/. The library refuses a model with any
# other op at load (CNN_STATUS_BAD_OP, "op not in this build's op set").
OPS_KNOWN  := $(shell sed -n 's/^ *\#if !CNNRT_OP_SUBSET || CNNRT_OP_\([A-Z0-9]*\)$$/\1/p' Sources/CNNRuntime/Ops/OpTable.swift)
OPS_LIST   := $(sort $(shell echo '$(OPS)' | tr 'a-z,' 'A-Z '))
ifneq ($(OPS_LIST),)
ifneq ($(filter-out $(OPS_KNOWN),$(OPS_LIST)),)
$(error OPS: unknown op(s) $(filter-out $(OPS_KNOWN),$(OPS_LIST)); known: $(OPS_KNOWN))
endif
ARCH_DIR   := $(ARCH_DIR)/ops-$(shell echo '$(OPS_LIST)' | md5sum | cut -c1-8)
endif
LIBDIR     := $(ARCH_DIR)/lib
OBJDIR     := $(ARCH_DIR)/obj
GEN        := $(ARCH_DIR)/gen
SPM_CONFIG ?= debug
SPM_BIN     = $(shell $(SWIFT) build -c $(SPM_CONFIG) --show-bin-path 2>/dev/null)

RUNTIME_SRCS := $(shell find Sources/CNNRuntime -name '*.swift' | LC_ALL=C sort)
SHIM_HDRS    := $(wildcard Sources/_CNNRuntimeShims/include/*.h Sources/_CNNRuntimeShims/include/module.modulemap)

# Per-ISA kernel modules (Sources/_CNNKernels<ISA>): compiled first, each with
# its own -march flags, then imported by the runtime (-I $(GEN)) and linked
# into the same .so after the generic object. The runtime calls them only
# after CPU detection (cnnrt_cpu.h; CNNRT_ISA=portable|avx2|avx512 caps it).
KERNEL_AVX2_SRCS := $(shell find Sources/_CNNKernelsAVX2 -name '*.swift' | LC_ALL=C sort)
KERNEL_AVX512_SRCS := $(shell find Sources/_CNNKernelsAVX512 -name '*.swift' | LC_ALL=C sort)
# Arm: one set of kernel sources (Sources/_CNNKernelsNEON) compiled twice, as
# _CNNKernelsNEON (Armv8.0 NEON) and _CNNKernelsDotProd (Armv8.2 + SDOT, with
# -D CNNRT_DOTPROD); cnnrt_cpu.h picks one at load from getauxval(AT_HWCAP).
KERNEL_NEON_SRCS := $(shell find Sources/_CNNKernelsNEON -name '*.swift' | LC_ALL=C sort)

EMBEDDED_BASE  := -enable-experimental-feature Embedded -enable-experimental-feature Extern \
                  -wmo -parse-as-library -Xfrontend -no-allocations -Xcc -fPIC \
                  -I Sources/_CNNRuntimeShims/include
LINK_COMMON    := -Xlinker --version-script=tools/cnnrt.map -Xlinker --gc-sections
LINK_FLAGS      = -Xlinker -soname=$(LIB_SONAME) $(LINK_COMMON)

# The library version has ONE source: the three constants in
# Sources/CNNRuntime/API/Version.swift (tools/gen_header.py writes the same
# numbers into Include/cnnrt.h; tools/check-version.sh checks all agree).
VERSION_SWIFT := Sources/CNNRuntime/API/Version.swift
version_part   = $(shell sed -n 's/^public let cnnVersion$(1): UInt32 = \([0-9]*\)$$/\1/p' $(VERSION_SWIFT))
VERSION_MAJOR := $(call version_part,Major)
VERSION_MINOR := $(call version_part,Minor)
VERSION_PATCH := $(call version_part,Patch)
VERSION       := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)
LIB_SONAME    := libcnnrt.so.$(VERSION_MAJOR)
LIB_REAL      := libcnnrt.so.$(VERSION)

SWIFT_OPT        := -O
LIB              := $(LIBDIR)/libcnnrt.so
ifneq ($(MCU),)
# Cortex-M: Embedded Swift for armv7em/armv6m with newlib's headers (types
# only: the library calls nothing but memcpy/memset and libgcc helpers),
# CNNRT_BARE_METAL (Sources/_CNNRuntimeShims), -Osize, one section per function
# so the firmware link drops what it does not reach; a static library.
# C code calling it needs -fno-short-enums (Swift's clang uses 32-bit enums,
# arm-none-eabi-gcc defaults to short ones: cnn_status would not match).
KERNEL_OBJS      :=
KERNEL_MODULES   :=
MCU_TARGET_cortex-m4     := -target armv7em-none-none-eabi -Xcc -mcpu=cortex-m4 -Xcc -mfloat-abi=hard -Xcc -mfpu=fpv4-sp-d16 \
                            -D CNNRT_DSP
MCU_TARGET_cortex-m0plus := -target armv6m-none-none-eabi -Xcc -mcpu=cortex-m0plus -Xcc -mfloat-abi=soft
MCU_CFLAGS_cortex-m4     := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -fno-short-enums
MCU_CFLAGS_cortex-m0plus := -mcpu=cortex-m0plus -mthumb -mfloat-abi=soft -fno-short-enums
EMBEDDED_BASE    := $(subst -Xcc -fPIC,,$(EMBEDDED_BASE)) $(MCU_TARGET_$(ARCH)) \
                    -Xcc -isystem -Xcc /usr/lib/arm-none-eabi/include -Xcc -DCNNRT_BARE_METAL=1 -D CNNRT_BARE_METAL \
                    -Xfrontend -function-sections -Xfrontend -disable-stack-protector
SWIFT_OPT        := -Osize
TARGET_CC        := arm-none-eabi-gcc
LIB              := $(LIBDIR)/libcnnrt.a
else ifeq ($(ARCH),x86_64)
KERNEL_OBJS      := $(OBJDIR)/kernels_avx2.o $(OBJDIR)/kernels_avx512.o
KERNEL_MODULES   := $(GEN)/_CNNKernelsAVX2.swiftmodule $(GEN)/_CNNKernelsAVX512.swiftmodule
TARGET_CC        := $(CC)
ISA_PATHS        := portable avx2 avx512
RUN              :=
else
KERNEL_OBJS      := $(OBJDIR)/kernels_neon.o $(OBJDIR)/kernels_dotprod.o
KERNEL_MODULES   := $(GEN)/_CNNKernelsNEON.swiftmodule $(GEN)/_CNNKernelsDotProd.swiftmodule
# Embedded Swift has no aarch64-linux stdlib; the bare-metal aarch64 one with
# position-independent code links into a Linux .so (README, "Arm").
EMBEDDED_BASE    += -target aarch64-none-none-elf -Xllvm -relocation-model=pic -Xcc -DCNNRT_LINUX=1
ifeq ($(HOST_ARCH),aarch64)
TARGET_CC        := $(CC)
RUN              :=
else
TARGET_CC        := aarch64-linux-gnu-gcc
EMBEDDED_BASE    += -Xcc -isystem -Xcc /usr/aarch64-linux-gnu/include
# The C tests run under user-mode QEMU; cmocka comes from Debian multiarch.
QEMU_CPU         ?= max
QEMU_BASE        := qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/lib/aarch64-linux-gnu
RUN               = $(QEMU_BASE) -cpu $(QEMU_CPU)
TARGET_LDFLAGS   := -L/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,/usr/lib/aarch64-linux-gnu
endif
ISA_PATHS        := portable neon dotprod
endif
ifeq ($(AVX512_EMU),1)
EMBEDDED_BASE  += -Xcc -DCNNRT_AVX512_EMULATION=1
endif
EMBEDDED_FLAGS := $(EMBEDDED_BASE) -I $(GEN) -module-name CNNRuntime \
                  $(if $(OPS_LIST),-D CNNRT_OP_SUBSET $(OPS_LIST:%=-D CNNRT_OP_%))

CFLAGS_STRICT := -std=c11 -Wall -Wextra -pedantic -Werror
comma := ,
C_TEST_SRCS   := $(wildcard Tests/C/*.c)

.PHONY: all deps lib header header-check swift-build swift-test fixtures ctest ctest-asan ctest-tsan abi-check \
        fuzz fuzz-seeds examples demo test clean

all: lib examples swift-build

# ---- dependencies -------------------------------------------------------
deps:
	@ARCH=$(ARCH) bash tools/install-deps.sh $(if $(MCU),cortex-m)

# ---- libcnnrt.so (Embedded Swift) ---------------------------------------
lib: $(LIB)

$(OBJDIR)/kernels_avx2.o $(GEN)/_CNNKernelsAVX2.swiftmodule &: $(KERNEL_AVX2_SRCS) $(SHIM_HDRS)
	@mkdir -p $(OBJDIR) $(GEN)
	$(SWIFTC) $(EMBEDDED_BASE) -module-name _CNNKernelsAVX2 -Xcc -march=x86-64-v3 -O \
	  -emit-module -emit-module-path $(GEN)/_CNNKernelsAVX2.swiftmodule -c -o $(OBJDIR)/kernels_avx2.o $(KERNEL_AVX2_SRCS)
	touch $(OBJDIR)/kernels_avx2.o $(GEN)/_CNNKernelsAVX2.swiftmodule

# The AVX-512 kernels: for x86-64-v4 with VNNI, or (AVX512_EMU=1) for
# x86-64-v3 together with the emulation of their instructions.
ifeq ($(AVX512_EMU),1)
AVX512_KERNEL_FLAGS := -Xcc -march=x86-64-v3
AVX512_KERNEL_SRCS  := $(KERNEL_AVX512_SRCS) tools/simd/AVX512Emulation.swift
else
AVX512_KERNEL_FLAGS := -Xcc -march=x86-64-v4 -Xcc -mavx512vnni -Xcc -mavx512vbmi
AVX512_KERNEL_SRCS  := $(KERNEL_AVX512_SRCS)
endif

$(OBJDIR)/kernels_avx512.o $(GEN)/_CNNKernelsAVX512.swiftmodule &: $(AVX512_KERNEL_SRCS) $(SHIM_HDRS)
	@mkdir -p $(OBJDIR) $(GEN)
	$(SWIFTC) $(EMBEDDED_BASE) -module-name _CNNKernelsAVX512 $(AVX512_KERNEL_FLAGS) -O \
	  -emit-module -emit-module-path $(GEN)/_CNNKernelsAVX512.swiftmodule -c -o $(OBJDIR)/kernels_avx512.o $(AVX512_KERNEL_SRCS)
	touch $(OBJDIR)/kernels_avx512.o $(GEN)/_CNNKernelsAVX512.swiftmodule
ifeq ($(AVX512_EMU),1)
	@if objdump -d $(OBJDIR)/kernels_avx512.o | grep -qE '%zmm|%k[0-7]'; then \
	  echo "kernels_avx512.o (emulated) still has AVX-512 instructions: an intrinsic is missing from tools/simd/AVX512Emulation.swift:" >&2; \
	  objdump -d $(OBJDIR)/kernels_avx512.o | grep -E '%zmm|%k[0-7]' | head -5 >&2; rm -f $(OBJDIR)/kernels_avx512.o; exit 1; fi
else
	@sh tools/simd/check_vbmi.sh $(OBJDIR)/kernels_avx512.o || { rm -f $(OBJDIR)/kernels_avx512.o; exit 1; }
endif

$(OBJDIR)/kernels_neon.o $(GEN)/_CNNKernelsNEON.swiftmodule &: $(KERNEL_NEON_SRCS) $(SHIM_HDRS)
	@mkdir -p $(OBJDIR) $(GEN)
	$(SWIFTC) $(EMBEDDED_BASE) -module-name _CNNKernelsNEON -Xcc -march=armv8-a -O \
	  -emit-module -emit-module-path $(GEN)/_CNNKernelsNEON.swiftmodule -c -o $(OBJDIR)/kernels_neon.o $(KERNEL_NEON_SRCS)
	touch $(OBJDIR)/kernels_neon.o $(GEN)/_CNNKernelsNEON.swiftmodule

$(OBJDIR)/kernels_dotprod.o $(GEN)/_CNNKernelsDotProd.swiftmodule &: $(KERNEL_NEON_SRCS) $(SHIM_HDRS)
	@mkdir -p $(OBJDIR) $(GEN)
	$(SWIFTC) $(EMBEDDED_BASE) -module-name _CNNKernelsDotProd -D CNNRT_DOTPROD -Xcc -march=armv8.2-a+dotprod -O \
	  -emit-module -emit-module-path $(GEN)/_CNNKernelsDotProd.swiftmodule -c -o $(OBJDIR)/kernels_dotprod.o $(KERNEL_NEON_SRCS)
	touch $(OBJDIR)/kernels_dotprod.o $(GEN)/_CNNKernelsDotProd.swiftmodule

$(OBJDIR)/cnnrt.o $(GEN)/cnnrt-Swift.h &: $(RUNTIME_SRCS) $(SHIM_HDRS) $(KERNEL_MODULES)
	@mkdir -p $(OBJDIR) $(GEN)
	$(SWIFTC) $(EMBEDDED_FLAGS) $(SWIFT_OPT) -emit-module -emit-module-path $(GEN)/CNNRuntime.swiftmodule \
	  -emit-clang-header-path $(GEN)/cnnrt-Swift.h -c -o $(OBJDIR)/cnnrt.o $(RUNTIME_SRCS)
	touch $(OBJDIR)/cnnrt.o $(GEN)/cnnrt-Swift.h

# Generic object first: each object carries weak copies of the Embedded
# runtime helpers and the linker keeps the first (built for the baseline CPU).
# The file is libcnnrt.so.X.Y.Z with SONAME libcnnrt.so.X; libcnnrt.so.X and
# libcnnrt.so are symlinks (as installed, see "install" below).
$(LIBDIR)/libcnnrt.so: $(OBJDIR)/cnnrt.o $(KERNEL_OBJS) tools/cnnrt.map $(VERSION_SWIFT)
	@mkdir -p $(LIBDIR)
ifeq ($(ARCH),x86_64)
	$(SWIFTC) -enable-experimental-feature Embedded $(OBJDIR)/cnnrt.o $(KERNEL_OBJS) -emit-library -o $(LIBDIR)/$(LIB_REAL) $(LINK_FLAGS)
else
	$(TARGET_CC) -shared -o $(LIBDIR)/$(LIB_REAL) $(OBJDIR)/cnnrt.o $(KERNEL_OBJS) $(subst -Xlinker ,-Wl$(comma),$(LINK_FLAGS))
endif
	ln -sfn $(LIB_REAL) $(LIBDIR)/$(LIB_SONAME)
	ln -sfn $(LIB_SONAME) $@

# Static library for bare metal: only the cnn_* symbols stay global (the
# Embedded Swift runtime helpers and internal functions become local), and
# the library may reference nothing but memory functions and libgcc helpers.
# (Armv6-M: the Embedded Swift runtime's reference counting names __atomic_*
# helpers; nothing reaches them without allocation, so a firmware link with
# --gc-sections drops them, and fails if it does not.)
ifneq ($(MCU),)
MCU_ALLOWED_UNDEFINED := '^(memcpy|memmove|memset|__aeabi_[a-z0-9_]+|__(ashl|ashr|lshr|mul|div|mod|udiv|umod|cmp|ucmp|clz|ctz|popcount)[a-z0-9]+|__gnu_[a-z0-9_]+$(if $(filter cortex-m0plus,$(ARCH)),|__atomic_[a-z0-9_]+))$$'
$(LIBDIR)/libcnnrt.a: $(OBJDIR)/cnnrt.o
	@mkdir -p $(LIBDIR)
	arm-none-eabi-nm -g --defined-only $< | awk '$$3 ~ /^cnn_/ {print $$3}' > $(OBJDIR)/exports.txt
	arm-none-eabi-objcopy --keep-global-symbols=$(OBJDIR)/exports.txt $< $(OBJDIR)/cnnrt-mcu.o
	@bad=$$(arm-none-eabi-nm -u $(OBJDIR)/cnnrt-mcu.o | awk '{print $$2}' | grep -Ev $(MCU_ALLOWED_UNDEFINED) || true); \
	  if [ -n "$$bad" ]; then echo "libcnnrt.a would need: $$bad (bare metal allows memory functions and libgcc only)" >&2; exit 1; fi
	rm -f $@ && arm-none-eabi-ar rcs $@ $(OBJDIR)/cnnrt-mcu.o
	@echo "$@: $$(wc -l < $(OBJDIR)/exports.txt) cnn_* functions exported"; arm-none-eabi-size -t $@ | tail -1
endif

# AddressSanitizer build of the same sources, for the C tests (ctest-asan):
# the runtime and, on x86-64, the SIMD kernel objects instrumented; the
# runtime built with CNNRT_ASAN_POISON, so that before each op everything in
# the activation pool, every constant tensor's data and the other ops'
# prepared regions but that op's own is poisoned (Runtime/Interpreter.swift),
# and the kernels' stack buffer gets
# poisoned guards (cnnrt_kernels.h): a kernel of any path that touches a byte
# outside its op's inputs and outputs fails the test.
ASAN_POISON := -D CNNRT_ASAN_POISON -Xcc -DCNNRT_ASAN_POISON=1
ASAN_SWIFT  := -sanitize=address $(ASAN_POISON)
ifeq ($(ARCH),x86_64)
ASAN_KERNEL_OBJS := $(OBJDIR)/asan/kernels_avx2.o $(OBJDIR)/asan/kernels_avx512.o
else
ASAN_KERNEL_OBJS := $(OBJDIR)/asan/kernels_neon.o $(OBJDIR)/asan/kernels_dotprod.o
endif
# Leak checks where LeakSanitizer can run (not under QEMU: it needs ptrace).
# The sanitizer runtime reads its options from /proc/self/environ, which under
# qemu-aarch64 is QEMU's own: ASAN_OPTIONS goes in the host environment.
ASAN_LEAKS := $(if $(RUN),0,1)

# The x86-64 sanitizer builds: $(LIBDIR)/asan (above) and $(LIBDIR)/tsan
# (ThreadSanitizer, for ctest-tsan), the SIMD kernel objects instrumented too.
SAN_SWIFT_asan := $(ASAN_SWIFT)
SAN_SWIFT_tsan := -sanitize=thread
.PRECIOUS: $(OBJDIR)/%/kernels_avx2.o $(OBJDIR)/%/kernels_avx512.o

$(OBJDIR)/%/kernels_avx2.o: $(KERNEL_AVX2_SRCS) $(SHIM_HDRS)
	@mkdir -p $(dir $@)
	$(SWIFTC) $(EMBEDDED_BASE) -module-name _CNNKernelsAVX2 -Xcc -march=x86-64-v3 -O $(SAN_SWIFT_$*) -c -o $@ $(KERNEL_AVX2_SRCS)
	touch $@

$(OBJDIR)/%/kernels_avx512.o: $(AVX512_KERNEL_SRCS) $(SHIM_HDRS)
	@mkdir -p $(dir $@)
	$(SWIFTC) $(EMBEDDED_BASE) -module-name _CNNKernelsAVX512 $(AVX512_KERNEL_FLAGS) -O $(SAN_SWIFT_$*) -c -o $@ \
	  $(AVX512_KERNEL_SRCS)
	touch $@

ifeq ($(ARCH),x86_64)
$(LIBDIR)/%/libcnnrt.so: $(RUNTIME_SRCS) $(SHIM_HDRS) $(OBJDIR)/%/kernels_avx2.o $(OBJDIR)/%/kernels_avx512.o $(KERNEL_MODULES) \
                         tools/cnnrt.map
	@mkdir -p $(dir $@) $(OBJDIR)/$*
	$(SWIFTC) $(EMBEDDED_FLAGS) -O -g $(SAN_SWIFT_$*) -emit-module -emit-module-path $(OBJDIR)/$*/CNNRuntime.swiftmodule \
	  -c -o $(OBJDIR)/$*/cnnrt.o $(RUNTIME_SRCS)
	$(SWIFTC) -enable-experimental-feature Embedded $(firstword $(SAN_SWIFT_$*)) $(OBJDIR)/$*/cnnrt.o \
	  $(OBJDIR)/$*/kernels_avx2.o $(OBJDIR)/$*/kernels_avx512.o -emit-library -o $@ -Xlinker -soname=libcnnrt.so $(LINK_COMMON)
else ifeq ($(ARCH),aarch64)
# swiftc refuses -sanitize=address for aarch64-none-none-elf, the target the
# Linux library is compiled for. So swiftc emits LLVM IR (the same sources and
# flags, CNNRT_ASAN_POISON on), tools/arm/asan_ir.py marks its functions for
# AddressSanitizer and gives it the Linux triple (the AArch64 Linux shadow
# mapping), the toolchain's clang instruments and compiles it, and the target
# gcc links it against libasan (libasan8-arm64-cross when cross-building).
$(OBJDIR)/asan/kernels_neon.ll: $(KERNEL_NEON_SRCS) $(SHIM_HDRS)
	@mkdir -p $(dir $@)
	$(SWIFTC) $(EMBEDDED_BASE) -module-name _CNNKernelsNEON -Xcc -march=armv8-a -O $(ASAN_POISON) -emit-ir -o $@ $(KERNEL_NEON_SRCS)
	touch $@

$(OBJDIR)/asan/kernels_dotprod.ll: $(KERNEL_NEON_SRCS) $(SHIM_HDRS)
	@mkdir -p $(dir $@)
	$(SWIFTC) $(EMBEDDED_BASE) -module-name _CNNKernelsDotProd -D CNNRT_DOTPROD -Xcc -march=armv8.2-a+dotprod -O $(ASAN_POISON) \
	  -emit-ir -o $@ $(KERNEL_NEON_SRCS)
	touch $@

$(OBJDIR)/asan/cnnrt.ll: $(RUNTIME_SRCS) $(SHIM_HDRS) $(KERNEL_MODULES)
	@mkdir -p $(dir $@)
	$(SWIFTC) $(EMBEDDED_FLAGS) -O -g $(ASAN_POISON) -emit-ir -o $@ $(RUNTIME_SRCS)
	touch $@

$(OBJDIR)/asan/%.o: $(OBJDIR)/asan/%.ll tools/arm/asan_ir.py
	$(PYTHON) tools/arm/asan_ir.py $< $(@:.o=.asan.ll)
	$(CLANG) --target=aarch64-unknown-linux-gnu -fsanitize=address -O2 -fPIC -c $(@:.o=.asan.ll) -o $@

$(LIBDIR)/asan/libcnnrt.so: $(OBJDIR)/asan/cnnrt.o $(ASAN_KERNEL_OBJS) tools/cnnrt.map
	@mkdir -p $(dir $@)
	$(TARGET_CC) -shared -fsanitize=address -o $@ $(OBJDIR)/asan/cnnrt.o $(ASAN_KERNEL_OBJS) \
	  -Wl,-soname=libcnnrt.so $(subst -Xlinker ,-Wl$(comma),$(LINK_COMMON))
endif

# ---- header ---------------------------------------------------------------
header: $(GEN)/cnnrt-Swift.h
	$(PYTHON) tools/gen_header.py $(GEN)/cnnrt-Swift.h Include/cnnrt.h

header-check: $(GEN)/cnnrt-Swift.h
	$(PYTHON) tools/gen_header.py $(GEN)/cnnrt-Swift.h Include/cnnrt.h --check
	$(CC) $(CFLAGS_STRICT) -fsyntax-only -x c Include/cnnrt.h
	g++ -std=c++17 -Wall -Wextra -pedantic -Werror -fsyntax-only -x c++ Include/cnnrt.h

abi-check: $(LIBDIR)/libcnnrt.so
	@bash tools/check-abi.sh $(LIBDIR)/libcnnrt.so $(ARCH)

# ---- Swift (SwiftPM) --------------------------------------------------------
swift-build:
	$(SWIFT) build -c $(SPM_CONFIG)
	$(if $(filter x86_64,$(ARCH)),sh tools/simd/check_vbmi.sh $(SPM_BIN)/_CNNKernelsAVX512.build/*.o)

swift-test:
	$(SWIFT) test

fixtures: swift-build
	@mkdir -p $(BUILD)/fixtures
	$(SPM_BIN)/cnnrt-fixtures $(BUILD)/fixtures

# ---- C tests (cmocka) -------------------------------------------------------
TESTDIR := $(patsubst %/lib,%/tests,$(LIBDIR))
ASAN_TESTDIR := $(patsubst %/lib,%/tests-asan,$(LIBDIR))

$(TESTDIR)/%: Tests/C/%.c Tests/C/test_util.h Include/cnnrt.h $(LIBDIR)/libcnnrt.so
	@mkdir -p $(TESTDIR)
	$(TARGET_CC) $(CFLAGS_STRICT) -D_GNU_SOURCE -IInclude $< -o $@ -L$(LIBDIR) -lcnnrt -Wl,-rpath,'$$ORIGIN/../lib' \
	  $(TARGET_LDFLAGS) -lcmocka -ldl -lm $(TEST_LIBS)

# test_export_c links the MNIST model exported by `cnnrt export-c` (host CLI),
# compiled with the same strict flags.
EXPORT_C_DIR := $(BUILD)/export-c
$(EXPORT_C_DIR)/mnist_model.c $(EXPORT_C_DIR)/mnist_model.h &: models/mnist.cnnrt | swift-build
	$(SPM_BIN)/cnnrt export-c $< -o $(EXPORT_C_DIR) --name mnist

$(TESTDIR)/test_export_c: Tests/C/test_export_c.c $(EXPORT_C_DIR)/mnist_model.c Tests/C/test_util.h Include/cnnrt.h $(LIBDIR)/libcnnrt.so
	@mkdir -p $(TESTDIR)
	$(TARGET_CC) $(CFLAGS_STRICT) -D_GNU_SOURCE -IInclude -I$(EXPORT_C_DIR) $< $(EXPORT_C_DIR)/mnist_model.c -o $@ \
	  -L$(LIBDIR) -lcnnrt -Wl,-rpath,'$$ORIGIN/../lib' $(TARGET_LDFLAGS) -lcmocka -ldl -lm

$(ASAN_TESTDIR)/test_export_c: Tests/C/test_export_c.c $(EXPORT_C_DIR)/mnist_model.c Include/cnnrt.h $(LIBDIR)/asan/libcnnrt.so
	@mkdir -p $(ASAN_TESTDIR)
	$(TARGET_CC) $(CFLAGS_STRICT) -D_GNU_SOURCE -DCNNRT_ASAN=1 -fsanitize=address -fno-omit-frame-pointer -g -IInclude -I$(EXPORT_C_DIR) \
	  $< $(EXPORT_C_DIR)/mnist_model.c -o $@ -L$(LIBDIR)/asan -lcnnrt -Wl,-rpath,'$$ORIGIN/../lib/asan' $(TARGET_LDFLAGS) -lcmocka -ldl -lm

$(ASAN_TESTDIR)/%: Tests/C/%.c Tests/C/test_util.h Include/cnnrt.h $(LIBDIR)/asan/libcnnrt.so
	@mkdir -p $(ASAN_TESTDIR)
	$(TARGET_CC) $(CFLAGS_STRICT) -D_GNU_SOURCE -DCNNRT_ASAN=1 -fsanitize=address -fno-omit-frame-pointer -g -IInclude $< -o $@ \
	  -L$(LIBDIR)/asan -lcnnrt -Wl,-rpath,'$$ORIGIN/../lib/asan' $(TARGET_LDFLAGS) -lcmocka -ldl -lm

# ThreadSanitizer (x86-64): test_threads on $(LIBDIR)/tsan/libcnnrt.so.
TSAN_TESTDIR := $(patsubst %/lib,%/tests-tsan,$(LIBDIR))
# (Linked by the toolchain's clang: its ThreadSanitizer runtime matches the
# instrumentation swiftc emitted, gcc's lacks some of its entry points; that
# runtime also intercepts libdispatch, which the toolchain ships.)
SWIFT_RUNTIME_DIR := $(abspath $(dir $(shell command -v $(SWIFTC)))../lib/swift/linux)
$(TSAN_TESTDIR)/test_threads: Tests/C/test_threads.c Tests/C/test_util.h Include/cnnrt.h $(LIBDIR)/tsan/libcnnrt.so
	@mkdir -p $(TSAN_TESTDIR)
	$(CLANG) $(CFLAGS_STRICT) -D_GNU_SOURCE -fsanitize=thread -g -pthread -IInclude $< -o $@ \
	  -L$(LIBDIR)/tsan -lcnnrt -Wl,-rpath,'$$ORIGIN/../lib/tsan' -lcmocka -ldl -lm \
	  -L$(SWIFT_RUNTIME_DIR) -ldispatch -lBlocksRuntime -Wl,-rpath,$(SWIFT_RUNTIME_DIR)

$(TESTDIR)/test_threads: TEST_LIBS := -pthread

C_TESTS      := $(patsubst Tests/C/%.c,$(TESTDIR)/%,$(C_TEST_SRCS))
C_PER_PATH   := test_no_alloc test_golden test_paths
# (test_threads runs one model on several threads: the ASan build's per-op
# poisoning of the shared model bytes assumes one run at a time.)
C_TESTS_ASAN := $(patsubst Tests/C/%.c,$(ASAN_TESTDIR)/%,$(filter-out $(patsubst %,Tests/C/%.c,$(C_PER_PATH) test_threads),$(filter Tests/C/test_%.c,$(C_TEST_SRCS))))
C_ENV        := CNNRT_FIXTURES=$(BUILD)/fixtures CNNRT_GOLDEN_DIR=Tests/Golden/tflm
# The per-path tests under AddressSanitizer too (ctest-asan; test_no_alloc
# counts allocations with its own malloc, so it stays out): every golden case
# and random model on each kernel path, all an op does not own poisoned around it.
C_PER_PATH_ASAN := $(patsubst %,$(ASAN_TESTDIR)/%,test_golden test_paths)

# test_no_alloc (no allocation during inference) and test_golden (every TFLM
# golden vector, byte for byte) run once per kernel path; the other tests once.
# x86-64: a path the CPU lacks is capped to the best available one, so every
# run is valid on any x86-64 CPU. aarch64 under QEMU: a Cortex-A72 (Armv8.0,
# no SDOT) runs the portable and NEON paths, `-cpu max` (SDOT) all three; the
# test prints the path the library actually chose (cnn_model_kernel_path).
# test_threads is left out under QEMU: qemu-aarch64 7.2 hangs in
# pthread_create, even for a two-thread C program without cnnrt.
ifeq ($(ARCH)$(RUN),aarch64)
ARM_CPU_PATHS := native:portable,neon,dotprod
else
ARM_CPU_PATHS := cortex-a72:portable,neon max:portable,neon,dotprod
endif

ctest: $(C_TESTS) fixtures
ifeq ($(ARCH),x86_64)
	@set -e; for t in $(filter-out $(patsubst %,$(TESTDIR)/%,$(C_PER_PATH)),$(filter $(TESTDIR)/test_%,$(C_TESTS))); do \
	  echo "== $$t"; $(C_ENV) $$t; done
	@set -e; for isa in $(ISA_PATHS); do for t in $(C_PER_PATH); do echo "== $(TESTDIR)/$$t (CNNRT_ISA=$$isa)"; \
	  CNNRT_ISA=$$isa $(C_ENV) $(TESTDIR)/$$t; done; done
else
	@set -e; for t in $(filter-out $(patsubst %,$(TESTDIR)/%,$(C_PER_PATH) $(if $(RUN),test_threads)),$(filter $(TESTDIR)/test_%,$(C_TESTS))); do \
	  echo "== $$t ($(ARCH)$(if $(RUN), under qemu-aarch64))"; $(RUN) $(addprefix -E ,$(C_ENV)) $$t; done
	@set -e; for cp in $(ARM_CPU_PATHS); do cpu=$${cp%%:*}; paths=$${cp#*:}; for isa in $${paths//,/ }; do \
	  for t in $(C_PER_PATH); do printf '%s\t%s\n' "$(TESTDIR)/$$t (CNNRT_ISA=$$isa$(if $(RUN),$(comma) qemu-aarch64 -cpu $$cpu))" \
	  "$(if $(RUN),$(QEMU_BASE) -cpu $$cpu -E CNNRT_ISA=$$isa -E CNNRT_EXPECT_PATH=$$isa $(addprefix -E ,$(C_ENV)),CNNRT_ISA=$$isa CNNRT_EXPECT_PATH=$$isa $(C_ENV)) \
	  $(TESTDIR)/$$t"; done; done; done | bash tools/run-jobs.sh
endif

# The per-path tests on the AVX-512 path with its instructions emulated (see
# AVX512_EMU above): run by `make test` on every x86-64 machine, so each
# AVX-512 kernel is checked against TFLM and portable even where no CPU
# has AVX-512 (on one that has it, ctest also runs the real instructions).
.PHONY: avx512-emu-test avx512-emu-run
avx512-emu-test:
	$(MAKE) --no-print-directory AVX512_EMU=1 avx512-emu-run

avx512-emu-run: $(patsubst %,$(TESTDIR)/%,$(C_PER_PATH)) $(C_PER_PATH_ASAN) $(TSAN_TESTDIR)/test_threads fixtures \
                $(ARCH_DIR)/emulation_check $(ARCH_DIR)/kernel_diff
	$(ARCH_DIR)/emulation_check
	$(ARCH_DIR)/kernel_diff
	@set -e; for t in $(C_PER_PATH); do echo "== $(TESTDIR)/$$t (CNNRT_ISA=avx512, AVX-512 instructions emulated)"; \
	  CNNRT_ISA=avx512 CNNRT_EXPECT_PATH=avx512 $(C_ENV) $(TESTDIR)/$$t; done
	@set -e; for t in $(C_PER_PATH_ASAN); do \
	  echo "== $$t (AddressSanitizer, all an op does not own poisoned around it, CNNRT_ISA=avx512, AVX-512 instructions emulated)"; \
	  CNNRT_ISA=avx512 CNNRT_EXPECT_PATH=avx512 $(C_ENV) $$t; done
	@echo "== $(TSAN_TESTDIR)/test_threads (ThreadSanitizer, CNNRT_ISA=avx512, AVX-512 instructions emulated)"
	@TSAN_OPTIONS=halt_on_error=1 CNNRT_ISA=avx512 CNNRT_EXPECT_PATH=avx512 $(C_ENV) $(TSAN_TESTDIR)/test_threads

# The emulation itself against the native AVX2 instructions (each half of a
# 512-bit operation that has a 256-bit counterpart).
$(BUILD)/avx512emu/emulation_check: tools/simd/AVX512Emulation.swift tools/simd/AVX512EmulationCheck.swift \
                                    tools/simd/SplitMix64.swift
	@mkdir -p $(dir $@)
	$(SWIFTC) -O -parse-as-library -Xcc -march=x86-64-v3 -module-name AVX512EmulationCheck $^ -o $@

# The AVX-512 elementwise, pooling and mean kernels (emulated) against the
# AVX2 kernels on random parameters, extremes included.
$(BUILD)/avx512emu/kernel_diff: $(KERNEL_AVX2_SRCS) $(KERNEL_AVX512_SRCS) tools/simd/AVX512Emulation.swift \
                                tools/simd/AVX512KernelDiff.swift tools/simd/SplitMix64.swift $(SHIM_HDRS)
	@mkdir -p $(dir $@)
	$(SWIFTC) -O -parse-as-library -Xcc -march=x86-64-v3 -I Sources/_CNNRuntimeShims/include \
	  -module-name AVX512KernelDiff $(filter %.swift,$^) -o $@

# Runs a test program with environment assignments $(1): directly, or under
# QEMU (with -cpu max: every Arm path) when cross-building. on_path runs it on
# kernel path $$isa of a shell loop (under QEMU it must be the path taken).
target_env = $(if $(RUN),$(QEMU_BASE) -cpu max $(addprefix -E ,$(1)),$(1))
on_path    = ASAN_OPTIONS=detect_leaks=$(ASAN_LEAKS) \
             $(call target_env,CNNRT_ISA=$$isa $(if $(RUN),CNNRT_EXPECT_PATH=$$isa) $(1))

ctest-asan: $(C_TESTS_ASAN) $(C_PER_PATH_ASAN) fixtures
	@set -e; for t in $(C_TESTS_ASAN); do echo "== $$t (AddressSanitizer$(if $(RUN),$(comma) qemu-aarch64; no leak check))"; \
	  ASAN_OPTIONS=detect_leaks=$(ASAN_LEAKS) $(call target_env,CNNRT_FIXTURES=$(BUILD)/fixtures) $$t; done
	@set -e; for isa in $(ISA_PATHS); do for t in $(C_PER_PATH_ASAN); do printf '%s\t%s\n' \
	  "$$t (AddressSanitizer, all an op does not own poisoned around it, CNNRT_ISA=$$isa$(if $(RUN),$(comma) qemu-aarch64 -cpu max))" \
	  "$(call on_path,$(C_ENV)) $$t"; done; done | bash tools/run-jobs.sh

# The thread rules (a shared model, one context per thread) under
# ThreadSanitizer, on each kernel path: any data race fails the test.
ctest-tsan: $(TSAN_TESTDIR)/test_threads fixtures
	@set -e; for isa in $(ISA_PATHS); do echo "== $(TSAN_TESTDIR)/test_threads (ThreadSanitizer, CNNRT_ISA=$$isa)"; \
	  TSAN_OPTIONS=halt_on_error=1 CNNRT_ISA=$$isa $(C_ENV) $(TSAN_TESTDIR)/test_threads; done

# ---- fuzzing (libFuzzer + ASan over the runtime sources) ------------------
# One instrumented build of the runtime sources (AddressSanitizer with the
# memory an op does not own poisoned around it, the SIMD kernels instrumented too, as in
# ctest-asan), two targets:
#   fuzz_diff  (Tests/Fuzz/fuzz_diff.c) loads each mutated model on every kernel
#              path the CPU has and aborts on any difference in load status,
#              op output or model output; FUZZ_SECONDS (default 40).
#   fuzz_load  (Tests/Fuzz/fuzz_load.c) loads and runs any model whose arena is
#              at most 64 MiB (no MAC cap); FUZZ_LOAD_SECONDS (default 15).
# Seeds: models/*.cnnrt, the C test fixtures, and every int8 TFLite model of
# ../shared/data/models and Tests/Golden/tflm/models converted with
# `cnnrt import`. Files in Tests/Fuzz/regressions/ (fixed findings) are replayed
# through fuzz_diff first. New corpus entries accumulate in build/fuzz/corpus*;
# findings go to build/fuzz/artifacts/. `make fuzz AVX512_EMU=1` builds both
# targets in build/avx512emu/fuzz/ with the AVX-512 kernels emulated (see
# avx512-emu-test), so that fuzz_diff compares the AVX-512 path too on a CPU
# without it.
# See Tests/Fuzz/README.md.
FUZZ_SECONDS      ?= 40
FUZZ_LOAD_SECONDS ?= 15
CLANG        ?= $(dir $(shell command -v $(SWIFTC)))clang
FUZZ_DIR     := $(ARCH_DIR)/fuzz
FUZZ_SEEDS   := $(FUZZ_DIR)/seeds
FUZZ_REGRESSIONS := $(sort $(wildcard Tests/Fuzz/regressions/*.cnnrt))
FUZZ_SEED_TFLITE := $(sort $(wildcard ../shared/data/models/*int8*.tflite) $(wildcard Tests/Golden/tflm/models/*.tflite))
FUZZ_STATS   := '^(stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|fuzz_diff|==|SUMMARY|Done|Running:|Executed)'

$(FUZZ_DIR)/cnnrt.o: $(RUNTIME_SRCS) $(SHIM_HDRS) $(KERNEL_MODULES)
	@mkdir -p $(FUZZ_DIR)
	$(SWIFTC) $(EMBEDDED_FLAGS) -O -sanitize=fuzzer $(ASAN_SWIFT) -emit-module -emit-module-path $(FUZZ_DIR)/CNNRuntime.swiftmodule \
	  -c -o $@ $(RUNTIME_SRCS)
	touch $@

$(FUZZ_DIR)/fuzz_%: Tests/Fuzz/fuzz_%.c Include/cnnrt.h $(FUZZ_DIR)/cnnrt.o $(ASAN_KERNEL_OBJS)
	$(CLANG) -O1 -g -fsanitize=fuzzer,address $(if $(filter 1,$(AVX512_EMU)),-DCNNRT_AVX512_EMULATION=1) \
	  -IInclude -I Sources/_CNNRuntimeShims/include $< $(FUZZ_DIR)/cnnrt.o $(ASAN_KERNEL_OBJS) -o $@ -lm 2>/dev/null

# Seed corpus (rebuilt when missing; `cnnrt import` keeps TFLite int8 models bit-exact).
fuzz-seeds: fixtures
	@mkdir -p $(FUZZ_SEEDS)
	@cp models/*.cnnrt $(BUILD)/fixtures/*.cnnrt $(FUZZ_SEEDS)/
	@set -e; for t in $(FUZZ_SEED_TFLITE); do o=$(FUZZ_SEEDS)/$$(basename $$t .tflite).cnnrt; \
	  [ -s $$o ] || $(SPM_BIN)/cnnrt import $$t -o $$o >/dev/null; done
	@echo "fuzz seeds: $$(ls $(FUZZ_SEEDS) | wc -l) models in $(FUZZ_SEEDS)"

fuzz: $(FUZZ_DIR)/fuzz_diff $(FUZZ_DIR)/fuzz_load fuzz-seeds
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/corpus-diff $(FUZZ_DIR)/artifacts
	$(if $(FUZZ_REGRESSIONS),set -o pipefail; $(FUZZ_DIR)/fuzz_diff $(FUZZ_REGRESSIONS) 2>&1 | grep -E $(FUZZ_STATS))
	set -o pipefail; $(FUZZ_DIR)/fuzz_diff -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus-diff $(FUZZ_SEEDS) 2>&1 | grep -E $(FUZZ_STATS)
	@cp $(BUILD)/fixtures/*.cnnrt $(FUZZ_DIR)/corpus/
	set -o pipefail; $(FUZZ_DIR)/fuzz_load -max_total_time=$(FUZZ_LOAD_SECONDS) -max_len=8192 -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus 2>&1 | grep -E $(FUZZ_STATS)

# ---- fuzzing the command line tool's file readers -----------------------------
# tools/fuzz/cli_fuzz.py: mutated TFLite and ONNX models (`cnnrt import`,
# `cnnrt quantize`), images and NumPy arrays (`cnnrt classify`, `cnnrt eval`)
# for FUZZ_CLI_SECONDS (default 60); fails on a signal, a timeout or a Swift
# trap, keeping the file in build/fuzz/cli-artifacts/.
.PHONY: fuzz-cli
FUZZ_CLI_SECONDS ?= 60
fuzz-cli: swift-build
	python3 tools/fuzz/cli_fuzz.py $(SPM_BIN)/cnnrt $(FUZZ_CLI_SECONDS) --artifacts $(FUZZ_DIR)/cli-artifacts

# ---- examples and demo ------------------------------------------------------
EXDIR := $(patsubst %/lib,%/examples,$(LIBDIR))
examples: $(EXDIR)/classify $(EXDIR)/classify_raw $(EXDIR)/infer_raw

$(EXDIR)/%: CExamples/%.c Include/cnnrt.h $(LIBDIR)/libcnnrt.so
	@mkdir -p $(EXDIR)
	$(TARGET_CC) $(CFLAGS_STRICT) -O2 -IInclude $< -o $@ -L$(LIBDIR) -lcnnrt -Wl,-rpath,'$$ORIGIN/../lib'

# ---- aarch64 against x86-64 (cross builds only) ------------------------------
# ResNet-8 and DS-CNN imported from ../shared/data, their 200 TFLM golden
# inputs run by CExamples/infer_raw from both builds: every Arm path under
# qemu-aarch64 must print the x86 build's bytes (tools/arm/compare-x86.sh).
.PHONY: arm-compare
arm-compare: $(EXDIR)/infer_raw swift-build
	$(MAKE) --no-print-directory ARCH=x86_64 $(BUILD)/examples/infer_raw
	bash tools/arm/compare-x86.sh $(SPM_BIN)/cnnrt $(BUILD)/examples/infer_raw $(EXDIR)/infer_raw $(QEMU_BASE)

# The Arm section of docs/BENCHMARKS.md: code sizes, inner-loop MACs per
# instruction from the disassembly, model block and arena per path (no times).
.PHONY: arm-report
arm-report: arm-compare $(EXDIR)/sizes
	$(MAKE) --no-print-directory ARCH=x86_64 $(BUILD)/examples/sizes
	bash tools/arm/report.sh $(BUILD)/examples/sizes $(EXDIR)/sizes \
	  $(BUILD)/aarch64/compare/mlperf_tiny_ic_resnet8.cnnrt $(BUILD)/aarch64/compare/mlperf_tiny_kws_dscnn.cnnrt models/mnist.cnnrt

$(EXDIR)/sizes: tools/arm/sizes.c Include/cnnrt.h $(LIBDIR)/libcnnrt.so
	@mkdir -p $(EXDIR)
	$(TARGET_CC) $(CFLAGS_STRICT) -O2 -IInclude $< -o $@ -L$(LIBDIR) -lcnnrt -Wl,-rpath,'$$ORIGIN/../lib'

demo: deps lib examples swift-build
	@bash tools/demo.sh

# ---- benchmark (cnnrt vs TFLite + XNNPACK vs TFLM; writes docs/BENCHMARKS*.md) --
# Builds the C timing program against libcnnrt.so, the peak probe and the
# Python venv (build/venv-tflm + ai-edge-litert), then runs tools/bench/run_bench.py
# (about 4-5 minutes with one column per kernel path of the CPU, single-threaded). Needs ../shared/data and PyPI.
# The report is the one of this kind of CPU: docs/BENCHMARKS.md when the default
# path is AVX-512, docs/BENCHMARKS-AVX2.md when it is AVX2; BENCH_OUT=FILE overrides.
.PHONY: bench bench-venv
BENCH_VENV := $(BUILD)/venv-tflm

bench: lib swift-build $(BUILD)/bench/bench_cnnrt $(BUILD)/bench/vnni_peak bench-venv
	$(BENCH_VENV)/bin/python tools/bench/run_bench.py --cli $(SPM_BIN)/cnnrt \
	  --bench-bin $(BUILD)/bench/bench_cnnrt --peak-bin $(BUILD)/bench/vnni_peak \
	  $(if $(BENCH_OUT),--out $(BENCH_OUT)) --command "make bench"

bench-venv: $(BENCH_VENV)/.bench-ready

# ---- static loop throughput (tools/bench/mca_loop.py) ----------------------
# A kernel loop of the built library through llvm-mca's scheduling models of
# other CPUs (installs llvm-22). By default the AVX-512 3x3 depthwise loop;
# MCA_ARGS="OBJECT SYMBOL [options]" picks another (see the script's header).
.PHONY: mca
MCA_ARGS ?= $(OBJDIR)/kernels_avx512.o depthwiseBand --count 12
mca: lib
	@bash tools/install-deps.sh mca
	python3 tools/bench/mca_loop.py $(MCA_ARGS)

$(BENCH_VENV)/.bench-ready: tools/tflm/requirements.txt tools/bench/requirements.txt tools/tflm/setup-venv.sh tools/bench/setup-venv.sh
	VENV=$(BENCH_VENV) bash tools/bench/setup-venv.sh
	touch $@

$(BUILD)/bench/bench_cnnrt: tools/bench/bench_cnnrt.c Include/cnnrt.h $(LIBDIR)/libcnnrt.so
	@mkdir -p $(BUILD)/bench
	$(CC) $(CFLAGS_STRICT) -O2 -IInclude $< -o $@ -L$(LIBDIR) -lcnnrt -Wl,-rpath,'$$ORIGIN/../lib'

# One binary for every ISA: each kernel has its own target attribute; the
# script runs only the modes /proc/cpuinfo lists.
$(BUILD)/bench/vnni_peak: tools/bench/vnni_peak.c
	@mkdir -p $(BUILD)/bench
	$(CC) $(CFLAGS_STRICT) -O2 $< -o $@

# ---- slow tier: the Keras applications zoo -----------------------------------
# Builds the TFLM venv, generates the Keras applications (untrained, seeded)
# as full-int8 TFLite with TFLM goldens into build/golden-slow (tools/tflm/
# cases_slow_zoo.py; about 15 minutes on 2 cores, once) and checks every net
# on every kernel path (Tests/CNNToolsTests/TFLMGoldenTests.swift,
# slowTierNetworksMatchTFLM). Needs PyPI.
.PHONY: zoo-test
SLOW_GOLDENS := $(BUILD)/golden-slow/manifest-slow_zoo.json

$(SLOW_GOLDENS): tools/tflm/cases_slow_zoo.py tools/tflm/make_goldens.py tools/tflm/tflm_run.py $(BENCH_VENV)/.bench-ready
	$(BENCH_VENV)/bin/python tools/tflm/make_goldens.py --family slow_zoo

# The same side-by-side timing over the Keras zoo nets of `make zoo-test`
# (the nets are generated on first use, as for zoo-test; then about 6 minutes),
# with the time of each net by op type: docs/BENCHMARKS-ZOO-AVX2.md on an AVX2
# CPU, docs/BENCHMARKS-ZOO.md on an AVX-512 one. BENCH_ZOO_ROUNDS rounds.
.PHONY: bench-zoo
BENCH_ZOO_ROUNDS ?= 7
bench-zoo: lib swift-build $(BUILD)/bench/bench_cnnrt $(BUILD)/bench/vnni_peak bench-venv $(SLOW_GOLDENS)
	$(BENCH_VENV)/bin/python tools/bench/run_bench.py --zoo --cli $(SPM_BIN)/cnnrt \
	  --bench-bin $(BUILD)/bench/bench_cnnrt --peak-bin $(BUILD)/bench/vnni_peak --rounds $(BENCH_ZOO_ROUNDS) \
	  $(if $(BENCH_OUT),--out $(BENCH_OUT)) --command "make bench-zoo"

# Then the C check of every op of every slow-tier net (Tests/C/zoo_paths.c)
# against the portable path: on each path this CPU has (a path it lacks is
# capped, as in ctest), and on the AVX-512 path with its instructions emulated;
# with ARCH=aarch64 on the portable, neon and dotprod paths under qemu-aarch64.
ZOO_C_DIR := $(BUILD)/zoo-c

zoo-test: $(SLOW_GOLDENS) swift-build $(TESTDIR)/zoo_paths $(ASAN_TESTDIR)/zoo_paths
	CNNRT_SLOW_TIER=1 swift test --filter TFLMGoldenTests/slowTierNetworksMatchTFLM
	@mkdir -p $(ZOO_C_DIR)
	@set -e; : > $(ZOO_C_DIR)/zoo_models.txt; \
	  for n in $$(python3 -c 'import json,sys; print(*(c["name"] for c in json.load(open(sys.argv[1]))["cases"]))' $(SLOW_GOLDENS)); do \
	    $(SPM_BIN)/cnnrt import $(BUILD)/golden-slow/models/$$n.tflite -o $(ZOO_C_DIR)/$$n.cnnrt >/dev/null; \
	    echo $$n >> $(ZOO_C_DIR)/zoo_models.txt; done
	@set -e; for isa in $(ISA_PATHS); do for t in $(TESTDIR)/zoo_paths $(ASAN_TESTDIR)/zoo_paths; do \
	  echo "== $$t (CNNRT_ISA=$$isa$(if $(RUN),$(comma) qemu-aarch64 -cpu max))"; \
	  $(call on_path,$(ZOO_C_ENV)) $$t; \
	  done; done
	$(if $(filter x86_64,$(ARCH)),$(MAKE) --no-print-directory AVX512_EMU=1 zoo-emu-run)

ZOO_C_ENV := CNNRT_ZOO_MODELS=$(ZOO_C_DIR) CNNRT_GOLDEN_DIR=$(BUILD)/golden-slow

.PHONY: zoo-emu-run onnx-zoo-paths
# (Each zoo check runs twice: on the library, and on its AddressSanitizer
# build with all an op does not own poisoned around it, see ctest-asan.)
zoo-emu-run: $(TESTDIR)/zoo_paths $(ASAN_TESTDIR)/zoo_paths
	@set -e; for t in $(TESTDIR)/zoo_paths $(ASAN_TESTDIR)/zoo_paths; do \
	  echo "== $$t (CNNRT_ISA=avx512, AVX-512 instructions emulated)"; \
	  CNNRT_ISA=avx512 CNNRT_EXPECT_PATH=avx512 $(ZOO_C_ENV) $$t; done

# The same op-by-op check on the torchvision nets `cnnrt quantize` made
# (after `bash tools/onnx_zoo/run_zoo.sh`; ONNX_ZOO=build/onnx_zoo for the
# untrained export): no TFLM twin, so the paths are compared with portable only.
ONNX_ZOO   ?= build/onnx_zoo_mnist
ONNX_ZOO_C := $(BUILD)/onnx-zoo-c

onnx-zoo-paths: swift-build $(TESTDIR)/zoo_paths $(ASAN_TESTDIR)/zoo_paths
	python3 tools/onnx_zoo/zoo_inputs.py $(ONNX_ZOO) $(ONNX_ZOO_C) $(SPM_BIN)/cnnrt
	@set -e; for isa in $(ISA_PATHS); do for t in $(TESTDIR)/zoo_paths $(ASAN_TESTDIR)/zoo_paths; do \
	  echo "== $$t (CNNRT_ISA=$$isa, $(ONNX_ZOO)$(if $(RUN),$(comma) qemu-aarch64 -cpu max))"; \
	  $(call on_path,$(ONNX_ZOO_C_ENV)) $$t; \
	  done; done
	$(if $(filter x86_64,$(ARCH)),$(MAKE) --no-print-directory AVX512_EMU=1 ZOO_C_ENV="$(ONNX_ZOO_C_ENV)" zoo-emu-run)

ONNX_ZOO_C_ENV := CNNRT_ZOO_MODELS=$(ONNX_ZOO_C) CNNRT_GOLDEN_DIR=$(ONNX_ZOO_C) CNNRT_ZOO_NO_TFLM=1

# ==== packaging and pictures (issue #17): static library, install, ===========
# ==== docs pictures, classify --jobs benchmark ================================
# Everything for installing lives in this section.
#
#   make install   [PREFIX=/usr/local] [DESTDIR=staging] [INSTALL_CONFIG=release]
#   make uninstall [PREFIX=...] [DESTDIR=...]
#   make test-install   install into a temporary prefix and build the C example
#                       with pkg-config, CMake find_package and static linking
#
# Installs lib/libcnnrt.so.X.Y.Z (+ libcnnrt.so.X, libcnnrt.so symlinks),
# lib/libcnnrt.a, include/cnnrt.h, lib/pkgconfig/cnnrt.pc,
# lib/cmake/cnnrt/cnnrtConfig{,Version}.cmake, bin/cnnrt and
# share/man/man1/cnnrt.1; the list of installed files goes to
# $(DESTDIR)$(PREFIX)/share/cnnrt/install_manifest.txt, which uninstall reads.
.PHONY: static install uninstall man test-install
PREFIX         ?= /usr/local
DESTDIR        ?=
INSTALL_CONFIG ?= release
INSTALL_BIN     = $(shell $(SWIFT) build -c $(INSTALL_CONFIG) --show-bin-path 2>/dev/null)
INST            = $(DESTDIR)$(PREFIX)
MANIFEST_REL   := share/cnnrt/install_manifest.txt

static: $(LIBDIR)/libcnnrt.a

# The static library: the runtime and kernel objects linked into one
# relocatable object (the generic object first, as for the .so), then every
# global symbol except the cnn_* API (names from tools/cnnrt.map's pattern,
# read with nm) made local, so the Embedded Swift runtime helpers and mangled
# names cannot clash with anything else a C program links.
# (Cortex-M builds make their own libcnnrt.a, above; a cross aarch64 build
# uses the aarch64 binutils.)
ifeq ($(MCU),)
BINUTILS := $(if $(filter aarch64,$(ARCH)),$(if $(RUN),aarch64-linux-gnu-))
$(LIBDIR)/libcnnrt.a: $(OBJDIR)/cnnrt.o $(KERNEL_OBJS) tools/cnnrt.map
	@mkdir -p $(LIBDIR)
	$(BINUTILS)ld -r -o $(OBJDIR)/cnnrt_all.o $(OBJDIR)/cnnrt.o $(KERNEL_OBJS)
	$(BINUTILS)nm -g --defined-only $(OBJDIR)/cnnrt_all.o | awk '$$3 ~ /^cnn_/ {print $$3}' | sort -u > $(OBJDIR)/cnnrt_exports.txt
	test -s $(OBJDIR)/cnnrt_exports.txt
	$(BINUTILS)objcopy --keep-global-symbols=$(OBJDIR)/cnnrt_exports.txt $(OBJDIR)/cnnrt_all.o $(OBJDIR)/cnnrt_static.o
	rm -f $@
	$(BINUTILS)ar rcs $@ $(OBJDIR)/cnnrt_static.o
endif

# cnnrt.1 from the CLI's own help (swift-argument-parser's generate-manual plugin,
# which builds the CLI in MAN_CONFIG first).
MAN_CONFIG ?= $(SPM_CONFIG)
$(BUILD)/man/cnnrt.1: $(wildcard Sources/CNNCLI/*.swift)
	@mkdir -p $(BUILD)/man
	$(SWIFT) package --allow-writing-to-directory=$(BUILD)/man generate-manual --configuration $(MAN_CONFIG) \
	  --output-directory $(BUILD)/man --authors "the cnnrt authors"
	test -s $@

man: $(BUILD)/man/cnnrt.1

install: $(LIBDIR)/libcnnrt.so $(LIBDIR)/libcnnrt.a Include/cnnrt.h $(BUILD)/man/cnnrt.1 tools/pkg/cnnrt.pc.in tools/pkg/cnnrtConfig.cmake.in
	$(SWIFT) build -c $(INSTALL_CONFIG) --product cnnrt
	PREFIX='$(PREFIX)' DESTDIR='$(DESTDIR)' VERSION='$(VERSION)' LIB_REAL='$(LIB_REAL)' LIB_SONAME='$(LIB_SONAME)' \
	  LIBDIR='$(LIBDIR)' CLI='$(INSTALL_BIN)/cnnrt' MAN='$(BUILD)/man/cnnrt.1' MANIFEST='$(MANIFEST_REL)' \
	  bash tools/pkg/install.sh

uninstall:
	@test -f '$(INST)/$(MANIFEST_REL)' || { echo "uninstall: no $(INST)/$(MANIFEST_REL): nothing installed there" >&2; exit 1; }
	@while read -r f; do rm -f "$(INST)/$$f"; echo "removed $(INST)/$$f"; done < '$(INST)/$(MANIFEST_REL)'
	rm -f '$(INST)/$(MANIFEST_REL)'
	@for d in share/cnnrt lib/cmake/cnnrt lib/cmake lib/pkgconfig share/man/man1 share/man share include bin lib; do \
	  rmdir "$(INST)/$$d" 2>/dev/null || true; done

# The test `make test` runs (with the debug CLI it has built anyway).
test-install: lib static
	INSTALL_CONFIG=$(or $(TEST_INSTALL_CONFIG),$(SPM_CONFIG)) bash tools/test-install.sh

# The pictures in docs/pictures (README): `cnnrt visualize` of the bundled
# model on a bundled digit.
.PHONY: docs-pictures bench-jobs
docs-pictures: swift-build
	$(SPM_BIN)/cnnrt visualize models/mnist.cnnrt samples/mnist/digit_3_0.pgm -o $(BUILD)/visualize
	@mkdir -p docs/pictures
	cp $(BUILD)/visualize/filters.png docs/pictures/mnist_filters.png
	cp $(BUILD)/visualize/layer_00_conv2d.png docs/pictures/mnist_digit_3_0_layer_00.png

# Images/s of `cnnrt classify DIR --jobs N` (release CLI) into docs/BENCHMARKS.md.
BENCH_JOBS ?= 1,2
bench-jobs:
	$(SWIFT) build -c release --product cnnrt
	$(PYTHON) tools/bench/classify_jobs.py --cli $$($(SWIFT) build -c release --show-bin-path)/cnnrt \
	  --jobs $(BENCH_JOBS) --command "make bench-jobs"

# ---- everything -------------------------------------------------------------
# The libraries `make test` needs, built $(TEST_LIB_JOBS) at a time before
# the tests run (one after the other, as before). Each is a single-threaded
# swiftc -wmo compile; on x86-64 there are 21 of them (the plain,
# AddressSanitizer, ThreadSanitizer and fuzzing builds of the runtime and its
# kernels, and the same for the emulated AVX-512 build), most of the build.
TEST_LIB_JOBS ?= $(shell nproc)
.PHONY: test-libs test-libs-all test-libs-emu
test-libs:
	$(MAKE) --no-print-directory -j$(TEST_LIB_JOBS) test-libs-all
ifeq ($(ARCH),x86_64)
test-libs-all: $(LIB) $(LIBDIR)/asan/libcnnrt.so $(LIBDIR)/tsan/libcnnrt.so $(FUZZ_DIR)/cnnrt.o test-libs-emu
test-libs-emu:
	$(MAKE) --no-print-directory AVX512_EMU=1 $(addprefix $(BUILD)/avx512emu/,lib/libcnnrt.so lib/asan/libcnnrt.so \
	  lib/tsan/libcnnrt.so emulation_check kernel_diff)
else
test-libs-all: $(LIB) $(LIBDIR)/asan/libcnnrt.so
endif

ifneq ($(MCU),)
# Cortex-M: the library, the exported models and the firmware tests in QEMU
# (every op; and only ResNet-8's ops, OPS=...).
include CExamples/cortex-m/firmware.mk
test: deps lib firmware-test firmware-ops-test
else ifeq ($(ARCH),x86_64)
test: deps test-libs lib header-check abi-check swift-test ctest avx512-emu-test ctest-asan ctest-tsan fuzz fuzz-cli test-install
else ifeq ($(RUN),)
test: deps test-libs lib abi-check ctest ctest-asan
else
test: deps test-libs lib abi-check ctest ctest-asan arm-compare
endif

clean:
	rm -rf $(BUILD) .build
