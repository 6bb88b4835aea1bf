# Fuzzing the schedule parser and validator with libFuzzer (clang).
#
#   make fuzz                  FUZZ_SECONDS (default 60) of fuzzing
#   make fuzz FUZZ_SECONDS=600 longer
#
# Everything lives under $(BUILD)/fuzz/: the instrumented target, the seed
# corpus (every built-in schedule for small p and m from `pipelab show`, and
# a few invalid ones), the growing corpus, and any crash/leak/timeout input in
# artifacts/. A finding fails the target; copy the input into
# tests/test_fuzz_regressions.c so it stays fixed.

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_BIN     := $(FUZZ_DIR)/fuzz_schedule
FUZZ_CFLAGS  := $(CSTD) $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer -Isrc

.PHONY: fuzz fuzz-build fuzz-seeds

fuzz-build: $(FUZZ_BIN) ## build the libFuzzer target for the schedule parser and validator

$(FUZZ_BIN): fuzz/fuzz_schedule.c $(LIB_SRC) $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) fuzz/fuzz_schedule.c $(LIB_SRC) -o $@ -lpthread -lm

# Every registered schedule (pipelab list) in small shapes; shapes a schedule
# refuses (naive with m > 1, a fixed chunk count) are skipped.
fuzz-seeds: $(CLI) ## write the fuzzing seed corpus under build/fuzz/seeds
	@rm -rf $(FUZZ_DIR)/seeds && mkdir -p $(FUZZ_DIR)/seeds
	@for s in $$($(CLI) list | grep -v '^ ' | cut -d' ' -f1); do for p in 1 2 3 4; do for m in 1 2 3 5; do \
	  for v in 1 2 3; do f=$(FUZZ_DIR)/seeds/$$s-p$$p-m$$m-v$$v.txt; \
	    $(CLI) show --schedule $$s --devices $$p --microbatches $$m --chunks $$v > $$f \
	      2>/dev/null || rm -f $$f; \
	done; done; done; done; ls $(FUZZ_DIR)/seeds | wc -l | sed 's/$$/ seeds from the registry/' 
	@printf 'devices 2\nmicrobatches 2\nchunks 1\nd0: F0 B0 F1 B1\nd1: F1 B1 F0 B0\n' \
	  > $(FUZZ_DIR)/seeds/deadlock.txt
	@printf 'devices 2\nmicrobatches 2\nchunks 2\nd0: F0.0 F1.0 F0.1 I0.1 W0.1 F1.1 I1.1 W1.1 I0.0 W0.0 I1.0 W1.0\nd1: F0.0 I0.0 W0.0 F1.0 I1.0 W1.0 F0.1 F1.1 I0.1 I1.1 W0.1 W1.1\n' \
	  > $(FUZZ_DIR)/seeds/chunks.txt
	@printf '# comment\r\nmicrobatches 3 # m\r\nchunks\t1\r\ndevices 1\r\n\r\nd0: F0 F1 F2 B2 B1 B0\r\n' \
	  > $(FUZZ_DIR)/seeds/layout.txt
	@printf 'devices 1\nmicrobatches 1\nchunks 1\nd0: F0 B0 B0\n' > $(FUZZ_DIR)/seeds/duplicate.txt

fuzz: $(FUZZ_BIN) fuzz-seeds ## fuzz the schedule parser and validator for FUZZ_SECONDS (default 60)
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	@echo "fuzzing for $(FUZZ_SECONDS) s; findings go to $(FUZZ_DIR)/artifacts/"
	@$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=8192 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/ \
	  $(FUZZ_DIR)/corpus $(FUZZ_DIR)/seeds 2>$(FUZZ_DIR)/fuzz.log; rc=$$?; \
	  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' \
	    $(FUZZ_DIR)/fuzz.log || true; \
	  if [ $$rc -ne 0 ]; then tail -40 $(FUZZ_DIR)/fuzz.log; \
	    echo "fuzz: a finding, saved in $(FUZZ_DIR)/artifacts/ (log: $(FUZZ_DIR)/fuzz.log)"; exit 1; fi; \
	  echo "fuzz: no crash, leak, hang or broken property in $(FUZZ_SECONDS) s"

# Leak check by hand's worth, automated: a sample of fault injections and a
# watchdog stop under valgrind --leak-check=full (optional; needs valgrind).
VALGRIND_FAULTS := "naive 1 device=0,action=0" "microbatch 4 device=2,action=8" \
                   "gpipe 4 device=3,action=7" "1f1b 4 device=1,action=15" "1f1b 4 device=0,action=0"

.PHONY: valgrind-faults
valgrind-faults: $(CLI) ## run a sample of --inject-fault runs and a watchdog stop under valgrind; fail on any leak
	@for c in $(VALGRIND_FAULTS); do set -- $$c; \
	  valgrind -q --leak-check=full --errors-for-leak-kinds=all --error-exitcode=9 \
	    $(CLI) run --schedule $$1 --microbatches $$2 --inject-fault $$3 >/dev/null 2>$(BUILD)/valgrind.log; \
	  rc=$$?; [ $$rc -eq 1 ] || { cat $(BUILD)/valgrind.log; echo "valgrind-faults: $$c: exit $$rc"; exit 1; }; \
	  echo "  ok  $$1 $$3: no leak, no error"; done
	@valgrind -q --leak-check=full --errors-for-leak-kinds=all --error-exitcode=9 \
	  $(CLI) run --schedule gpipe --inject-fault device=1,action=2,stall --watchdog 0.3 >/dev/null \
	  2>$(BUILD)/valgrind.log; rc=$$?; [ $$rc -eq 1 ] || { cat $(BUILD)/valgrind.log; exit 1; }; \
	  echo "  ok  watchdog stop: no leak, no error"

# Fuzzing the command line's option parser (fuzz/fuzz_args.c): arguments
# separated by NUL bytes. Accepted runs are checked (needs estimated,
# schedule files read), never run.
#
#   make fuzz-args             FUZZ_SECONDS (default 60) of fuzzing
FUZZ_ARGS_BIN := $(FUZZ_DIR)/fuzz_args
FUZZ_ARGS_SRC := fuzz/fuzz_args.c src/cli/args.c src/cli/output.c

.PHONY: fuzz-args fuzz-args-seeds

$(FUZZ_ARGS_BIN): $(FUZZ_ARGS_SRC) $(LIB_SRC) $(wildcard src/*.h src/cli/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Isrc/cli $(FUZZ_ARGS_SRC) $(LIB_SRC) -o $@ -lpthread -lm

# Command lines that reach every option and every command; each one
# argument per NUL-ended piece.
FUZZ_ARGS_SEEDS := "run" "run --schedule gpipe --devices 3 --microbatches 5" \
  "run --cost flops --flops 5e13 --json" "run --clock scaled --scale 1e6" \
  "run --simulate --recompute --device-memory 4096" "run --inject-fault device=1,action=2,stall" \
  "run --watchdog 0.5 --verify --steps 3 --seed 7" "run --batch 1048576 --width 4096 --layers 4096" \
  "run --trace t.json --svg t.svg" "run --ignore-limits --layers 64 --chunks 1" \
  "compare --devices 2 --microbatches 4 --simulate" "show --schedule 1f1b --devices 2" \
  "check --strict x.txt" "sweep --over p --devices 8 --svg s.svg" "list" "run --help"

fuzz-args-seeds: ## write the option parser's fuzzing seeds under build/fuzz/args-seeds
	@rm -rf $(FUZZ_DIR)/args-seeds && mkdir -p $(FUZZ_DIR)/args-seeds
	@n=0; for line in $(FUZZ_ARGS_SEEDS); do n=$$((n + 1)); \
	  printf '%s\0' $$line > $(FUZZ_DIR)/args-seeds/seed-$$n; done; \
	  echo "$$n command lines as seeds"

fuzz-args: $(FUZZ_ARGS_BIN) fuzz-args-seeds ## fuzz the command line's option parser for FUZZ_SECONDS (default 60)
	@mkdir -p $(FUZZ_DIR)/args-corpus $(FUZZ_DIR)/artifacts
	@echo "fuzzing the option parser for $(FUZZ_SECONDS) s; findings go to $(FUZZ_DIR)/artifacts/"
	@$(FUZZ_ARGS_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=1024 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/args- \
	  $(FUZZ_DIR)/args-corpus $(FUZZ_DIR)/args-seeds 2>$(FUZZ_DIR)/fuzz-args.log; rc=$$?; \
	  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' \
	    $(FUZZ_DIR)/fuzz-args.log || true; \
	  if [ $$rc -ne 0 ]; then tail -40 $(FUZZ_DIR)/fuzz-args.log; \
	    echo "fuzz-args: a finding, saved in $(FUZZ_DIR)/artifacts/ (log: $(FUZZ_DIR)/fuzz-args.log)"; exit 1; fi; \
	  echo "fuzz-args: no crash, leak, hang or broken property in $(FUZZ_SECONDS) s"
