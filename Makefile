# fastfood: build the C-ABI shared library, run the tests and the examples.
#
#   make            build build/lib/libfastfood.so.1.0.0 (+ .so.1 and .so symlinks)
#   make demo       build the library and run the drop-in FC example and the gradient check
#   make test       build everything and run every test (Swift engine tests, C API tests,
#                   ABI/export checks, the examples)
#   make bench      build and run benchmarks/bench.c (fastfood vs OpenBLAS dense, one line per figure)
#   make install    install library, headers, pkg-config and CMake files (PREFIX, LIBDIR, INCLUDEDIR, DESTDIR)
#   make uninstall  remove them again
#   make fuzz       run the libFuzzer targets for FUZZ_SECONDS each (default 600)
#   make coverage   which lines of the library the C tests run (llvm-cov; not part of make test)
#   make test-avx512-emulated  the C tests under the AVX-512 kernels in an emulated Skylake-X
#                   (Bochs; for machines without AVX-512; about 20 minutes, not part of make test)
#   make clean
#
# Options:
#   The library is portable and tuned at once: it carries its compute kernels compiled three
#   times (baseline x86-64, AVX2, AVX-512) and picks the widest the CPU supports when first
#   used. FASTFOOD_CPU=generic|avx2|avx512 in the environment forces one at run time.
#   CC=...          C compiler for the examples and C tests (default cc).
#   SWIFT=...       swift driver (default: swift on PATH, else /opt/swift/usr/bin/swift).

# The version is defined once, in the header.
VERSION      := $(shell sed -n 's/^#define FASTFOOD_VERSION_STRING "\(.*\)"/\1/p' include/fastfood.h)
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

SWIFT_SCRATCH := .build-lib

# The kernel variants this machine can run, for the tests that run every variant.
CPU_FLAGS_LINE := $(shell grep -m1 "^flags" /proc/cpuinfo 2>/dev/null)
has = $(findstring $(1),$(CPU_FLAGS_LINE))
CPU_VARIANTS := generic $(if $(and $(call has,avx2),$(call has,fma)),avx2) \
  $(if $(and $(call has,avx512f),$(call has,avx512bw),$(call has,avx512dq),$(call has,avx512vl)),avx512)

# -static-stdlib: the .so needs only libc, libm, libstdc++, libgcc_s (no libswift*).
# Export list: only fastfood_* (the header's functions); the Swift runtime stays hidden.
# -z nodelete: Swift code cannot be unloaded, so dlclose must not unmap it.
# lld (shipped with the Swift toolchain): gold leaves local Swift symbols in .dynsym.
SWIFT_LIB_FLAGS := -c release --scratch-path $(SWIFT_SCRATCH) --product fastfood \
  -Xswiftc -static-stdlib -Xswiftc -use-ld=lld \
  -Xlinker -soname=libfastfood.so.$(SOVERSION) \
  -Xlinker -z -Xlinker nodelete \
  -Xlinker --version-script=$(abspath $(EXPORT_MAP))

# $(call build-library,FLAGS): swift build with FLAGS (they name the scratch path and the product),
# then copy the built .so to the target. The main, fuzzing and ThreadSanitizer builds differ only
# in their flags.
build-library = $(SWIFT) build $(1) && mkdir -p $(@D) && \
  cp $$($(SWIFT) build $(1) --show-bin-path)/libfastfood.so $@

SWIFT_SOURCES := $(shell find Sources -name '*.swift' -o -name '*.c' -o -name '*.h' -o -name '*.modulemap') \
                 Package.swift include/fastfood.h

C_LINK       := -L$(LIBDIR_BUILD) -lfastfood -Wl,-rpath,$(abspath $(LIBDIR_BUILD)) -lm
EXAMPLES     := $(BINDIR_BUILD)/gradient_check $(BINDIR_BUILD)/fc_replacement
BENCH_TORCH  := $(BUILD)/bench-torch/bench_torch

C_TESTS      := $(BINDIR_BUILD)/test_capi $(BINDIR_BUILD)/test_threads $(BINDIR_BUILD)/test_no_alloc $(BINDIR_BUILD)/test_variants $(BINDIR_BUILD)/test_training $(BINDIR_BUILD)/test_hostile_files $(BINDIR_BUILD)/test_stress $(BINDIR_BUILD)/test_bad_inputs $(BINDIR_BUILD)/test_in_place $(BINDIR_BUILD)/test_normalized $(BINDIR_BUILD)/test_process $(BINDIR_BUILD)/test_paths $(BINDIR_BUILD)/test_no_memory $(BINDIR_BUILD)/test_batch_sizes $(BINDIR_BUILD)/test_executor \
               $(BINDIR_BUILD)/test_scratch_bounds $(BINDIR_BUILD)/test_io_faults $(BINDIR_BUILD)/test_alignment

.PHONY: deps-test deps-demo distributed distributed-demo test-distributed
.PHONY: all lib lenet bench-torch bench-lenet-threads test-training demo demo-run test test-all test-avx512-emulated fuzz test-fuzz test-sanitizers test-tsan test-valgrind coverage test-bindings install uninstall bench test-swift test-c test-c-variants test-abi test-examples examples clean

all: lib
lib: $(LIB_LINK)

$(EXPORT_MAP): include/fastfood.h
	@mkdir -p $(BUILD)
	printf '{\n  global: fastfood_*;\n  local: *;\n};\n' > $@

$(LIB_REAL): $(SWIFT_SOURCES) $(EXPORT_MAP) Makefile
	$(call build-library,$(SWIFT_LIB_FLAGS))

$(LIB_SONAME): $(LIB_REAL)
	ln -sf libfastfood.so.$(VERSION) $@

$(LIB_LINK): $(LIB_SONAME)
	ln -sf libfastfood.so.$(SOVERSION) $@

$(BINDIR_BUILD)/%: examples/%.c examples/option_values.h include/fastfood.h $(LIB_LINK)
	@mkdir -p $(BINDIR_BUILD)
	$(CC) $(CFLAGS) $(WARNINGS) -Iinclude $< -o $@ $(C_LINK)

$(BINDIR_BUILD)/test_%: Tests/CAPI/test_%.c Tests/CAPI/check.h Tests/CAPI/malloc_hooks.h Tests/CAPI/dir_entries.h include/fastfood.h $(LIB_LINK)
	@mkdir -p $(BINDIR_BUILD)
	$(CC) $(CFLAGS) $(WARNINGS) -Iinclude $< -o $@ $(C_LINK) -lpthread

# The MNIST example: OpenBLAS for its dense comparison, zlib for the gzip-compressed IDX files.
$(BINDIR_BUILD)/mnist_mlp: examples/mnist_mlp.c examples/mlp_net.h examples/mnist_idx.h examples/option_values.h include/fastfood.h $(LIB_LINK)
	@mkdir -p $(BINDIR_BUILD)
	$(CC) $(CFLAGS) $(WARNINGS) -D_POSIX_C_SOURCE=200809L -Iinclude $< -o $@ $(C_LINK) -lopenblas -lz

# The examples' MNIST reader on IDX files the test writes (zlib; no library, no MNIST).
$(BINDIR_BUILD)/test_mnist_idx: Tests/Examples/test_mnist_idx.c Tests/Examples/stderr_capture.h examples/mnist_idx.h Tests/CAPI/check.h Tests/CAPI/malloc_hooks.h
	@mkdir -p $(BINDIR_BUILD)
	$(CC) $(CFLAGS) $(WARNINGS) -Iexamples $< -o $@ -lz

# The examples' command-line numbers.
$(BINDIR_BUILD)/test_option_values: Tests/Examples/test_option_values.c Tests/Examples/stderr_capture.h examples/option_values.h Tests/CAPI/check.h
	@mkdir -p $(BINDIR_BUILD)
	$(CC) $(CFLAGS) $(WARNINGS) -Iexamples $< -o $@ -lm

$(BINDIR_BUILD)/bench: benchmarks/bench.c benchmarks/cpu_description.h include/fastfood.h $(LIB_LINK)
	@mkdir -p $(BINDIR_BUILD)
	$(CC) -O2 $(WARNINGS) -Iinclude $< -o $@ $(C_LINK) -lopenblas -lpthread

# Two builds of the library timed against each other in one process (dlopen; see the file).
$(BINDIR_BUILD)/compare_builds: benchmarks/compare_builds.c include/fastfood.h
	@mkdir -p $(BINDIR_BUILD)
	$(CC) -O2 $(WARNINGS) -Iinclude $< -o $@ -ldl

# One line per figure, dense baseline (OpenBLAS) measured in the same run. Not part of `make
# test`: it times things. `make test` only builds it, so it cannot rot.
bench: $(BINDIR_BUILD)/bench
	$(BINDIR_BUILD)/bench

CXX          ?= c++
CXXWARNINGS  := -std=c++17 -Wall -Wextra -Wpedantic -Wshadow -Werror

$(BINDIR_BUILD)/test_cpp: Tests/CPP/test_cpp.cpp Tests/CAPI/check.h bindings/cpp/fastfood.hpp include/fastfood.h $(LIB_LINK)
	@mkdir -p $(BINDIR_BUILD)
	$(CXX) $(CFLAGS) $(CXXWARNINGS) -Iinclude -Ibindings/cpp $< -o $@ $(C_LINK)

$(BINDIR_BUILD)/ffi_conformance: Tests/FFI/ffi_conformance.c Tests/CAPI/check.h include/fastfood.h $(LIB_LINK)
	@mkdir -p $(BINDIR_BUILD)
	$(CC) $(CFLAGS) $(WARNINGS) -Iinclude $< -o $@ $(C_LINK) -lffi -ldl

# The C++ wrapper, the libffi ABI conformance test, and consumers of an installed copy.
test-bindings: $(BINDIR_BUILD)/test_cpp $(BINDIR_BUILD)/ffi_conformance
	$(BINDIR_BUILD)/test_cpp
	$(BINDIR_BUILD)/ffi_conformance $(LIB_SONAME) include/fastfood.h
	bash Tests/Consumers/run.sh $(BUILD) "$(MAKE)"
	bash Tests/Torch/run_tests.sh $(BUILD) "$(MAKE)"

# Sanitizers and valgrind over the C tests and examples. The library itself is Swift and not
# instrumented; ASan's allocator and LeakSanitizer still see all its allocations.
# Not run under them: test_no_alloc, test_no_memory, test_scratch_bounds and test_io_faults, which
# replace the allocator or system-call wrappers themselves (test_scratch_bounds checks what
# neither sees: pool threads writing past a call's scratch).
SANITIZE     := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
CHECKED      := test_capi test_bad_inputs test_threads test_training test_hostile_files test_stress test_batch_sizes test_executor test_alignment \
                gradient_check fc_replacement
ASAN_ENV     := ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

$(BUILD)/asan/%: Tests/CAPI/%.c Tests/CAPI/check.h include/fastfood.h $(LIB_LINK)
	@mkdir -p $(BUILD)/asan
	$(CC) $(SANITIZE) $(WARNINGS) -Iinclude $< -o $@ $(C_LINK) -lpthread

$(BUILD)/asan/%: examples/%.c examples/option_values.h include/fastfood.h $(LIB_LINK)
	@mkdir -p $(BUILD)/asan
	$(CC) $(SANITIZE) $(WARNINGS) -Iinclude $< -o $@ $(C_LINK)

test-sanitizers: $(addprefix $(BUILD)/asan/,$(CHECKED))
	@for p in $(CHECKED); do echo "== AddressSanitizer + UndefinedBehaviorSanitizer: $$p"; \
	  $(ASAN_ENV) $(BUILD)/asan/$$p --quiet > $(BUILD)/asan/$$p.log 2>&1 || { cat $(BUILD)/asan/$$p.log; exit 1; }; \
	  tail -n 1 $(BUILD)/asan/$$p.log; done

# valgrind cannot decode AVX-512: the generic kernels run (FASTFOOD_CPU=generic). It cannot read
# the library's DWARF 5 either, so it runs a copy without debug information. --fair-sched=yes:
# valgrind runs one thread at a time, and without it a thread that never blocks can keep the CPU
# for long stretches while the others wait.
VALGRIND     := valgrind -q --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
                --show-leak-kinds=definite,indirect
test-valgrind: $(C_TESTS) $(EXAMPLES)
	@mkdir -p $(BUILD)/valgrind-lib
	objcopy --strip-debug $(LIB_REAL) $(BUILD)/valgrind-lib/libfastfood.so.$(SOVERSION)
	@for p in $(CHECKED); do echo "== valgrind memcheck: $$p"; \
	  LD_LIBRARY_PATH=$(BUILD)/valgrind-lib FASTFOOD_CPU=generic $(VALGRIND) $(BINDIR_BUILD)/$$p --quiet \
	    > $(BUILD)/valgrind-lib/$$p.log 2>&1 || { cat $(BUILD)/valgrind-lib/$$p.log; exit 1; }; \
	  tail -n 1 $(BUILD)/valgrind-lib/$$p.log; done

# Fuzzing (libFuzzer). The targets link a separate build of the library instrumented with
# AddressSanitizer and libFuzzer's coverage (swiftc -sanitize=address,fuzzer), so the fuzzer
# sees the library's branches and ASan checks the library's own memory accesses. Seed corpora are
# in Tests/Fuzz/corpus; the fuzzers work on copies under build/fuzz. Leak checking is off
# there: the Swift runtime keeps caches for the life of the process. An input that runs over 60 s
# (a deadlock) fails the run, and is kept, like a crash. This build links the Swift runtime
# dynamically, whose backtracer catches a failed check's abort(): its helper process
# (swift-backtrace) outlived the fuzzer and held the output pipe open for over 15 minutes, so a
# pipeline reading the output hung. SWIFT_BACKTRACE=enable=no leaves the crash to libFuzzer.
FUZZ_CC      ?= $(shell dirname $$(readlink -f $$(command -v $(SWIFT))))/clang
FUZZ_LIB     := $(BUILD)/fuzz-lib/libfastfood.so.$(SOVERSION)
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 30
FUZZ_ENV     := ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=0 SWIFT_BACKTRACE=enable=no
FUZZ_LIB_FLAGS := -c release --scratch-path .build-fuzz --product fastfood -Xswiftc -sanitize=address \
  -Xswiftc -sanitize=fuzzer -Xlinker --version-script=$(abspath $(EXPORT_MAP))

$(FUZZ_LIB): $(SWIFT_SOURCES) $(EXPORT_MAP)
	$(call build-library,$(FUZZ_LIB_FLAGS))

$(BUILD)/fuzz/fuzz_%: Tests/Fuzz/fuzz_%.c include/fastfood.h $(FUZZ_LIB)
	@mkdir -p $(BUILD)/fuzz
	$(FUZZ_CC) -g -O1 -fuse-ld=lld -fsanitize=fuzzer,address,undefined -Iinclude $< -o $@ \
	  -L$(BUILD)/fuzz-lib -l:libfastfood.so.$(SOVERSION) -Wl,-rpath,$(abspath $(BUILD)/fuzz-lib)

FUZZ_TARGETS := api load
fuzz-run = @for t in $(FUZZ_TARGETS); do echo "== fuzz_$$t for $(1) s"; mkdir -p $(BUILD)/fuzz/corpus-$$t; \
	  cp -n Tests/Fuzz/corpus/$$t/* $(BUILD)/fuzz/corpus-$$t/ 2>/dev/null; \
	  $(FUZZ_ENV) $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(1) -timeout=60 -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/fuzz/$$t- $(BUILD)/fuzz/corpus-$$t > $(BUILD)/fuzz/$$t.log 2>&1 \
	    || { tail -n 60 $(BUILD)/fuzz/$$t.log; exit 1; }; \
	  grep -E "^(Done|stat::number_of_executed_units)" $(BUILD)/fuzz/$$t.log; done

# make fuzz: each target for FUZZ_SECONDS (default 600). make test runs a short smoke.
fuzz: $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_TARGETS))
	$(call fuzz-run,$(FUZZ_SECONDS))

test-fuzz: $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_TARGETS))
	$(call fuzz-run,$(FUZZ_SMOKE_SECONDS))

# ThreadSanitizer over the library's own code: a separate build instrumented with swiftc
# -sanitize=thread (worker pool, scratch slots, per-thread messages, persistence), and the C
# tests that drive it from several threads, linked with the toolchain's clang, whose TSan runtime
# also intercepts libdispatch (hence -ldispatch -lBlocksRuntime from the toolchain). Limits:
# TSan checks accesses of at most 16 bytes, so the kernels' wide vector loads and stores are not
# checked (test_threads compares their results bit for bit across thread counts instead); the
# Swift runtime is not instrumented, so Tests/CAPI/tsan.supp drops the reports on lazily
# initialised globals (swift_once orders them). Not run here: test_capi (it checks the process's
# signal handlers, and TSan installs its own), test_process (TSan cannot fork a multi-threaded
# process), test_no_alloc, test_no_memory, test_scratch_bounds and test_io_faults (they replace
# the allocator or system-call wrappers, which TSan intercepts).
TSAN_LIB     := $(BUILD)/tsan-lib/libfastfood.so.$(SOVERSION)
TSAN_RT_DIR  := $(dir $(shell $(FUZZ_CC) -print-file-name=libclang_rt.tsan-x86_64.so 2>/dev/null))
SWIFT_RT_DIR := $(abspath $(dir $(FUZZ_CC))../lib/swift/linux)
TSAN_CHECKED := test_threads test_stress test_training test_in_place test_normalized test_bad_inputs \
                test_hostile_files test_paths test_variants test_batch_sizes test_executor
TSAN_ENV     := FASTFOOD_NUM_THREADS=2 \
                TSAN_OPTIONS=allocator_may_return_null=1:exitcode=66:suppressions=$(abspath Tests/CAPI/tsan.supp)
TSAN_LIB_FLAGS := -c release --scratch-path .build-tsan --product fastfood -Xswiftc -sanitize=thread \
  -Xswiftc -static-stdlib -Xlinker --version-script=$(abspath $(EXPORT_MAP))

$(TSAN_LIB): $(SWIFT_SOURCES) $(EXPORT_MAP)
	$(call build-library,$(TSAN_LIB_FLAGS))

$(BUILD)/tsan/test_%: Tests/CAPI/test_%.c Tests/CAPI/check.h Tests/CAPI/malloc_hooks.h Tests/CAPI/dir_entries.h include/fastfood.h $(TSAN_LIB)
	@mkdir -p $(BUILD)/tsan
	$(FUZZ_CC) -O1 -g -fsanitize=thread -shared-libsan $(WARNINGS) -Iinclude $< -o $@ \
	  -L$(BUILD)/tsan-lib -l:libfastfood.so.$(SOVERSION) -L$(SWIFT_RT_DIR) -ldispatch -lBlocksRuntime \
	  -Wl,-rpath,$(abspath $(BUILD)/tsan-lib) -Wl,-rpath,$(TSAN_RT_DIR) -Wl,-rpath,$(SWIFT_RT_DIR) -lm -lpthread

# make coverage (not part of make test): which lines of the library the C tests run. A build
# instrumented for source coverage (swiftc -profile-generate -profile-coverage-mapping; its own
# scratch path), the C tests against it (test_variants and test_capi once per kernel variant this
# CPU has, as test-c runs them), then llvm-cov's table per source file, and every line no test
# ran in build/cov/uncovered.txt. Forked children that leave through _exit (which skips writing
# the profile) exit through exit instead (tools/cov_exit.c, preloaded), and every process merges
# its counts into its test's file (%m). Not counted: processes that die of a signal, and kernel
# variants the CPU lacks.
COV_LIB      := $(BUILD)/cov-lib/libfastfood.so.$(SOVERSION)
COV_EXIT     := $(BUILD)/cov-lib/cov_exit.so
LLVM_TOOLS   := $(dir $(FUZZ_CC))
COV_LIB_FLAGS := -c release --scratch-path .build-cov --product fastfood -Xswiftc -profile-generate \
  -Xswiftc -profile-coverage-mapping -Xswiftc -static-stdlib -Xswiftc -use-ld=lld \
  -Xlinker -soname=libfastfood.so.$(SOVERSION) -Xlinker --version-script=$(abspath $(EXPORT_MAP))
COV_RUN      = n=$$(basename $(1))-$(2); LLVM_PROFILE_FILE=$(abspath $(BUILD)/cov)/$$n-%m.profraw \
  LD_PRELOAD=$(abspath $(COV_EXIT)) \
  LD_LIBRARY_PATH=$(abspath $(BUILD)/cov-lib) $(3) $(1) > $(BUILD)/cov/$$n.log 2>&1 \
  || { tail -n 20 $(BUILD)/cov/$$n.log; exit 1; }

$(COV_LIB): $(SWIFT_SOURCES) $(EXPORT_MAP)
	$(call build-library,$(COV_LIB_FLAGS))

$(COV_EXIT): tools/cov_exit.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -shared -fPIC -Wall -Wextra -Werror tools/cov_exit.c -o $@

coverage: $(COV_LIB) $(COV_EXIT) $(C_TESTS)
	@rm -rf $(BUILD)/cov && mkdir -p $(BUILD)/cov
	@for t in $(C_TESTS); do echo "== $$t"; $(call COV_RUN,$$t,default,); done
	@for cpu in $(CPU_VARIANTS); do for t in test_variants test_capi; do echo "== $$t, FASTFOOD_CPU=$$cpu"; \
	  $(call COV_RUN,$(BINDIR_BUILD)/$$t,$$cpu,FASTFOOD_CPU=$$cpu); done; done
	$(LLVM_TOOLS)llvm-profdata merge -sparse $(BUILD)/cov/*.profraw -o $(BUILD)/cov/tests.profdata
	$(LLVM_TOOLS)llvm-cov show $(COV_LIB) -instr-profile=$(BUILD)/cov/tests.profdata $(abspath Sources) \
	  | awk '/^\//{ file = $$0; next } /^ +[0-9]+\| +0\|/{ if (file) print file; file = ""; print }' \
	  > $(BUILD)/cov/uncovered.txt
	$(LLVM_TOOLS)llvm-cov report $(COV_LIB) -instr-profile=$(BUILD)/cov/tests.profdata -show-region-summary=false \
	  -show-branch-summary=false -show-instantiation-summary=false $(abspath Sources)
	@echo "lines no test ran: $(BUILD)/cov/uncovered.txt"

# Each test under a time limit: a race on the pool's counters can lose a task and hang the caller.
test-tsan: $(addprefix $(BUILD)/tsan/,$(TSAN_CHECKED))
	@for p in $(TSAN_CHECKED); do echo "== ThreadSanitizer: $$p"; \
	  $(TSAN_ENV) timeout 600 $(BUILD)/tsan/$$p > $(BUILD)/tsan/$$p.log 2>&1 || { cat $(BUILD)/tsan/$$p.log; exit 1; }; \
	  tail -n 1 $(BUILD)/tsan/$$p.log; done

examples: $(EXAMPLES)

# make demo trains on MNIST when it finds it: MNIST_DIR=..., else data/mnist in this tree, else
# ../shared/data/mnist beside it; with no MNIST it trains on a generated problem.
MNIST_DIR    ?= $(firstword $(wildcard data/mnist ../shared/data/mnist))

demo: deps-demo
	$(MAKE) --no-print-directory demo-run

demo-run: $(EXAMPLES) $(BINDIR_BUILD)/mnist_mlp
	@if [ -n "$(MNIST_DIR)" ]; then echo "== MNIST from $(MNIST_DIR): Fastfood against dense as the hidden layer"; \
	  $(BINDIR_BUILD)/mnist_mlp "$(MNIST_DIR)" --epochs 5; \
	else echo "== no MNIST (set MNIST_DIR, or put the IDX files in data/mnist): a generated problem"; \
	  $(BINDIR_BUILD)/fc_replacement; fi
	$(BINDIR_BUILD)/gradient_check

test: deps-test
	$(MAKE) --no-print-directory test-all

# Everything make test runs, once the packages are there.
test-all: $(BINDIR_BUILD)/bench $(BINDIR_BUILD)/compare_builds $(BENCH_TORCH) test-abi test-c test-examples test-bindings test-training test-distributed test-sanitizers test-tsan test-valgrind test-fuzz test-swift

# Engine tests, in release mode: they check the code that ships, SIMD paths included.
test-swift:
	for cpu in $(CPU_VARIANTS); do echo "== Swift engine tests, FASTFOOD_CPU=$$cpu"; FASTFOOD_CPU=$$cpu $(SWIFT) test -c release || exit 1; done

test-c: $(C_TESTS)
	@for t in $(filter-out %/test_variants,$(C_TESTS)); do echo "$$t"; $$t || exit 1; done
	@$(MAKE) --no-print-directory test-c-variants

# The kernel-variant part of test-c, on the C tests as built (no prerequisites: tools/mutate.sh
# runs it against a mutant library through LD_LIBRARY_PATH): every variant's digest equal and the
# documented selection (FASTFOOD_CPU unset, naming no variant, naming avx512 on a CPU without it),
# then the C API, out-of-memory and alignment tests under each variant. With AVX-512, the
# digest and the tests that compare outputs again with every output through non-temporal stores
# (FASTFOOD_STREAM_BYTES=0; by default only outputs of a quarter of the cache or more, which the
# tests' are not).
STREAM_TESTS := test_capi test_alignment test_in_place test_threads test_training test_batch_sizes test_normalized
test-c-variants:
	@echo "== kernel variants: digests and selection"
	bash Tests/CAPI/variants.sh $(BINDIR_BUILD)/test_variants $(CPU_VARIANTS) - no-such-variant \
	  $(if $(filter avx512,$(CPU_VARIANTS)),avx512+stream,avx512)
	for cpu in $(CPU_VARIANTS); do echo "== C API tests, FASTFOOD_CPU=$$cpu"; FASTFOOD_CPU=$$cpu $(BINDIR_BUILD)/test_capi || exit 1; \
	  echo "== out of memory, FASTFOOD_CPU=$$cpu"; FASTFOOD_CPU=$$cpu $(BINDIR_BUILD)/test_no_memory || exit 1; \
	  echo "== buffers at any address, FASTFOOD_CPU=$$cpu"; FASTFOOD_CPU=$$cpu $(BINDIR_BUILD)/test_alignment || exit 1; done
ifneq ($(filter avx512,$(CPU_VARIANTS)),)
	for t in $(STREAM_TESTS); do echo "== $$t, non-temporal stores for every output (FASTFOOD_STREAM_BYTES=0)"; \
	  FASTFOOD_CPU=avx512 FASTFOOD_STREAM_BYTES=0 $(BINDIR_BUILD)/$$t || exit 1; done
else
	@echo "SKIP non-temporal stores for every output: only the AVX-512 kernels use them, and this CPU has no AVX-512"
endif

test-abi: $(LIB_LINK)
	bash Tests/ABI/check_library.sh $(LIB_REAL) include/fastfood.h
	bash Tests/ABI/check_header.sh include bindings/cpp

test-examples: $(EXAMPLES) $(BINDIR_BUILD)/test_mnist_idx $(BINDIR_BUILD)/test_option_values
	$(BINDIR_BUILD)/test_mnist_idx
	$(BINDIR_BUILD)/test_option_values
	$(BINDIR_BUILD)/gradient_check
	$(BINDIR_BUILD)/fc_replacement --quiet
	bash Tests/Examples/command_lines.sh $(EXAMPLES)
	bash Tests/ABI/readme_example.sh README.md $(BUILD) "$(CC) $(CFLAGS) $(WARNINGS)"

# Installation: PREFIX (/usr/local), LIBDIR, INCLUDEDIR; DESTDIR for staged installs.
PREFIX       ?= /usr/local
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR := $(LIBDIR)/pkgconfig
CMAKEDIR     := $(LIBDIR)/cmake/fastfood
MAJOR        := $(firstword $(subst ., ,$(VERSION)))
SUBST        := sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
                    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
                    -e 's|@SOVERSION@|$(SOVERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g'

install: $(LIB_LINK)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(CMAKEDIR)
	install -m 755 $(LIB_REAL) $(DESTDIR)$(LIBDIR)/libfastfood.so.$(VERSION)
	ln -sf libfastfood.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libfastfood.so.$(SOVERSION)
	ln -sf libfastfood.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libfastfood.so
	install -m 644 include/fastfood.h bindings/cpp/fastfood.hpp bindings/torch/fastfood_linear.h $(DESTDIR)$(INCLUDEDIR)/
	$(SUBST) packaging/pkg-config/fastfood.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/fastfood.pc
	$(SUBST) packaging/cmake/fastfoodConfig.cmake.in > $(DESTDIR)$(CMAKEDIR)/fastfoodConfig.cmake
	$(SUBST) packaging/cmake/fastfoodConfigVersion.cmake.in > $(DESTDIR)$(CMAKEDIR)/fastfoodConfigVersion.cmake

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libfastfood.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libfastfood.so.$(SOVERSION) \
	      $(DESTDIR)$(LIBDIR)/libfastfood.so $(DESTDIR)$(INCLUDEDIR)/fastfood.h \
	      $(DESTDIR)$(INCLUDEDIR)/fastfood.hpp $(DESTDIR)$(INCLUDEDIR)/fastfood_linear.h $(DESTDIR)$(PKGCONFIGDIR)/fastfood.pc \
	      $(DESTDIR)$(CMAKEDIR)/fastfoodConfig.cmake $(DESTDIR)$(CMAKEDIR)/fastfoodConfigVersion.cmake
	-rmdir $(DESTDIR)$(CMAKEDIR) 2>/dev/null

clean:
	rm -rf $(BUILD) .build-lib .build-fuzz .build-tsan .build-cov

# The paper's MNIST experiment (examples/lenet, C++ with libtorch), built as a user builds it:
# against an installed copy (build/prefix) through find_package(fastfood 1.1 COMPONENTS torch).
LENET        := $(BUILD)/lenet/lenet_mnist
LENET_PREFIX := $(abspath $(BUILD)/prefix)

$(LENET): examples/lenet/lenet_mnist.cpp examples/lenet/CMakeLists.txt examples/mnist_idx.h examples/option_values.h \
          examples/lenet/lenet_model.h bindings/torch/fastfood_linear.h bindings/cpp/fastfood.hpp $(LIB_LINK)
	$(MAKE) --no-print-directory install PREFIX=$(LENET_PREFIX) > $(BUILD)/prefix-install.log 2>&1
	cmake -S examples/lenet -B $(BUILD)/lenet -DCMAKE_PREFIX_PATH=$(LENET_PREFIX) -DCMAKE_BUILD_TYPE=Release \
	  > $(BUILD)/lenet-cmake.log 2>&1 || { cat $(BUILD)/lenet-cmake.log; exit 1; }
	cmake --build $(BUILD)/lenet >> $(BUILD)/lenet-cmake.log 2>&1 || { tail -40 $(BUILD)/lenet-cmake.log; exit 1; }
	touch $@

lenet: $(LENET)

# FastfoodLinear timed as a libtorch user runs it (benchmarks/torch/bench_torch.cpp): against
# the library's own calls, against torch::nn::Linear, and a 3-layer network on fastfood's pool
# and on libtorch's threads. Built like examples/lenet, against an installed copy (build/prefix)
# through find_package(fastfood COMPONENTS torch). `make test` only builds it.
$(BENCH_TORCH): benchmarks/torch/bench_torch.cpp benchmarks/torch/CMakeLists.txt benchmarks/cpu_description.h bindings/torch/fastfood_linear.h \
                bindings/cpp/fastfood.hpp packaging/cmake/fastfoodConfig.cmake.in $(LIB_LINK)
	$(MAKE) --no-print-directory install PREFIX=$(LENET_PREFIX) > $(BUILD)/prefix-install.log 2>&1
	cmake -S benchmarks/torch -B $(BUILD)/bench-torch -DCMAKE_PREFIX_PATH=$(LENET_PREFIX) -DCMAKE_BUILD_TYPE=Release \
	  > $(BUILD)/bench-torch-cmake.log 2>&1 || { cat $(BUILD)/bench-torch-cmake.log; exit 1; }
	cmake --build $(BUILD)/bench-torch >> $(BUILD)/bench-torch-cmake.log 2>&1 || { tail -40 $(BUILD)/bench-torch-cmake.log; exit 1; }
	touch $@

bench-torch: $(BENCH_TORCH)
	$(BENCH_TORCH)

# The LeNet example under libtorch / fastfood / OpenBLAS thread settings from the environment,
# each against all on one thread in the same run (benchmarks/torch/lenet_threads.sh).
LENET_ROUNDS ?= 5
bench-lenet-threads: $(LENET)
	@if [ -z "$(MNIST_DIR)" ]; then echo "no MNIST found: set MNIST_DIR (or put the IDX files in data/mnist)"; exit 1; fi
	bash benchmarks/torch/lenet_threads.sh $(LENET) "$(MNIST_DIR)" $(LENET_ROUNDS)

# In make test: the deep fried LeNet (adaptive Fastfood 1024 with dropout) must learn MNIST in
# 3 epochs with the Caffe solver and in 2 with Adam at its defaults (test error at most 5%, one
# learning rate for all parameters), and the C example's Fastfood net in 3 (at most 12%), after
# its check of both nets' gradients against their loss (--check-gradients).
test-training: $(LENET) $(BINDIR_BUILD)/mnist_mlp
	@bash -n benchmarks/torch/lenet_threads.sh # not run here (it times things): parsed, so it cannot rot unseen
	bash Tests/Examples/command_lines.sh $(LENET) $(BINDIR_BUILD)/mnist_mlp
	@if [ -z "$(MNIST_DIR)" ]; then \
	  if [ "$${CI:-}" = true ]; then echo "FAIL test-training: no MNIST directory (../shared/data/mnist)"; exit 1; fi; \
	  echo "SKIP test-training: no MNIST found (set MNIST_DIR or put the IDX files in data/mnist)"; exit 0; fi; \
	echo "== deep fried LeNet on MNIST from $(MNIST_DIR), 3 epochs"; \
	$(LENET) "$(MNIST_DIR)" --epochs 3 --seeds 1 --models aff1024 --max-error 5 > $(BUILD)/lenet-smoke.log \
	  || { cat $(BUILD)/lenet-smoke.log; exit 1; }; tail -n 4 $(BUILD)/lenet-smoke.log; \
	echo "== deep fried LeNet with Adam at its defaults (lr 1e-3), 2 epochs"; \
	$(LENET) "$(MNIST_DIR)" --epochs 2 --seeds 1 --models aff1024 --optimizer adam --max-error 5 > $(BUILD)/lenet-adam.log \
	  || { cat $(BUILD)/lenet-adam.log; exit 1; }; tail -n 2 $(BUILD)/lenet-adam.log; \
	echo "== C MLP on MNIST: its gradient check, then 3 epochs"; \
	$(BINDIR_BUILD)/mnist_mlp "$(MNIST_DIR)" --epochs 3 --dropout 0.1 --max-error 12 --check-gradients > $(BUILD)/mnist-smoke.log \
	  || { cat $(BUILD)/mnist-smoke.log; exit 1; }; grep "gradient check" $(BUILD)/mnist-smoke.log; tail -n 5 $(BUILD)/mnist-smoke.log

# The README's two commands set up a fresh machine themselves: missing Debian packages are
# installed (as root) or named with the command to install them.
deps-test:
	@bash tools/install-deps.sh test
deps-demo:
	@bash tools/install-deps.sh demo

# The AVX-512 kernels on a CPU without AVX-512 (Tests/Emulated/avx512.sh).
test-avx512-emulated: $(C_TESTS) $(EXAMPLES) $(BINDIR_BUILD)/test_cpp
	@bash tools/install-deps.sh emulator
	bash Tests/Emulated/avx512.sh $(BUILD) $(notdir $(C_TESTS)) test_cpp

# Data-parallel training (examples/distributed): C + MPI (mpicc) and libtorch + c10d Gloo (CMake,
# against the installed copy in build/prefix, like the LeNet example).
MPICC        ?= mpicc
MPIRUN       := mpirun --allow-run-as-root --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo \
                --mca oob_tcp_if_include lo
GLOO         := $(BUILD)/distributed/lenet_gloo

$(BINDIR_BUILD)/mnist_mlp_mpi: examples/distributed/mnist_mlp_mpi.c examples/mlp_net.h examples/mnist_idx.h \
                               examples/option_values.h include/fastfood.h $(LIB_LINK)
	@mkdir -p $(BINDIR_BUILD)
	$(MPICC) $(CFLAGS) $(WARNINGS) -D_POSIX_C_SOURCE=200809L -Iinclude $< -o $@ $(C_LINK) -lopenblas -lz

$(BINDIR_BUILD)/compare_params: Tests/Distributed/compare_params.c
	@mkdir -p $(BINDIR_BUILD)
	$(CC) $(CFLAGS) $(WARNINGS) $< -o $@ -lm

$(GLOO): examples/distributed/lenet_gloo.cpp examples/distributed/CMakeLists.txt examples/lenet/lenet_model.h \
         examples/mnist_idx.h examples/option_values.h bindings/torch/fastfood_linear.h bindings/cpp/fastfood.hpp $(LIB_LINK)
	$(MAKE) --no-print-directory install PREFIX=$(LENET_PREFIX) > $(BUILD)/prefix-install.log 2>&1
	cmake -S examples/distributed -B $(BUILD)/distributed -DCMAKE_PREFIX_PATH=$(LENET_PREFIX) \
	  -DCMAKE_BUILD_TYPE=Release > $(BUILD)/distributed-cmake.log 2>&1 || { cat $(BUILD)/distributed-cmake.log; exit 1; }
	cmake --build $(BUILD)/distributed >> $(BUILD)/distributed-cmake.log 2>&1 \
	  || { tail -40 $(BUILD)/distributed-cmake.log; exit 1; }
	touch $@

$(BINDIR_BUILD)/projection: examples/distributed/projection.c examples/option_values.h include/fastfood.h $(LIB_LINK)
	@mkdir -p $(BINDIR_BUILD)
	$(CC) $(CFLAGS) $(WARNINGS) -D_POSIX_C_SOURCE=200809L -Iinclude $< -o $@ $(C_LINK) -lopenblas

distributed: $(BINDIR_BUILD)/mnist_mlp_mpi $(GLOO) $(BINDIR_BUILD)/projection

# Both examples with 2 processes on this machine, Fastfood and dense hidden layers, short; then
# the projection to 8 and 64 machines from their RESULT lines (and the ImageNet stack, measured).
DISTRIBUTED_STEPS ?= 300
DISTRIBUTED_LOG := $(BUILD)/distributed-results.txt
distributed-demo: deps-test distributed
	@if [ -z "$(MNIST_DIR)" ]; then echo "no MNIST found: set MNIST_DIR (or put the IDX files in data/mnist)"; exit 1; fi
	@: > $(DISTRIBUTED_LOG)
	@for h in fastfood dense; do echo "== C + MPI, 2 processes, $$h hidden layer"; \
	  FASTFOOD_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(MPIRUN) -n 2 $(BINDIR_BUILD)/mnist_mlp_mpi "$(MNIST_DIR)" \
	    --hidden $$h --steps $(DISTRIBUTED_STEPS) > $(BUILD)/distributed-run.log 2>&1 \
	    || { cat $(BUILD)/distributed-run.log; exit 1; }; \
	  cat $(BUILD)/distributed-run.log; cat $(BUILD)/distributed-run.log >> $(DISTRIBUTED_LOG); done
	@for m in aff1024 reference; do echo "== libtorch + Gloo, 2 processes, LeNet $$m"; \
	  FASTFOOD_NUM_THREADS=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=29517 WORLD_SIZE=2 RANK=1 $(GLOO) "$(MNIST_DIR)" \
	    --model $$m --steps $(DISTRIBUTED_STEPS) > $(BUILD)/gloo-rank1.log 2>&1 & \
	  FASTFOOD_NUM_THREADS=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=29517 WORLD_SIZE=2 RANK=0 $(GLOO) "$(MNIST_DIR)" \
	    --model $$m --steps $(DISTRIBUTED_STEPS) > $(BUILD)/distributed-run.log 2>&1 \
	    || { cat $(BUILD)/distributed-run.log; exit 1; }; wait; \
	  cat $(BUILD)/distributed-run.log; cat $(BUILD)/distributed-run.log >> $(DISTRIBUTED_LOG); done
	@echo "== projection to 8 and 64 machines (examples/distributed/projection.c)"
	@$(BINDIR_BUILD)/projection $(DISTRIBUTED_LOG)

# In make test: ranks agree bitwise, 2 processes equal 1 to rounding, a dying rank stops the rest.
test-distributed: distributed $(BINDIR_BUILD)/compare_params
	bash Tests/Examples/command_lines.sh $(BINDIR_BUILD)/mnist_mlp_mpi $(GLOO) $(BINDIR_BUILD)/projection
	@if [ -z "$(MNIST_DIR)" ]; then \
	  if [ "$${CI:-}" = true ]; then echo "FAIL test-distributed: no MNIST directory (../shared/data/mnist)"; exit 1; fi; \
	  echo "SKIP test-distributed: no MNIST found (set MNIST_DIR or put the IDX files in data/mnist)"; exit 0; fi; \
	bash Tests/Distributed/run.sh $(BUILD) "$(MNIST_DIR)"
