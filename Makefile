# pipelab -- a course in pipeline parallelism.
# `make help` lists every target.

CC      ?= cc
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L
WARN    := -Wall -Wextra -Werror -pedantic
OPT     ?= -O2
CFLAGS  ?= $(WARN) $(OPT) -g
# What bitwise equality and the build depend on stays, whatever CFLAGS a user
# passes: the language, no fused multiply-add the source did not write, and
# the include paths.
override CFLAGS += $(CSTD) -ffp-contract=off -Isrc -Isrc/cli
LDLIBS  += -lpthread -lm
BUILD   ?= build

# Quiet by default; `make V=1` shows every command.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

# Files named *_mpi.c need MPI: they build only with `make mpi` (mk/mpi.mk),
# so the library, pipelab and most tests need nothing but a C compiler.
LIB_SRC := $(filter-out %_mpi.c,$(wildcard src/*.c)) $(wildcard src/schedules/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB     := $(BUILD)/libpipelab.a
CLI     := $(BUILD)/pipelab

TEST_SRC := $(wildcard tests/test_*.c)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_LIBS := -lcriterion

EXCERPT  := $(BUILD)/excerpt
OUTPUTS  := $(BUILD)/outputs
CHAPTER_PAGES = $(wildcard chapters/*/README.md)

CHAPTERS := $(sort $(wildcard chapters/[0-9][0-9]-*))
LESSONS  := $(foreach c,$(CHAPTERS),$(BUILD)/lessons/$(notdir $(c)))

.PHONY: all help deps deps-test deps-docs test test-only check-chapters chapters check-outputs \
        outputs compare bench \
        clean asan tsan lessons

all: $(LIB) $(CLI) $(LESSONS) ## build the library, the pipelab command and every lesson

help: ## list every target with one line each
	@grep -hE '^[a-zA-Z0-9_%-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'
	@echo "  chNN               run chapter NN's lesson (e.g. make ch03)"
	@echo "  test-chNN          run chapter NN's tests (e.g. make test-ch03)"
	@sh exercises/exercise.sh help

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)$(AR) rcs $@ $^

CLI_SRC := $(filter-out %_mpi.c,$(wildcard src/cli/*.c))
$(CLI): $(CLI_SRC:%.c=$(BUILD)/obj/%.o) $(LIB)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# The command's pieces but main, for the tests that call them directly.
CLI_LIB := $(BUILD)/libpipelab-cli.a
$(CLI_LIB): $(filter-out $(BUILD)/obj/src/cli/pipelab.o,$(CLI_SRC:%.c=$(BUILD)/obj/%.o))
	$(call say,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/lessons/%: chapters/%/lesson.c chapters/lesson.h $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB) -o $@ $(LDLIBS)

TEST_HEADERS := $(wildcard tests/*.h) $(wildcard tests/tsan/criterion/*.h)
$(BUILD)/tests/%: tests/%.c $(TEST_HEADERS) $(CLI_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(CLI_LIB) $(LIB) -o $@ $(TEST_LIBS) $(LDLIBS)

$(EXCERPT): tools/excerpt.c
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

$(OUTPUTS): tools/outputs.c
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

check-chapters: $(EXCERPT) ## fail if code quoted in a chapter differs from its marked region in src/, or its links to the chapters around it are stale
	@$(EXCERPT) --check $(CHAPTER_PAGES) && sh scripts/chapter-nav.sh --check && \
	  echo "chapters: every excerpt matches its source, every chapter links its neighbours"

chapters: $(EXCERPT) ## refresh the code quoted in every chapter, and each chapter's links to its neighbours
	@$(EXCERPT) --update $(CHAPTER_PAGES)
	@sh scripts/chapter-nav.sh --update

check-outputs: $(OUTPUTS) $(CLI) $(LESSONS) ## fail if command output pasted into a chapter or the README differs from what it prints now
	+@PL_BUILD=$(abspath $(BUILD)) $(OUTPUTS) --check $(CURDIR) $(CHAPTER_PAGES) README.md && \
	  echo "outputs: every pasted output matches its command"

outputs: $(OUTPUTS) $(CLI) $(LESSONS) ## rewrite the pasted command outputs in the chapters (not those with ...)
	+@PL_BUILD=$(abspath $(BUILD)) $(OUTPUTS) --update $(CURDIR) $(CHAPTER_PAGES) README.md

deps: ## install everything the targets need (Criterion, Doxygen, Graphviz, Open MPI) if missing
	@sh scripts/deps.sh test docs mpi

deps-test: ## install what the tests need (Criterion; Open MPI for chapter 09) if missing
	@sh scripts/deps.sh test mpi

deps-docs: ## install what the docs need (Doxygen, Graphviz) if missing
	@sh scripts/deps.sh docs

test: deps-test ## install what the tests need, then build and run every test suite
	@$(MAKE) --no-print-directory test-only

test-only: $(TESTS) $(CLI) $(EXCERPT) $(OUTPUTS) $(LESSONS) ## run every test suite (no dependency check)
	@sh scripts/run-tests.sh $(TESTS)
	@$(EXCERPT) --check $(CHAPTER_PAGES)
	@sh scripts/chapter-nav.sh --check
	+@PL_BUILD=$(abspath $(BUILD)) $(OUTPUTS) --check $(CURDIR) $(CHAPTER_PAGES) README.md

compare: $(CLI) ## the main job: every schedule side by side (4 devices, 8 micro-batches)
	@$(CLI) compare --devices 4 --microbatches 8

bench: $(BUILD)/bench/bench $(CLI) ## benchmarks: mailbox hand-off, actions/s, real-clock speedup, scaled-clock bubble, constant memory, MPI speedup
	@$(BUILD)/bench/bench
	@$(if $(HAVE_MPI),$(MAKE) --no-print-directory bench-mpi,echo "8. MPI real clock: skipped, no Open MPI here (make deps-mpi)")

$(BUILD)/bench/bench: bench/bench.c bench/handoff.c bench/memory.c $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) bench/bench.c bench/handoff.c bench/memory.c $(LIB) -o $@ $(LDLIBS)

# chNN and test-chNN for every chapter that exists; for one that does not
# yet, a clear message instead of "Nothing to be done".
define chapter_rules
ch$(1): $(BUILD)/lessons/$(2)
	@$(BUILD)/lessons/$(2)
test-ch$(1): deps-test $(BUILD)/tests/test_ch$(1) $(CLI)
	@sh scripts/run-tests.sh $(BUILD)/tests/test_ch$(1)
endef
$(foreach c,$(CHAPTERS),$(eval $(call chapter_rules,$(firstword $(subst -, ,$(notdir $(c)))),$(notdir $(c)))))
CHAPTER_NUMBERS := $(foreach c,$(CHAPTERS),$(firstword $(subst -, ,$(notdir $(c)))))
ch% test-ch%:
	@echo "chapter $(lastword $(subst ch, ,$@)) is not written yet (chapters: $(CHAPTER_NUMBERS))"; exit 2

lessons: $(LESSONS) ## build every chapter's lesson

asan: ## build and run every test under AddressSanitizer + UndefinedBehaviorSanitizer
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 $(MAKE) --no-print-directory BUILD=build/asan CC=clang \
	  OPT="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDLIBS="-lpthread -lm -fsanitize=address,undefined" test-only

tsan: ## build and run every test under ThreadSanitizer (Criterion stand-in: tests/tsan/)
	@TSAN_OPTIONS=halt_on_error=1:abort_on_error=1 $(MAKE) --no-print-directory BUILD=build/tsan CC=clang \
	  OPT="-O1 -fsanitize=thread -fno-omit-frame-pointer -Itests/tsan" TEST_LIBS= \
	  LDLIBS="-lpthread -lm -fsanitize=thread" test-only

clean: ## remove build/
	rm -rf build

# Further targets live in mk/*.mk, one file per concern.
include $(wildcard mk/*.mk)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
