# fastfood: build the C-ABI shared library, run the tests and the examples.
#
#   make            build build/lib/libfastfood.so.1.0.0 (+ .so.1 and .so symlinks)
#   make demo       build the library and run the drop-in FC example and the gradient check
#   make test       build everything and run every test (Swift engine tests, C API tests,
#                   ABI/export checks, the examples)
#   make clean
#
# Options:
#   PORTABLE=1      build for baseline x86-64 (runs on any x86-64 CPU). By default the library is
#                   optimised for the build machine's CPU (-target-cpu native): such a binary may
#                   die with SIGILL on an older CPU, so ship PORTABLE=1 builds.
#   CC=...          C compiler for the examples and C tests (default cc).
#   SWIFT=...       swift driver (default: swift on PATH, else /opt/swift/usr/bin/swift).

VERSION      := 1.0.0
SOVERSION    := 1
SWIFT        ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
CC           ?= cc
CFLAGS       ?= -O2 -g
WARNINGS     := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Werror

BUILD        := build
LIBDIR_BUILD := $(BUILD)/lib
BINDIR_BUILD := $(BUILD)/bin
LIB_REAL     := $(LIBDIR_BUILD)/libfastfood.so.$(VERSION)
LIB_SONAME   := $(LIBDIR_BUILD)/libfastfood.so.$(SOVERSION)
LIB_LINK     := $(LIBDIR_BUILD)/libfastfood.so
EXPORT_MAP   := $(BUILD)/fastfood.map

ifeq ($(PORTABLE),1)
  CPU_FLAGS   :=
  SWIFT_SCRATCH := .build-lib-portable
else
  CPU_FLAGS   := -Xswiftc -target-cpu -Xswiftc native
  SWIFT_SCRATCH := .build-lib
endif

# -static-stdlib: the .so needs only libc, libm, libstdc++, libgcc_s (no libswift*).
# Export list: only fastfood_* (the header's functions); the Swift runtime stays hidden.
# -z nodelete: Swift code cannot be unloaded, so dlclose must not unmap it.
# lld (shipped with the Swift toolchain): gold leaves local Swift symbols in .dynsym.
SWIFT_LIB_FLAGS := -c release --scratch-path $(SWIFT_SCRATCH) --product fastfood \
  -Xswiftc -static-stdlib -Xswiftc -use-ld=lld $(CPU_FLAGS) \
  -Xlinker -soname=libfastfood.so.$(SOVERSION) \
  -Xlinker -z -Xlinker nodelete \
  -Xlinker --version-script=$(abspath $(EXPORT_MAP))

# The CPU configuration is part of what the library depends on: switching PORTABLE rebuilds it.
CONFIG_STAMP := $(BUILD)/.cpu-config
$(shell mkdir -p $(BUILD); echo "$(CPU_FLAGS)" | cmp -s - $(CONFIG_STAMP) 2>/dev/null || echo "$(CPU_FLAGS)" > $(CONFIG_STAMP))

SWIFT_SOURCES := $(shell find Sources -name '*.swift' -o -name '*.c' -o -name '*.h' -o -name '*.modulemap') \
                 Package.swift include/fastfood.h

C_LINK       := -L$(LIBDIR_BUILD) -lfastfood -Wl,-rpath,$(abspath $(LIBDIR_BUILD)) -lm
EXAMPLES     := $(BINDIR_BUILD)/gradient_check $(BINDIR_BUILD)/fc_replacement
C_TESTS      := $(BINDIR_BUILD)/test_capi $(BINDIR_BUILD)/test_threads $(BINDIR_BUILD)/test_no_alloc

.PHONY: all lib demo test test-swift test-c test-abi test-examples examples clean

all: lib
lib: $(LIB_LINK)

$(EXPORT_MAP): include/fastfood.h
	@mkdir -p $(BUILD)
	printf '{\n  global: fastfood_*;\n  local: *;\n};\n' > $@

$(LIB_REAL): $(SWIFT_SOURCES) $(EXPORT_MAP) $(CONFIG_STAMP) Makefile
	$(SWIFT) build $(SWIFT_LIB_FLAGS)
	@mkdir -p $(LIBDIR_BUILD)
	cp $$($(SWIFT) build $(SWIFT_LIB_FLAGS) --show-bin-path)/libfastfood.so $@

$(LIB_SONAME): $(LIB_REAL)
	ln -sf libfastfood.so.$(VERSION) $@

$(LIB_LINK): $(LIB_SONAME)
	ln -sf libfastfood.so.$(SOVERSION) $@

$(BINDIR_BUILD)/%: examples/%.c include/fastfood.h $(LIB_LINK)
	@mkdir -p $(BINDIR_BUILD)
	$(CC) $(CFLAGS) $(WARNINGS) -Iinclude $< -o $@ $(C_LINK)

$(BINDIR_BUILD)/test_%: Tests/CAPI/test_%.c include/fastfood.h $(LIB_LINK)
	@mkdir -p $(BINDIR_BUILD)
	$(CC) $(CFLAGS) $(WARNINGS) -Iinclude $< -o $@ $(C_LINK) -lpthread

examples: $(EXAMPLES)

demo: $(EXAMPLES)
	$(BINDIR_BUILD)/fc_replacement
	$(BINDIR_BUILD)/gradient_check

test: test-abi test-c test-examples test-swift

# Engine tests, in release mode: they check the code that ships, SIMD paths included.
test-swift:
	$(SWIFT) test -c release $(CPU_FLAGS)

test-c: $(C_TESTS)
	$(BINDIR_BUILD)/test_capi
	$(BINDIR_BUILD)/test_threads
	$(BINDIR_BUILD)/test_no_alloc

test-abi: $(LIB_LINK)
	bash Tests/ABI/check_library.sh $(LIB_REAL) include/fastfood.h

test-examples: $(EXAMPLES)
	$(BINDIR_BUILD)/gradient_check
	$(BINDIR_BUILD)/fc_replacement --quiet
	bash Tests/ABI/readme_example.sh README.md $(BUILD) "$(CC) $(CFLAGS) $(WARNINGS)"

clean:
	rm -rf $(BUILD) .build-lib .build-lib-portable
