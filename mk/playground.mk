# The schedule playground (issue 16): the library compiled to WebAssembly
# with Emscripten, and a static page around it, docs/playground/.
#
# make deps-web         installs Emscripten, node-acorn, Node.js and Chromium
#                       (Debian packages) if missing
# make playground       builds docs/playground/pipelab-web.js: every library
#                       source, the command's argument parser and its checks
#                       of a run, and src/web/ (the calls the page makes),
#                       the wasm inside the .js so the page works from the
#                       file system as well as served
#                       (python3 -m http.server -d docs/playground)
# make test-playground  drives headless Chromium through the page: its figures
#                       against `pipelab run --simulate --json`, exactly, for a
#                       table of configurations; errors named at their line;
#                       no console error; the redraw time of a large timeline
# make playground-screenshot  the page as the README shows it,
#                       docs/figures/playground.png
#
# The built .js is not committed: `make playground` makes it from the sources
# (and `make docs` copies the page into the site, where the course links it).
# None of this is part of `make test`, which needs neither Emscripten nor a
# browser; test_web checks src/web/ natively there.

EMCC        ?= emcc
WEB_BUILD   := $(BUILD)/web
# The library, what `pipelab run` checks a command with, and src/web/.
WEB_CLI_SRC := src/cli/args.c src/cli/run.c src/cli/output.c src/cli/summary.c
WEB_SRC     := $(LIB_SRC) $(WEB_CLI_SRC) $(wildcard src/web/*.c)
WEB_OBJ     := $(WEB_SRC:%.c=$(WEB_BUILD)/obj/%.o)
WEB_CFLAGS  := $(CSTD) $(WARN) -O2 -ffp-contract=off -Isrc -Isrc/cli
PLAYGROUND  := docs/playground
WEB_JS      := $(PLAYGROUND)/pipelab-web.js
WEB_EXPORTS := "_pl_web_run","_pl_web_registry","_pl_web_shape","_pl_web_free","_malloc","_free"
WEB_RUNTIME := "ccall","UTF8ToString","stringToUTF8","lengthBytesUTF8"
WEB_LDFLAGS := -O2 -sMODULARIZE=1 -sEXPORT_NAME=createPipelab -sSINGLE_FILE=1 \
               -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=web \
               '-sEXPORTED_FUNCTIONS=[$(WEB_EXPORTS)]' '-sEXPORTED_RUNTIME_METHODS=[$(WEB_RUNTIME)]'
# Emscripten's JS optimizer needs acorn; Debian's node finds it in its own
# module folder, a node from elsewhere only through NODE_PATH.
NODE_MODULES := $(patsubst %/acorn/,%,$(dir $(firstword $(wildcard \
                  /usr/share/nodejs/acorn/package.json /usr/lib/nodejs/acorn/package.json))))
EMENV       := NODE_PATH=$(NODE_MODULES)
CHROMIUM    ?= chromium

.PHONY: deps-web playground test-playground playground-screenshot clean-playground

# The page in the Doxygen site, beside the chapters that link to it (`make
# docs` and `make playground` both put it there); its link to the course
# then points next door.
site_playground = rm -rf docs/html/playground && cp -r $(PLAYGROUND) docs/html/playground && \
  sed -i 's|href="../html/index.html"|href="../index.html"|' docs/html/playground/index.html

deps-web: ## install what the playground needs (Emscripten, node-acorn, Node.js, Chromium) if missing
	@sh scripts/deps.sh web

$(WEB_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,EMCC,$<)
	$(Q)$(EMENV) $(EMCC) $(WEB_CFLAGS) -MMD -MP -c $< -o $@

$(WEB_JS): $(WEB_OBJ)
	$(call say,EMLINK,$@)
	$(Q)$(EMENV) $(EMCC) $(WEB_OBJ) -o $(WEB_BUILD)/pipelab-web.js $(WEB_LDFLAGS)
	$(Q)cp $(WEB_BUILD)/pipelab-web.js $@

playground: deps-web ## build the schedule playground, docs/playground/ (open index.html, or serve the folder)
	@$(MAKE) --no-print-directory $(WEB_JS)
	@if [ -d docs/html ]; then $(site_playground); fi
	@echo "playground: open $(PLAYGROUND)/index.html, or python3 -m http.server -d $(PLAYGROUND)"

test-playground: playground $(CLI) ## drive headless Chromium through the playground: figures equal pipelab's, errors at their line
	@node tests/playground/test.mjs --page $(PLAYGROUND) --pipelab $(CLI) --chromium $(CHROMIUM) \
	  --work $(WEB_BUILD)/test

playground-screenshot: playground $(CLI) ## photograph the playground for the README (docs/figures/playground.png)
	@node tests/playground/test.mjs --page $(PLAYGROUND) --pipelab $(CLI) --chromium $(CHROMIUM) \
	  --work $(WEB_BUILD)/test --screenshot docs/figures/playground.png

clean: clean-playground
clean-playground: ## remove the built playground (docs/playground/pipelab-web.js)
	rm -f $(WEB_JS)

# test_web runs src/web/ natively, with the argument parser it reads commands with.
WEB_NATIVE_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(WEB_CLI_SRC) $(wildcard src/web/*.c))
$(BUILD)/tests/test_web: tests/test_web.c $(TEST_HEADERS) $(WEB_NATIVE_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(WEB_NATIVE_OBJ) $(LIB) -o $@ $(TEST_LIBS) $(LDLIBS)

-include $(shell find $(WEB_BUILD)/obj -name '*.d' 2>/dev/null)
