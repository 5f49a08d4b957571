# Qwen3 Quantization Lab -- the one Makefile (STYLE.md section 11). `make help` lists the targets.
# Sources are discovered by wildcard: a new src/<module>/<name>.c joins libql, a new tests/test_<name>.c
# becomes a test program, experiments/<id>/main.c becomes build/bin/<id>, kernels/<name>.cu joins libql_cuda.

# ---- toolchain and options ----
CC ?= cc
# empty NVCC -> CPU-only build (no trailing comments on assignments: make keeps the spaces before '#')
NVCC := $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
CFLAGS := -std=c11 -O2 -g -Wall -Wextra -pedantic -ffp-contract=off -fopenmp -MMD -MP -Isrc \
          -ffile-prefix-map=$(CURDIR)=. -fno-omit-frame-pointer
LIBS_COMMON := -lcjson -lcmark-gfm-extensions -lcmark-gfm -lopenblas -lutf8proc -llzma -lm -lpthread
LDLIBS := $(LIBS_COMMON) -fopenmp
# Kernels: Hopper (sm_90a: wgmma, TMA) and Ampere (sm_80) machine code, no fast math (STYLE.md section 6).
NVCCFLAGS := -std=c++17 -O3 -g -lineinfo -Isrc -Ikernels \
             -gencode=arch=compute_90a,code=sm_90a -gencode=arch=compute_80,code=sm_80 \
             -Xcompiler -ffp-contract=off -Xcompiler -ffile-prefix-map=$(CURDIR)=.
ifeq ($(DEBUG_SYNC),1)
  NVCCFLAGS += -DQL_DEBUG_SYNC=1
endif

# The report language: only a command-line LANG counts; the environment's LANG is a locale, not a choice.
REPORT_LANG := $(if $(filter command line,$(origin LANG)),$(LANG),en)
$(if $(filter $(REPORT_LANG),en zh),,$(error LANG must be en or zh, got '$(REPORT_LANG)'))
ifneq ($(filter run,$(MAKECMDGOALS)),)
  $(if $(EXP),,$(error usage: make run EXP=e01-formats [FORCE=1] [MODEL=DIR] [BACKEND=cpu|cuda] [ARGS='...']))
endif
FORCE ?= 0
$(if $(filter $(FORCE),0 1),,$(error FORCE must be 0 or 1, got '$(FORCE)'))
BACKEND ?= cpu
$(if $(filter $(BACKEND),cpu cuda),,$(error BACKEND must be cpu or cuda, got '$(BACKEND)'))
# The CUDA engine is build/lib/libql_cuda_engine.so, built only where nvcc exists (src/engine/engine.h).
$(if $(filter cuda,$(BACKEND)),$(if $(NVCC),,$(error BACKEND=cuda: no CUDA engine in this build (nvcc not found); use BACKEND=cpu)))
MODEL ?= models/qwen3-tiny

# command-line variables are exported to recipes: without this, LANG=zh reaches gnuplot, sort, ...
unexport LANG
export LC_ALL := C.UTF-8
export TZ := UTC
export QL_GIT_REV := $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)

.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:
.PHONY: all deps test bench run figures report paper check-report check-tiny data clean help verify

# ---- sources ----
LIB_SRC    := $(sort $(wildcard src/*/*.c))
LIB_SRC    := $(filter-out src/cli/%,$(LIB_SRC))
CLI_SRC    := $(sort $(wildcard src/cli/*.c))
TEST_SRC   := $(sort $(wildcard tests/test_*.c))
EXP_DIRS   := $(sort $(patsubst %/main.c,%,$(wildcard experiments/*/main.c)))
CU_SRC     := $(sort $(wildcard kernels/*.cu))
CHECK_SRC  := $(sort $(wildcard tests/check_*.cu))

LIB_OBJ    := $(LIB_SRC:%.c=build/obj/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=build/obj/%.o)
TEST_BIN   := $(TEST_SRC:tests/%.c=build/bin/%)
EXP_BIN    := $(patsubst experiments/%,build/bin/%,$(EXP_DIRS))
CU_OBJ     := $(CU_SRC:%.cu=build/obj/%.o)
CHECK_BIN  := $(if $(NVCC),$(CHECK_SRC:tests/%.cu=build/bin/%),)

all: build/bin/ql $(EXP_BIN) $(TEST_BIN) $(CHECK_BIN) ## build the library, the ql tool, the drivers and the tests

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | sed 's/:.*## /\t/' | expand -t 16

# ---- dependencies (Debian packages) ----
DEB_PKGS := gcc make libcjson-dev libcmark-gfm-dev libcmark-gfm-extensions-dev gnuplot-nox libopenblas-dev \
            libutf8proc-dev liblzma-dev fonts-noto-cjk chromium xz-utils
build/.deps-ok:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages; run: sudo apt-get install -y" $$missing >&2; exit 1; fi; \
	  echo "installing:" $$missing >&2; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >&2 || exit 1; \
	fi
	@command -v node >/dev/null && command -v npm >/dev/null || echo "✗ node/npm not found: the tokenizer reference check will skip" >&2
	@$(if $(NVCC),echo "✓ nvcc: $(NVCC)",echo "✗ nvcc not found: CPU-only build (kernels/ skipped)") >&2
	@mkdir -p $(@D) && touch $@
deps: build/.deps-ok ## install the missing Debian packages (apt-get when root, else print the command)

# ---- compile ----
# make does not see a flag change, and a stale object builds a driver whose hash (part of every cache key) no
# clean build reproduces. build/.flags holds the flags and is rewritten only when they change; every object and
# program depends on it.
FLAGS_LINE := $(CC) $(CFLAGS) $(LDLIBS) | $(NVCC) $(NVCCFLAGS)
$(shell mkdir -p build && (printf '%s\n' '$(FLAGS_LINE)' | cmp -s - build/.flags || printf '%s\n' '$(FLAGS_LINE)' > build/.flags))

build/obj/%.o: %.c build/.flags | build/.deps-ok
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

build/lib/libql.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

build/obj/kernels/%.o: kernels/%.cu build/.flags | build/.deps-ok
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -MMD -MP -c $< -o $@

# Codec kernels must round exactly as their CPU twins: no FMA contraction anywhere in them (STYLE.md section 6).
build/obj/kernels/quantize_%.o: NVCCFLAGS += -fmad=false

build/lib/libql_cuda.a: $(CU_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# The kernels whose CPU twins they match bit for bit (STYLE.md section 6): no FMA contraction either.
build/obj/kernels/act_quant.o build/obj/kernels/rmsnorm.o build/obj/kernels/rope.o build/obj/kernels/swiglu.o \
build/obj/kernels/moe.o: NVCCFLAGS += -fmad=false

# ---- CUDA engine: build/lib/libql_cuda_engine.so, dlopen'd by src/engine/engine.c (engine_create "cuda") ----
# A shared library, so its code is position-independent: the kernels and the few libql rooms it calls (core for
# die / CHECK, formats for the activation codecs' scales) are compiled a second time with -fPIC under
# build/obj/pic/. No C program links it, so their bytes and the CPU results' cache keys never depend on nvcc;
# CUDA results carry the library's sha256 (engine_code_sha256). cuBLAS is linked dynamically (libcublas.so.13
# of the CUDA toolkit on the machine that runs it); the CUDA runtime statically (nvcc's default).
ifneq ($(NVCC),)
PIC_LIB_SRC := $(sort $(wildcard src/core/*.c src/formats/*.c))
PIC_LIB_OBJ := $(PIC_LIB_SRC:%.c=build/obj/pic/%.o)
PIC_CU_OBJ  := $(CU_SRC:%.cu=build/obj/pic/%.o)

build/obj/pic/src/%.o: src/%.c build/.flags | build/.deps-ok
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIC -c $< -o $@

build/obj/pic/kernels/%.o: kernels/%.cu build/.flags | build/.deps-ok
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -Xcompiler -fPIC -MMD -MP -c $< -o $@

build/obj/pic/kernels/quantize_%.o: NVCCFLAGS += -fmad=false
build/obj/pic/kernels/act_quant.o build/obj/pic/kernels/rmsnorm.o build/obj/pic/kernels/rope.o \
build/obj/pic/kernels/swiglu.o build/obj/pic/kernels/moe.o: NVCCFLAGS += -fmad=false

build/lib/libql_pic.a: $(PIC_LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

build/lib/libql_cuda_engine.so: src/engine/qwen3_cuda.cu $(PIC_CU_OBJ) build/lib/libql_pic.a build/.flags
	@mkdir -p $(@D) build/obj/pic/src/engine
	$(NVCC) $(NVCCFLAGS) -shared -Xcompiler -fPIC -Xlinker --no-undefined -MMD -MP \
	  -MF build/obj/pic/src/engine/qwen3_cuda.d $< $(PIC_CU_OBJ) build/lib/libql_pic.a -lcublas -lgomp -o $@

all: build/lib/libql_cuda_engine.so
build/bin/check_qwen3_cuda: build/lib/libql_cuda_engine.so
# e07-serving (gpu15): the serving check / bench dlopens the engine library too.
build/bin/check_qwen3_serve: build/lib/libql_cuda_engine.so
endif

# No C program links CUDA: no C code calls a kernel yet, so ql, the tests and the drivers are the same binaries
# with or without nvcc, and a results cache made on a CPU-only machine stays valid on a CUDA one (the driver's
# hash is part of the cache key). The check programs link through nvcc, which knows its own library folder
# (CI's nvcc is a wrapper in /usr/local/bin, so <nvcc>/../lib64 is not a path to rely on).

build/bin/ql: $(CLI_OBJ) build/lib/libql.a build/.flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CLI_OBJ) build/lib/libql.a $(LDLIBS) -o $@

build/bin/test_%: build/obj/tests/test_%.o build/lib/libql.a build/.flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< build/lib/libql.a $(LDLIBS) -o $@

build/bin/check_%: tests/check_%.cu build/lib/libql.a build/lib/libql_cuda.a build/.flags
	@mkdir -p $(@D)
	@mkdir -p build/obj/tests
	$(NVCC) $(NVCCFLAGS) -MMD -MP -MF build/obj/tests/check_$*.d $< -o $@ build/lib/libql.a build/lib/libql_cuda.a -lcublasLt -lcublas $(LIBS_COMMON) -lgomp

build/obj/experiments/%.o: experiments/%/main.c build/.flags | build/.deps-ok
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

build/bin/%: build/obj/experiments/%.o build/lib/libql.a build/.flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< build/lib/libql.a $(LDLIBS) -o $@

build/bin/run_tests: tests/runner/run_tests.c build/.flags | build/.deps-ok
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@

-include $(shell find build/obj -name '*.d' 2>/dev/null)

# ---- the quantized-model cache's code identity (src/harness/qcache.h "Key") ----
# build/gen/qcode_id.h: QCODE_ID, the sha256 of (path, sha256 of contents) of every source of the rooms the
# quantization path compiles from, sorted, then the C flags without the path-dependent -ffile-prefix-map (the
# same in every clone) and `$(CC) --version`. Rewritten only when it changes. Only qcache.o includes it, through
# a private -I (private: the flag does not reach its prerequisites, and no other object or flags line changes,
# so no driver's bytes do).
QCODE_SRC := $(sort $(foreach d,core data engine formats model ops quant harness,$(wildcard src/$(d)/*.c src/$(d)/*.h)))
QCODE_FLAGS := $(CC) $(filter-out -ffile-prefix-map=%,$(CFLAGS)) $(LDLIBS)
build/gen/qcode_id.h: $(QCODE_SRC) build/.flags
	@mkdir -p $(@D)
	@{ for f in $(QCODE_SRC); do printf '%s ' "$$f"; sha256sum < "$$f"; done; \
	   printf '%s\n' '$(QCODE_FLAGS)'; $(CC) --version; } | sha256sum | \
	 awk '{ printf "/* generated by the Makefile: the quantization code identity (src/harness/qcache.h) */\n"; \
	        printf "#define QCODE_ID \"%s\"\n", $$1 }' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; echo "qcode_id: $$(sed -n 's/.*QCODE_ID "\(.*\)"/\1/p' $@)"; fi
build/obj/src/harness/qcache.o build/san/obj/src/harness/qcache.o build/fuzz/obj/src/harness/qcache.o: build/gen/qcode_id.h
build/obj/src/harness/qcache.o: private CFLAGS += -Ibuild/gen
build/san/obj/src/harness/qcache.o: private SAN_CFLAGS += -Ibuild/gen
build/fuzz/obj/src/harness/qcache.o: private FUZZ_CFLAGS += -Ibuild/gen

# ---- tests ----
ifneq ($(SANITIZE),1)
test: build/bin/run_tests $(TEST_BIN) $(CHECK_BIN) build/bin/ql $(EXP_BIN) ## all tests (GPU checks skip without a GPU)
	build/bin/run_tests $(TEST_BIN) $(CHECK_BIN)
	@if command -v chromium >/dev/null; then $(MAKE) --no-print-directory check-report; \
	 else echo "SKIP check-report: chromium not installed" >&2; fi
else
test: test-san
endif

# The embedded model against its training run (needs ../shared/corpus; ~5 minutes, so not part of `test`).
check-tiny: build/bin/ql ## qwen3-tiny: our validation ids and perplexity against the training script's (within 0.5%)
	tools/check-tiny-val.sh

# ---- sanitizers: make test SANITIZE=1 (issue 9) ----
# The whole CPU suite built with clang under AddressSanitizer + UndefinedBehaviorSanitizer (float-cast-overflow
# included, which gcc does not check) and LeakSanitizer, in build/san/ so it never mixes with the normal
# objects. Any report fails the program (-fno-sanitize-recover, halt_on_error). die() leaves with _exit, so the
# tests that expect a one-line error and exit 1 keep their exact status (src/core/check.h).
SANITIZE ?= 0
$(if $(filter $(SANITIZE),0 1),,$(error SANITIZE must be 0 or 1, got '$(SANITIZE)'))
SAN_CC := $(shell command -v clang-14 2>/dev/null || command -v clang 2>/dev/null)
SAN_DEB_PKGS := clang-14 libclang-rt-14-dev libomp-14-dev
SAN_FLAGS := -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS := -std=c11 -O1 -g -Wall -Wextra -pedantic -ffp-contract=off -fopenmp -MMD -MP -Isrc \
              -ffile-prefix-map=$(CURDIR)=. $(SAN_FLAGS)
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp
SAN_LIB_OBJ := $(LIB_SRC:%.c=build/san/obj/%.o)
SAN_TEST_BIN := $(TEST_SRC:tests/%.c=build/san/bin/%)
ifneq ($(filter 1,$(SANITIZE))$(filter test-san,$(MAKECMDGOALS)),)
  $(shell mkdir -p build/san && (printf '%s\n' '$(SAN_CC) $(SAN_CFLAGS)' | cmp -s - build/san/.flags || printf '%s\n' '$(SAN_CC) $(SAN_CFLAGS)' > build/san/.flags))
endif
build/san/.deps-ok:
	@missing=$$(for p in $(SAN_DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "SANITIZE=1 needs: sudo apt-get install -y" $$missing >&2; exit 1; fi; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >&2 || exit 1; \
	fi
	@mkdir -p $(@D) && touch $@
build/san/obj/%.o: %.c build/san/.flags | build/san/.deps-ok
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN_CFLAGS) -c $< -o $@
build/san/lib/libql.a: $(SAN_LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
build/san/bin/test_%: build/san/obj/tests/test_%.o build/san/lib/libql.a
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN_CFLAGS) $< build/san/lib/libql.a $(LIBS_COMMON) -o $@
.PHONY: test-san
build/san/bin/san_control: tests/san_control.c build/san/.flags | build/san/.deps-ok
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN_CFLAGS) $< -o $@
test-san: build/bin/run_tests $(SAN_TEST_BIN) build/bin/ql $(EXP_BIN) build/san/bin/san_control ## the CPU tests under ASan + UBSan + LSan (clang): make test SANITIZE=1
	@for c in cast heap; do if $(SAN_ENV) build/san/bin/san_control $$c >/dev/null 2>&1; then \
	  echo "FAILED sanitizer negative control '$$c': not detected" >&2; exit 1; fi; done; \
	  echo "ok sanitizer negative controls (float-cast-overflow, heap overflow) detected" >&2
	$(SAN_ENV) build/bin/run_tests $(SAN_TEST_BIN)
-include $(shell find build/san/obj -name '*.d' 2>/dev/null)

# ---- fuzzing: make fuzz [FUZZ_TIME=60] [FUZZ=name...] (issue 9) ----
# libFuzzer harnesses for every reader of outside input (tests/fuzz/targets.c), built with clang under ASan +
# UBSan in build/fuzz/; each runs FUZZ_TIME seconds from its seed corpus (tests/fuzz/<name>/seed/) and a
# working corpus in build/fuzz/corpus/<name>/; crashers land in build/fuzz/crash/<name>/ (copy one, once
# fixed, into tests/fuzz/<name>/regress/: build/bin/test_fuzz replays those in `make test`). A die() inside a
# target returns through a longjmp, so what the rejected input had allocated stays allocated: leak detection is
# off, and `dataset` (dataset_c4_join abandons a 1 MiB buffer per rejected input) and `tokenizer_load` (a
# half-built tokenizer) run in libFuzzer's fork mode, whose workers restart when they run out of memory.
FUZZ_NAMES := safetensors st_index config tokenizer_load tokenize results placeholders logits dataset
FUZZ ?= $(FUZZ_NAMES)
FUZZ_TIME ?= 60
FUZZ_CFLAGS := -std=c11 -O1 -g -ffp-contract=off -Isrc -Wno-unknown-pragmas -ffile-prefix-map=$(CURDIR)=. \
               -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)
build/fuzz/obj/%.o: %.c | build/san/.deps-ok
	@mkdir -p $(@D)
	$(SAN_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
build/fuzz/lib/libql.a: $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
build/fuzz/bin/fuzz_%: tests/fuzz/libfuzzer_main.c build/fuzz/obj/tests/fuzz/targets.o build/fuzz/lib/libql.a
	@mkdir -p $(@D)
	$(SAN_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DFUZZ_NAME='"$*"' $^ $(LIBS_COMMON) -o $@
.PHONY: fuzz
fuzz: $(FUZZ:%=build/fuzz/bin/fuzz_%) ## run every libFuzzer harness FUZZ_TIME seconds (default 60): make fuzz [FUZZ=config] [FUZZ_TIME=120]
	@for t in $(FUZZ); do mkdir -p build/fuzz/corpus/$$t build/fuzz/crash/$$t; \
	  echo "fuzz $$t ($(FUZZ_TIME) s)" >&2; \
	  extra=; case $$t in dataset|tokenizer_load) extra="-fork=1 -ignore_ooms=1";; esac; \
	  ASAN_OPTIONS=detect_leaks=0 build/fuzz/bin/fuzz_$$t $$extra -max_total_time=$(FUZZ_TIME) -detect_leaks=0 -rss_limit_mb=4096 -timeout=10 \
	    -print_final_stats=1 -artifact_prefix=build/fuzz/crash/$$t/ build/fuzz/corpus/$$t tests/fuzz/$$t/seed \
	    2> build/fuzz/$$t.log || { tail -40 build/fuzz/$$t.log >&2; exit 1; }; \
	  { grep -E '^stat::number_of_executed_units' build/fuzz/$$t.log || grep -E '^#[0-9]+:' build/fuzz/$$t.log | tail -1; } \
	    | sed "s/^/  $$t /" >&2; \
	done
# The replay test links the targets too (gcc, or clang under SANITIZE=1).
build/bin/test_fuzz: build/obj/tests/test_fuzz.o build/obj/tests/fuzz/targets.o build/lib/libql.a build/.flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) build/obj/tests/test_fuzz.o build/obj/tests/fuzz/targets.o build/lib/libql.a $(LDLIBS) -o $@
build/san/bin/test_fuzz: build/san/obj/tests/test_fuzz.o build/san/obj/tests/fuzz/targets.o build/san/lib/libql.a
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN_CFLAGS) $^ $(LIBS_COMMON) -o $@

# ---- e06-kernels benchmark (issue 14; experiments/e06-kernels/README.en.md) ----
# tests/bench_e06.cu is the GPU benchmark of e06: a CUDA program (not a libql-linked C driver, so not part of
# the experiment loop of `make figures`), built with `all` where nvcc exists. Its records are raw JSON lines +
# a manifest under results/<model>@<gpu>/e06-kernels/, written on the GPU machine and committed as they are.
ifneq ($(NVCC),)
all: build/bin/bench_e06
build/bin/bench_e06: tests/bench_e06.cu build/lib/libql.a build/lib/libql_cuda.a build/.flags
	@mkdir -p $(@D) build/obj/tests
	$(NVCC) $(NVCCFLAGS) -DE06_GIT_REV='"$(QL_GIT_REV)"' -MMD -MP -MF build/obj/tests/bench_e06.d $< -o $@ \
	  build/lib/libql.a build/lib/libql_cuda.a -lcublasLt -lcublas $(LIBS_COMMON) -lgomp
endif
# The figures and reports read results/<model>@<gpu>/e06-kernels/<kernel>.json, which tools/e06_results.awk
# derives from the committed records (numbers copied, nothing computed): `make e06-results` after a GPU run.
E06_DIRS := $(patsubst %/bench.jsonl,%,$(wildcard results/*/e06-kernels/bench.jsonl))
.PHONY: e06-results
e06-results: ## rebuild results/<model>@<gpu>/e06-kernels/<kernel>.json from the committed bench.jsonl / torch.jsonl
	@for d in $(E06_DIRS); do m=$$(basename $$(dirname $$d)); \
	  ks=$$(awk -v dir=$$d -v model=$$m -f tools/e06_results.awk $$d/manifest.json $$d/bench.jsonl \
	    $$(ls $$d/torch.jsonl 2>/dev/null)) || exit 1; \
	  for k in $$ks; do mv -f $$d/$$k.json.tmp $$d/$$k.json; done; echo "e06-results: $$d: $$(echo $$ks | wc -w) kernels" >&2; done
# An e06 figure whose results are absent (no GPU run committed for its model) gets a TSV holding only a
# comment, which its script draws as an empty frame saying so: `make figures` never needs a GPU.
build/out/data/e06-%.tsv: figures/e06-%.gp build/bin/ql $(RESULTS_JSON)
	@mkdir -p $(@D)
	@d=$$(sed -n 's/^#% data //p' $<); missing=; \
	  for r in $$(sed -n 's/^#% rows //p' $<); do [ -f results/$$d/$$r.json ] || missing="$$missing $$r"; done; \
	  if [ -z "$$missing" ]; then build/bin/ql figdata --results results --model $(REPORT_MODEL) --out $@ $<; \
	  else echo "$@: no results/$$d/ for:$$missing (drawn empty)" >&2; \
	    printf '# %s: no results in results/%s for:%s\n' "$*" "$$d" "$$missing" > $@; fi

# ---- e07-serving records (issue 15; gpu15) ----
# tests/check_qwen3_serve.cu --bench writes serve.jsonl on the GPU machine; with manifest.json and check.log it is
# committed under results/<model>@<gpu>/e07-serving/, and tools/e07_results.py derives <recipe>.json from it
# (numbers copied). An e07 figure without results gets a comment-only TSV and is drawn empty, as e06's.
E07_DIRS := $(patsubst %/serve.jsonl,%,$(wildcard results/*/e07-serving/serve.jsonl))
.PHONY: e07-results
e07-results: ## rebuild results/<model>@<gpu>/e07-serving/<recipe>.json from the committed serve.jsonl
	python3 tools/e07_results.py $(E07_DIRS)
build/out/data/e07-%.tsv: figures/e07-%.gp build/bin/ql $(RESULTS_JSON)
	@mkdir -p $(@D)
	@d=$$(sed -n 's/^#% data //p' $<); missing=; \
	  for r in $$(sed -n 's/^#% rows //p' $<); do [ -f results/$$d/$$r.json ] || missing="$$missing $$r"; done; \
	  if [ -z "$$missing" ]; then build/bin/ql figdata --results results --model $(REPORT_MODEL) --out $@ $<; \
	  else echo "$@: no results/$$d/ for:$$missing (drawn empty)" >&2; \
	    printf '# %s: no results in results/%s for:%s\n' "$*" "$$d" "$$missing" > $@; fi

# ---- benchmarks ----
# Speed is measured here, never asserted in tests. Each program prints its "bench ..." lines after its
# correctness pass; the GPU kernels' benches skip (exit 77) without a device. Collected into build/bench/.
BENCH_PROGS := build/bin/test_tokenizer build/bin/test_model $(if $(NVCC),build/bin/check_quantize,)
# Then the CPU serving benchmark (tools/bench/serving.sh): `ql bench` for bf16 and the packed recipes, beside
# llama-bench on our GGUF exports when LLAMA_CPP_DIR names a llama.cpp build (a user's own; never built here),
# our numbers alone otherwise; BENCH_ROUNDS interleaved rounds, medians, the side-by-side table printed and
# written with the records under results/<model>@cpu/e07-serving/ (benchmark records with the CPU model in their
# manifest, not cache-keyed results). About 2 minutes for qwen3-tiny on 2 idle cores; run on an idle machine.
BENCH_ROUNDS ?= 3
$(if $(filter-out 1 2 3 4 5 6 7 8 9 10,$(BENCH_ROUNDS)),$(error BENCH_ROUNDS must be 1..10, got '$(BENCH_ROUNDS)'))
bench: $(BENCH_PROGS) build/bin/ql ## run the benchmarks (tokenizer MB/s, prefill GFLOP/s, GPU codecs; CPU serving vs llama.cpp with LLAMA_CPP_DIR) into build/bench/ and results/<model>@cpu/e07-serving/
	@mkdir -p build/bench
	@for p in $(BENCH_PROGS); do $$p --bench 2>&1 | grep -E '^(bench|SKIP)' || true; done | tee build/bench/bench.txt.tmp
	@mv -f build/bench/bench.txt.tmp build/bench/bench.txt
	tools/bench/serving.sh $(MODEL) $(BENCH_ROUNDS)

# ---- embedded models ----
# qwen3-tiny-moe's weights are a blob in main's history (commit 9511d71 adds them, dd29da1 takes them out of the
# tree again; tools/fetch-weights.sh says why); the tree tracks their sha256 only. Any target that reads the
# model depends on this file.
MOE_WEIGHTS := models/qwen3-tiny-moe/model.safetensors
$(MOE_WEIGHTS): models/qwen3-tiny-moe/SHA256SUMS
	tools/fetch-weights.sh qwen3-tiny-moe
models: $(MOE_WEIGHTS) ## put the embedded models' weights in place (qwen3-tiny-moe from main's git history, sha256-checked)
.PHONY: models
MODEL_DEPS = $(if $(findstring qwen3-tiny-moe,$(MODEL)),$(MOE_WEIGHTS),)

# ---- experiments ----
RUN_FLAGS = $(if $(filter 1,$(FORCE)),--force,) --model $(MODEL) --backend $(BACKEND)
run: build/bin/$(EXP) $(MODEL_DEPS) ## run one experiment: make run EXP=e01-formats [FORCE=1] [MODEL=DIR] [BACKEND=cuda]
	$< $(RUN_FLAGS) $(ARGS)

# ---- figures and reports ----
# results/<model>/<exp>/<recipe>.json --(ql figdata, '#%' lines of figures/<fig>.gp)--> build/out/data/<fig>.tsv
#   --(gnuplot figures/<fig>.gp, lang='en'|'zh')--> build/out/<fig>.<lang>.svg + .png
# notebooks-md/<lang>/<nb>.md, paper/<lang>/paper.md --(ql report)--> build/report/<lang>/<page>.html + .md
# The language reaches gnuplot and ql as an argument only (LANG itself is unexported above).
REPORT_LANGS := en zh
FIG_GP       := $(sort $(wildcard figures/e[0-9][0-9]-*.gp))
FIG_NAMES    := $(patsubst figures/%.gp,%,$(FIG_GP))
FIG_TSV      := $(FIG_NAMES:%=build/out/data/%.tsv)
FIG_OUT      := $(foreach l,$(REPORT_LANGS),$(FIG_NAMES:%=build/out/%.$(l).svg) $(FIG_NAMES:%=build/out/%.$(l).png))
# every experiment folder; `make figures` runs each (its driver decides cache hits; a driver that cannot run on
# this machine, e.g. a GPU experiment without a GPU, exits 77 and is skipped with its one-line reason)
FIG_EXPS     := $(patsubst experiments/%,%,$(EXP_DIRS))
RESULTS_JSON := $(sort $(wildcard results/*/*/*.json))
NB_NAMES     := $(patsubst notebooks-md/en/%.md,%,$(sort $(wildcard notebooks-md/en/*.md)))
# the model folder's name (MODEL=~/models/Qwen3-8B/ -> Qwen3-8B) picks results/<model>/ for references without one
REPORT_MODEL  = $(notdir $(patsubst %/,%,$(MODEL)))
REPORT_FLAGS  = --results results --model $(REPORT_MODEL) --figures build/out

figures: build/bin/ql $(FIG_EXPS:%=build/bin/%) $(MODEL_DEPS) ## run the experiments whose results are missing, then draw every figure (en and zh)
	@for e in $(FIG_EXPS); do echo "build/bin/$$e $(RUN_FLAGS)" >&2; build/bin/$$e $(RUN_FLAGS); rc=$$?; \
	  if [ $$rc = 77 ]; then echo "skip $$e (exit 77)" >&2; elif [ $$rc != 0 ]; then exit $$rc; fi; done
	$(MAKE) --no-print-directory figures-draw

# figures/<fig>-moe.gp draws <fig> for qwen3-tiny-moe by loading figures/<fig>.gp: it redraws when that changes.
$(foreach f,$(filter %-moe,$(FIG_NAMES)),$(eval $(foreach l,$(REPORT_LANGS),build/out/$(f).$(l).svg build/out/$(f).$(l).png): figures/$(f:-moe=).gp))

# A second make, so that the results the drivers just wrote are in RESULTS_JSON.
.PHONY: figures-draw
figures-draw: $(FIG_OUT) $(foreach l,$(REPORT_LANGS),build/out/qwen3-tiny-loss.$(l).svg)

# The embedded model's training curve: its script and data live with the model (models/qwen3-tiny/).
build/out/qwen3-tiny-loss.%.svg build/out/qwen3-tiny-loss.%.png: models/qwen3-tiny/loss_curve.gp models/qwen3-tiny/train_log.tsv figures/style.gp
	@mkdir -p $(@D)
	gnuplot -e "lang='$*'; svgfile='build/out/qwen3-tiny-loss.$*.svg.tmp'; pngfile='build/out/qwen3-tiny-loss.$*.png.tmp'" $<
	mv -f build/out/qwen3-tiny-loss.$*.svg.tmp build/out/qwen3-tiny-loss.$*.svg
	mv -f build/out/qwen3-tiny-loss.$*.png.tmp build/out/qwen3-tiny-loss.$*.png

build/out/data/%.tsv: figures/%.gp build/bin/ql $(RESULTS_JSON)
	build/bin/ql figdata --results results --model $(REPORT_MODEL) --out $@ $<

# One pattern rule per language: its two targets (svg, png) come from one gnuplot run. gnuplot writes
# .tmp files that are renamed into place, so an interrupted run leaves no half figure behind.
define FIG_LANG_RULE
build/out/%.$(1).svg build/out/%.$(1).png: figures/%.gp build/out/data/%.tsv figures/style.gp figures/labels_$(1).gp
	gnuplot -e "lang='$(1)'; datafile='build/out/data/$$*.tsv'; svgfile='$$(basename $$@).svg.tmp'; pngfile='$$(basename $$@).png.tmp'" $$<
	mv -f $$(basename $$@).svg.tmp $$(basename $$@).svg
	mv -f $$(basename $$@).png.tmp $$(basename $$@).png

build/report/$(1)/%.html: notebooks-md/$(1)/%.md build/bin/ql $(RESULTS_JSON) $(FIG_NAMES:%=build/out/%.$(1).svg)
	build/bin/ql report --lang $(1) $$(REPORT_FLAGS) --out $$@ $$<

build/report/$(1)/paper.html: paper/$(1)/paper.md build/bin/ql $(RESULTS_JSON) $(FIG_NAMES:%=build/out/%.$(1).svg)
	build/bin/ql report --lang $(1) $$(REPORT_FLAGS) --out $$@ $$<

build/report/$(1)/index.html: $(NB_NAMES:%=build/report/$(1)/%.html) build/report/$(1)/paper.html build/bin/ql
	build/bin/ql report --index --lang $(1) --out $$@ $(NB_NAMES:%=build/report/$(1)/%.md) build/report/$(1)/paper.md
endef
$(foreach l,$(REPORT_LANGS),$(eval $(call FIG_LANG_RULE,$(l))))

report: build/report/$(REPORT_LANG)/index.html ## render the notebooks and the paper: make report LANG=en|zh
	@echo "report: $(CURDIR)/build/report/$(REPORT_LANG)/index.html" >&2

paper: build/report/$(REPORT_LANG)/paper.html ## render the paper only: make paper LANG=en|zh

check-report: build/report/zh/index.html $(NB_NAMES:%=build/report/zh/%.html) ## open the zh report in headless Chromium; check Chinese text and that every figure loads
	bash tools/check-report.sh build/report/zh/index.html $(NB_NAMES:%=build/report/zh/%.html) build/report/zh/paper.html

# ---- verify (issue 9) ----
# Recompute results on this machine into a temporary tree and compare their metrics with the committed ones:
# bit-equal where the backend (manifest "device") is the same, else within the per-metric tolerances derived in
# src/core/verify.c. EXP= one or more drivers (default: every experiment the figures read), ARGS= extra driver
# flags (e.g. ARGS='--recipes bf16'). Prints a table; exits non-zero on a real difference.
VERIFY_EXPS = $(or $(EXP),$(FIG_EXPS))
build/bin/verify-results: tools/verify-results.c build/lib/libql.a build/.flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< build/lib/libql.a $(LDLIBS) -o $@

# a Qwen3 checkpoint of a real shape with random BF16 weights, for speed runs (tools/bench/serving.sh)
build/bin/random-qwen3: tools/bench/random_qwen3.c build/lib/libql.a build/.flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< build/lib/libql.a $(LDLIBS) -o $@

verify: build/bin/verify-results $(foreach e,$(VERIFY_EXPS),build/bin/$(e)) ## recompute results here and compare with the committed ones: make verify [EXP='e02-perplexity ...'] [ARGS='--recipes bf16']
	tools/verify.sh $(MODEL) '$(VERIFY_EXPS)' '$(ARGS)'

# ---- data ----
# The public evaluation files are pinned by sha256 in one table, src/data/dataset.c (with their download URLs);
# `make data` is `ql data-verify` over that table plus the downloads, so it checks each file exactly where the
# programs will read it (--data-dir, $QL_DATA_DIR, ./data, ../shared/data; the first hit wins) and a damaged
# copy is "NOT verified" (exit 1) even when a later directory holds a good one. DATA_DIR=... on the make
# command line is exported as QL_DATA_DIR. A file no directory holds is downloaded into $(DATA_DIR) where a
# public URL exists (and the network allows): the download's hash is checked, then `ql data-verify --install`
# moves the file into place only when its own hash is the pinned one.
DATA_DIR ?= data
ifneq ($(filter command line environment,$(origin DATA_DIR)),)
  export QL_DATA_DIR := $(abspath $(DATA_DIR))
endif

data: build/bin/ql ## fetch the evaluation sets pinned by sha256 into DATA_DIR (default ./data), or say what to do offline
	@mkdir -p build/tmp; list=build/tmp/data-fetch.$$$$.tsv; \
	if build/bin/ql data-verify --fetch-list $$list; then rm -f $$list; exit 0; fi; \
	fetched=0; \
	while IFS='	' read -r name url dlsha member; do \
	  mkdir -p "$(DATA_DIR)"; tmp="$(DATA_DIR)/.download.$$$$"; \
	  echo "  fetching $$url" >&2; \
	  if (curl -fsSL --max-time 120 -o "$$tmp" "$$url" || wget -q -T 120 -O "$$tmp" "$$url") 2>/dev/null && \
	     [ "$$(sha256sum "$$tmp" | cut -d' ' -f1)" = "$$dlsha" ]; then \
	    if [ "$$member" != - ]; then unzip -p "$$tmp" "$$member" > "$$tmp.x" && mv -f "$$tmp.x" "$$tmp"; fi; \
	    build/bin/ql data-verify --install "$$name" "$$tmp" --data-dir "$(DATA_DIR)" || true; \
	  else \
	    echo "✗ $$name: could not download $$url (offline?) or its sha256 differs" >&2; \
	  fi; \
	  rm -f "$$tmp" "$$tmp.x"; fetched=1; \
	done < $$list; rm -f $$list; \
	if [ $$fetched = 1 ]; then build/bin/ql data-verify && exit 0; fi; \
	echo "hint: copy a verified copy of the files above (e.g. from ../shared/data) into $(DATA_DIR)/, or point" >&2; \
	echo "      DATA_DIR=/path/to/data (or QL_DATA_DIR) at a folder holding them; a copy that is NOT verified" >&2; \
	echo "      must be removed or replaced (the programs read it first). Without any data the accuracy" >&2; \
	echo "      experiments score text sampled from the BF16 model and say so in their results." >&2; \
	exit 1


clean: ## remove build/ (never results/)
	rm -rf build
