# Exercises: rebuild a chapter's piece and have it graded by measurement.
#
# exercises/exercises.txt lists them, one a line; exercises/exercise.sh does
# the work (see both). make exercise-chNN builds the library under
# $(BUILD)/exercise-chNN/ with your code in place of the reference's -- a
# whole file, or one region of a file -- links $(BUILD)/exercise-chNN/pipelab
# with it (pipelab running your code), and runs the exercise's grader
# (tests/exercises/chNN.c): named checks, in order, that measure what your
# code does and, when it is wrong, say what was expected, what was measured
# and which mistake that points to. Nothing is ever written into exercises/.
#
# Starters are generated, not copied: exercises/NN-slug/FILE.todo names the
# regions of the reference source to cut and what to put in their place, and
# `make starters` writes the result (tools/excerpt.c --starter) into
# exercises/NN-slug/.starter/FILE -- and into your FILE too, unless you have
# changed it. So a starter cannot drift from src/.
#
# check-exercises proves the grading honest: every pristine starter equals a
# fresh one generated from src/; each grader passes the reference and fails
# the starter (a failed check, not a build error); and each typical mistake
# kept under tests/exercises/mistakes/ is named on the first line of the
# grader's report.

EX_TABLE  := exercises/exercises.txt
EXERCISES := $(shell awk '!/^\#/ && NF { print $$1 }' $(EX_TABLE))
EX_GRADERS := $(wildcard tests/exercises/*.c tests/exercises/*.h)
EX_RUN = env CC='$(CC)' CFLAGS='$(CFLAGS)' LDLIBS='$(LDLIBS)' LIB_OBJ='$(LIB_OBJ)' \
         CLI_OBJ='$(CLI_SRC:%.c=$(BUILD)/obj/%.o)' MPICC=mpicc MPI_OBJ='$(MPI_OBJ)' \
         MPI_CLI_OBJ='$(MPI_CLI_OBJ)' MPIRUN='$(MPIRUN)' \
         EXCERPT='$(EXCERPT)' CLI='$(CLI)' BUILD='$(BUILD)' sh exercises/exercise.sh

.PHONY: check-exercises starters $(addprefix exercise-ch,$(EXERCISES))

starters: $(EXCERPT) ## regenerate every exercise's starter from src/ (never overwrites your work)
	@$(EX_RUN) starters

$(addprefix exercise-ch,$(EXERCISES)): exercise-ch%: $(LIB_OBJ) $(CLI) $(EXCERPT)
	@$(EX_RUN) grade $*

# Exercise 09 grades pipelab-mpi with the learner's file in it.
exercise-ch09 check-exercises: mpi

check-exercises: $(LIB_OBJ) $(CLI) $(EXCERPT) ## prove every starter fresh, every grader passing the reference, failing the starter, naming each typical mistake
	@$(EX_RUN) check
exercise-ch%:
	@echo "there is no exercise $* (exercises: $(EXERCISES))"; exit 2
