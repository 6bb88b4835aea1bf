# Pictures and the literate site (DESIGN 3.3, 4).
#
# make figures  regenerates every figure the chapters show into docs/figures/.
#               Each is one pipelab command on the virtual clock, so the same
#               inputs give byte-identical files; the figures are committed.
# make check-figures regenerates them elsewhere and fails if any committed
#               figure differs (a stale figure, or a picture that is no longer
#               deterministic).
# make docs     builds the Doxygen site, docs/html/index.html: README as the
#               main page, the course map (docs/course.md), the chapters in
#               order with their figures -- each ending in links to the
#               chapters around it -- the exercises, the design, every
#               header, the include graphs. Any warning fails the build; and
#               so does a chapter page without its links, or a section
#               heading set larger than its page's title (docs/pipelab.css).

FIGURES_DIR := docs/figures

# One line per figure: file name (without .svg) = the pipelab command that
# draws it, on the virtual clock (the default).
FIG_ch00-reference  := run --schedule microbatch --devices 1 --microbatches 4 --steps 1
FIG_ch01-naive      := run --schedule naive --devices 4 --steps 1
FIG_ch02-microbatch := run --schedule microbatch --devices 4 --microbatches 4 --steps 1
FIG_ch03-gpipe      := run --schedule gpipe --devices 4 --microbatches 8 --steps 1
FIG_ch03-recompute  := run --schedule gpipe --devices 4 --microbatches 8 --steps 1 --recompute
FIG_ch04-1f1b       := run --schedule 1f1b --devices 4 --microbatches 8 --steps 1
FIG_ch05-interleaved := run --schedule interleaved --devices 4 --microbatches 8 --chunks 2 --steps 1
FIG_ch05-short-group := run --schedule interleaved --devices 4 --microbatches 6 --batch 24 --chunks 2 --steps 1
FIG_ch05-sweep-v    := sweep --over v --devices 4 --microbatches 8 --chunks 8
FIG_ch06-zb-h1      := run --schedule zb-h1 --devices 4 --microbatches 8 --steps 1
FIG_ch06-zb-h2      := run --schedule zb-h2 --devices 4 --microbatches 8 --steps 1
FIG_ch06-barrier    := run --schedule zb-h2 --devices 4 --microbatches 8 --steps 3 --show-steps all
FIG_ch06-no-barrier := run --schedule zb-h2 --devices 4 --microbatches 8 --steps 3 --show-steps all --step-sync local
FIG_ch06-rollback   := run --schedule zb-h2 --devices 4 --microbatches 8 --steps 3 --show-steps all --step-sync local --clip-grad-norm 0.72 --post-validation
FIG_compare         := compare --devices 4 --microbatches 8 --steps 1
FIG_sweep-m         := sweep --devices 4
FIG_ch07-lm-even     := run --schedule 1f1b --model lm-like --steps 1
FIG_ch07-lm-balanced := run --schedule 1f1b --model lm-like --partition balanced --steps 1
FIG_ch07-links-gpipe := run --schedule gpipe --link-latency 1 --steps 1
FIG_ch07-links-1f1b  := run --schedule 1f1b --link-latency 1 --steps 1
FIG_ch07-links-warmup := run --schedule 1f1b --link-latency 1 --warmup-extra auto --steps 1
FIG_ch08-zb-v       := run --schedule zb-v --devices 4 --microbatches 8 --steps 1
FIG_ch08-dualpipe-v := run --schedule dualpipe-v --devices 4 --microbatches 8 --steps 1
FIGURE_NAMES := $(patsubst FIG_%,%,$(filter FIG_%,$(.VARIABLES)))

# Draw every figure into directory $(1).
draw_figures = @mkdir -p $(1) && set -e && $(foreach f,$(sort $(FIGURE_NAMES)),\
  echo "  pipelab $(FIG_$(f)) --svg $(1)/$(f).svg" && \
  $(CLI) $(FIG_$(f)) --svg $(1)/$(f).svg > /dev/null 2>$(BUILD)/figure.log || \
  { cat $(BUILD)/figure.log; exit 1; } &&) true

.PHONY: figures check-figures docs

figures: $(CLI) ## regenerate every chapter figure into docs/figures/ (deterministic)
	$(call draw_figures,$(FIGURES_DIR))

check-figures: $(CLI) ## fail if a committed figure in docs/figures/ differs from a fresh one
	@rm -rf $(BUILD)/figures
	$(call draw_figures,$(BUILD)/figures)
	@for f in $(BUILD)/figures/*.svg; do \
	  cmp -s $$f $(FIGURES_DIR)/$$(basename $$f) || \
	  { echo "check-figures: $(FIGURES_DIR)/$$(basename $$f) is stale (run make figures)"; exit 1; }; \
	done; echo "figures: every committed figure matches a fresh one"

DOC_PAGES = README.md docs/course.md $(sort $(CHAPTER_PAGES)) exercises/README.md \
            $(sort $(wildcard exercises/*/README.md)) docs/design.md docs/modules.md

docs: ## build the Doxygen site into docs/html/ (README, chapters, headers, graphs; warnings fail)
	@sh scripts/deps.sh docs
	@mkdir -p $(BUILD)/docs && rm -rf docs/html
	@sh scripts/module-graph.sh | tred 2>/dev/null > $(BUILD)/docs/modules.dot
	@( cat docs/Doxyfile; \
	   echo "INPUT = $(DOC_PAGES) src src/cli src/schedules src/web"; \
	   echo "DOTFILE_DIRS = $(BUILD)/docs"; \
	   echo "HTML_EXTRA_FILES = $(wildcard $(FIGURES_DIR)/*.svg $(FIGURES_DIR)/*.png)"; \
	   echo "HTML_EXTRA_STYLESHEET = docs/pipelab.css" ) \
	  | doxygen - > $(BUILD)/docs/doxygen.log 2>&1 \
	  || { cat $(BUILD)/docs/doxygen.log; echo "docs: failed (warnings are errors)"; exit 1; }
	@# Chapters link figures as ../../docs/figures/X.svg (right on GitHub);
	@# the site carries its own copies, next to the pages.
	@sed -i 's|src="\(\.\./\)*docs/figures/|src="|g' docs/html/*.html
	@# The schedule playground goes along (its WebAssembly once `make playground` built it).
	@sed -i 's|href="\(\.\./\)*docs/playground/|href="playground/|g' docs/html/*.html
	@$(site_playground)
	@for f in $$(sed -n 's/.*<img src="\([^":]*\)".*/\1/p' docs/html/md_*.html | sort -u); do \
	  [ -f docs/html/$$f ] || { echo "docs: docs/html/$$f is missing (a figure not in $(FIGURES_DIR)?)"; exit 1; }; \
	done
	@sh scripts/chapter-nav.sh --check
	@for f in docs/html/md_chapters_*.html; do \
	  grep -q '<hr' $$f && grep -q 'href="course.html' $$f || \
	  { echo "docs: $$f has no links to the chapters around it"; exit 1; }; \
	done
	@echo "docs: open docs/html/index.html"

# The picture and chapter tests run the tools the Makefile builds.
$(BUILD)/tests/test_pictures: private CFLAGS += -DPL_CLI='"$(CLI)"'
$(BUILD)/tests/test_excerpt: private CFLAGS += -DPL_EXCERPT='"$(EXCERPT)"'
$(BUILD)/tests/test_outputs: private CFLAGS += -DPL_OUTPUTS='"$(OUTPUTS)"'
$(BUILD)/tests/test_outputs: $(OUTPUTS) $(CLI)
