# The kernels against the machine: pipelab's matmuls beside OpenBLAS, and a
# training step beside PyTorch (chapter 00; issue 14). Wall-clock figures,
# printed as min / median / max of paired runs, never asserted, and not part
# of `make test`.
#
#   make bench-kernels   GFLOP/s of forward, input-grad and weight-grad at
#                        n = 256, in = out = 512, one thread, beside OpenBLAS
#                        sgemm on the same shapes (installs libopenblas-dev)
#   make bench-torch     one training step of 8 x Linear(512) at batch 256,
#                        pipelab vs PyTorch, one thread each (installs
#                        python3-torch for /usr/bin/python3)
#
# PL_ISA=avx2 (or scalar) times another kernel path; see src/isa.h.

TORCH_PYTHON ?= /usr/bin/python3

.PHONY: bench-kernels bench-torch

bench-kernels: ## kernel GFLOP/s beside one-thread OpenBLAS sgemm, paired runs (installs libopenblas-dev)
	@sh scripts/bench-deps.sh openblas
	@$(MAKE) --no-print-directory $(BUILD)/bench/kernels
	@$(BUILD)/bench/kernels

bench-torch: ## one training step, 8 x Linear(512), batch 256: pipelab vs PyTorch, paired runs (installs python3-torch)
	@TORCH_PYTHON=$(TORCH_PYTHON) sh scripts/bench-deps.sh torch
	@$(MAKE) --no-print-directory $(BUILD)/bench/step
	@$(TORCH_PYTHON) bench/torch_step.py --pipelab $(BUILD)/bench/step

# pkg-config runs when the rule does, after bench-deps.sh installed OpenBLAS.
$(BUILD)/bench/kernels: bench/kernels.c $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $$(pkg-config --cflags openblas) $< $(LIB) -o $@ \
	  $$(pkg-config --libs openblas) $(LDLIBS)

$(BUILD)/bench/step: bench/step.c $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB) -o $@ $(LDLIBS)
