# Exercises: grade a learner's file with the chapter's own tests.
#
# Each exercise swaps one reference source for the learner's copy: the
# library is rebuilt under $(BUILD)/exercise-chNN/ from the reference objects
# with that one object replaced, the chapter's suites are linked against it,
# and every test prints PASS or FAIL (exercises/grade.sh). Nothing is ever
# written into exercises/.
#
# Starters are generated, not copied: exercises/NN-slug/FILE.todo names the
# regions of the reference source to cut and what to put in their place, and
# `make starters` writes the result (tools/excerpt.c --starter) into
# exercises/NN-slug/.starter/FILE -- and into the learner's FILE too, unless
# the learner has changed it. So a starter cannot drift from src/.
#
# check-exercises proves the grading honest: every pristine starter equals a
# fresh one generated from src/, and each exercise's tests pass on the
# reference and fail (fail, not fail to compile) on the starter.

# One line per exercise: chapter | folder | reference source | learner file | suites
EX_01 := 01-naive-staging  src/device_action.c     device_action.c test_ch01 test_runtime
EX_02 := 02-micro-batching src/reference.c         reference.c test_ch02 test_reference
EX_03 := 03-gpipe          src/schedules/gpipe.c   gpipe.c     test_ch03 test_generators
EX_04 := 04-1f1b           src/schedules/1f1b.c    1f1b.c      test_ch04 test_generators
# Chapter 04 also grades a hand-written schedule, against this suite.
EX_04_SCHEDULE_TESTS := test_ch04_handwritten

EXERCISES := 01 02 03 04
GRADE = env CC='$(CC)' CFLAGS='$(CFLAGS)' LDLIBS='$(LDLIBS)' TEST_LIBS='$(TEST_LIBS)' \
        LIB_OBJ='$(LIB_OBJ)' sh exercises/grade.sh
ex_dir   = exercises/$(word 1,$(EX_$(1)))
ex_ref   = $(word 2,$(EX_$(1)))
ex_file  = $(word 3,$(EX_$(1)))
ex_tests = $(wordlist 4,99,$(EX_$(1)))

.PHONY: check-exercises starters $(addprefix exercise-ch,$(EXERCISES))

# The starter of exercise $(1), generated into file $(2).
make_starter = $(EXCERPT) --starter $(call ex_ref,$(1)) $(call ex_dir,$(1))/$(call ex_file,$(1)).todo > $(2)

starters: $(EXCERPT) ## regenerate every exercise's starter from src/ (never overwrites your work)
	@set -e; for n in $(EXERCISES); do \
	  case $$n in 01) e="$(EX_01)";; 02) e="$(EX_02)";; 03) e="$(EX_03)";; 04) e="$(EX_04)";; esac; \
	  set -- $$e; dir=exercises/$$1 ref=$$2 file=$$3; \
	  mkdir -p $$dir/.starter; \
	  $(EXCERPT) --starter $$ref $$dir/$$file.todo > $(BUILD)/starter.tmp; \
	  if [ ! -f $$dir/$$file ] || cmp -s $$dir/$$file $$dir/.starter/$$file; then \
	    cp $(BUILD)/starter.tmp $$dir/$$file; \
	  elif ! cmp -s $(BUILD)/starter.tmp $$dir/.starter/$$file; then \
	    echo "  note  $$dir/$$file is your work: left alone (the new starter is $$dir/.starter/$$file)"; \
	  fi; \
	  mv $(BUILD)/starter.tmp $$dir/.starter/$$file; \
	  echo "  starter $$dir/$$file"; \
	done

# exercise-chNN: the learner's file in place of the reference; chapter 04
# also grades the hand-written schedule. Every part runs even if one fails.
ex_schedule = $(if $(filter 04,$(1)),; $(GRADE) $(BUILD)/exercise-ch04-schedule \
  "ch04 exercises/04-1f1b/schedule.txt" - "$(EX_04_SCHEDULE_TESTS)" \
  exercises/04-1f1b/schedule.txt || rc=1)
define exercise_rule
exercise-ch$(1): deps-test $(LIB_OBJ) $(CLI)
	@rc=0; $(GRADE) $(BUILD)/exercise-ch$(1) "ch$(1) $(call ex_dir,$(1))/$(call ex_file,$(1))" \
	  $(call ex_ref,$(1))=$(call ex_dir,$(1))/$(call ex_file,$(1)) "$(call ex_tests,$(1))" \
	  || rc=1 $(call ex_schedule,$(1)); exit $$$$rc
endef
$(foreach n,$(EXERCISES),$(eval $(call exercise_rule,$(n))))

exercise-ch01: ## grade exercises/01-naive-staging/device_action.c (one action on a device)
exercise-ch02: ## grade exercises/02-micro-batching/reference.c (micro-batches, accumulated gradients)
exercise-ch03: ## grade exercises/03-gpipe/gpipe.c (the GPipe generator)
exercise-ch04: ## grade exercises/04-1f1b/1f1b.c and schedule.txt (1F1B generator, a schedule by hand)

# expect WHAT STATUS LOG: a grading run's status must be STATUS (0 pass, 1 fail).
EX_EXPECT = sh -c 'want=$$1 log=$$2; shift 2; "$$@" >"$$log" 2>&1; rc=$$?; \
  if [ $$rc -eq $$want ]; then echo "  ok    $$(tail -1 "$$log")"; \
  else echo "  WRONG exit $$rc (want $$want): see $$log"; tail -15 "$$log"; exit 1; fi' expect

check-exercises: deps-test $(LIB_OBJ) $(CLI) $(EXCERPT) ## prove starters are fresh, and each exercise's tests pass on the reference and fail on the starter
	@set -e; out=$(BUILD)/exercise-check; mkdir -p $$out; \
	for n in $(EXERCISES); do \
	  case $$n in 01) e="$(EX_01)";; 02) e="$(EX_02)";; 03) e="$(EX_03)";; 04) e="$(EX_04)";; esac; \
	  set -- $$e; dir=exercises/$$1 ref=$$2 file=$$3; shift 3; \
	  echo "ch$$n $$dir/$$file"; \
	  $(EXCERPT) --starter $$ref $$dir/$$file.todo > $$out/ch$$n-fresh-starter; \
	  cmp -s $$out/ch$$n-fresh-starter $$dir/.starter/$$file || \
	    { echo "  STALE $$dir/.starter/$$file differs from a starter generated from $$ref (run make starters)"; exit 1; }; \
	  cmp -s $$dir/$$file $$dir/.starter/$$file || \
	    echo "  note  $$dir/$$file differs from the starter (your work; the pristine .starter/ copy is checked)"; \
	  $(EX_EXPECT) 0 $$out/ch$$n-reference.log $(GRADE) $$out/ch$$n-reference "reference $$ref" - "$$*"; \
	  $(EX_EXPECT) 1 $$out/ch$$n-starter.log $(GRADE) $$out/ch$$n-starter "starter $$dir/.starter/$$file" \
	    $$ref=$$dir/.starter/$$file "$$*"; \
	done; \
	echo "ch04 exercises/04-1f1b/schedule.txt"; \
	$(CLI) show --schedule 1f1b --devices 3 --microbatches 4 >$$out/ch04-reference-schedule.txt; \
	$(EX_EXPECT) 0 $$out/ch04s-reference.log $(GRADE) $$out/ch04s-reference \
	  "reference: pipelab show --schedule 1f1b --devices 3 --microbatches 4" - \
	  "$(EX_04_SCHEDULE_TESTS)" $$out/ch04-reference-schedule.txt; \
	$(EX_EXPECT) 1 $$out/ch04s-starter.log $(GRADE) $$out/ch04s-starter \
	  "starter exercises/04-1f1b/.starter/schedule.txt" - \
	  "$(EX_04_SCHEDULE_TESTS)" exercises/04-1f1b/.starter/schedule.txt; \
	echo "exercises: every test suite passes on the reference and fails on the starter"
