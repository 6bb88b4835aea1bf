# Chapter 09: the same schedules with every device an MPI process.
#
# make mpi      builds build/pipelab-mpi with mpicc (Open MPI; installed with
#               apt-get when missing). The library and pipelab never need MPI:
#               every *_mpi.c file builds here and only here.
# MPIRUN        how the targets and tests start it: as root, with more
#               processes than cores (--oversubscribe), without Open MPI's
#               banners (-q), over shared memory (btl self,vader), with the
#               single-copy mechanism off, which containers often forbid, and
#               without the second mpirun waits before it kills what is left of
#               a failed run (odls_base_sigkill_timeout 0).

MPICC       := OMPI_CC='$(CC)' mpicc
MPIRUN_FLAGS := --allow-run-as-root --oversubscribe -q --mca btl self,vader \
                --mca btl_vader_single_copy_mechanism none --mca odls_base_sigkill_timeout 0
MPIRUN      := mpirun $(MPIRUN_FLAGS)
# The pasted-output check runs `make ch09` with an absolute BUILD; naming the
# MPI targets relative to the project keeps them the very targets (and
# dependency files) that test-only built, so nothing is rebuilt there.
MPI_BUILD   := $(patsubst $(CURDIR)/%,%,$(BUILD))
MPI_CLI     := $(MPI_BUILD)/pipelab-mpi
MPI_SRC     := $(wildcard src/*_mpi.c) $(wildcard src/cli/*_mpi.c)
MPI_OBJ     := $(MPI_SRC:%.c=$(MPI_BUILD)/obj/%.o)
# pipelab's own objects but its main, and the library.
MPI_CLI_OBJ := $(filter-out $(MPI_BUILD)/obj/src/cli/pipelab.o,$(CLI_SRC:%.c=$(MPI_BUILD)/obj/%.o)) \
               $(MPI_BUILD)/libpipelab.a
HAVE_MPI    := $(shell command -v mpicc >/dev/null 2>&1 && echo yes)

.PHONY: mpi deps-mpi bench-mpi

deps-mpi: ## install Open MPI (libopenmpi-dev, openmpi-bin) if missing
	@sh scripts/deps.sh mpi

mpi: deps-mpi ## build build/pipelab-mpi: pipelab run with every device an MPI process (chapter 09)
	@$(MAKE) --no-print-directory $(MPI_CLI)

$(MPI_OBJ): $(MPI_BUILD)/obj/%.o: %.c | deps-mpi
	@mkdir -p $(dir $@)
	$(call say,MPICC,$<)
	$(Q)$(MPICC) $(CFLAGS) -MMD -MP -c $< -o $@

$(MPI_CLI): $(MPI_OBJ) $(MPI_CLI_OBJ)
	$(call say,LINK,$@)
	$(Q)$(MPICC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# The chapter's test and lesson start mpirun themselves, with these.
MPI_DEFS = -DPL_MPIRUN='"$(MPIRUN)"' -DPL_MPI_CLI='"$(MPI_CLI)"' -DPL_CLI='"$(CLI)"'
$(BUILD)/tests/test_ch09: private CFLAGS += $(MPI_DEFS)
$(BUILD)/lessons/09-beyond-one-machine: private CFLAGS += $(MPI_DEFS)
# Chapter 09's test and lesson need the program; make test installs Open
# MPI first (deps-test), and test-only builds it whenever mpicc is there
# (and the pasted-output checks, which run make ch09: it must find it built).
test-ch09 ch09: $(MPI_CLI)
ifeq ($(HAVE_MPI),yes)
test-only check-outputs outputs: $(MPI_CLI)
endif

bench-mpi: $(BUILD)/bench/bench $(MPI_CLI) ## real-clock speedup of 2 MPI processes over 1, paired runs (make bench runs it)
	@$(BUILD)/bench/bench --mpi
$(BUILD)/bench/bench: private CFLAGS += $(MPI_DEFS)
