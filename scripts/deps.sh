#!/bin/sh
# Install what a group of targets needs, only if it is missing.
#   sh scripts/deps.sh test     Criterion (make test)
#   sh scripts/deps.sh docs     Doxygen and Graphviz (make docs)
#   sh scripts/deps.sh mpi      Open MPI (make mpi, and chapter 09 in make test)
#   sh scripts/deps.sh web      Emscripten, the acorn its optimizer runs, Node.js
#                               and Chromium (make playground, make test-playground)
# Debian/Ubuntu: apt-get; elsewhere, say what to install.
set -e
missing=""
lean="" # Chromium alone recommends a desktop's worth: the web group takes only what it needs
for group in "$@"; do
    case $group in
    test)
        [ -f /usr/include/criterion/criterion.h ] || missing="$missing libcriterion-dev" ;;
    docs)
        command -v doxygen >/dev/null 2>&1 || missing="$missing doxygen"
        command -v dot >/dev/null 2>&1 || missing="$missing graphviz" ;;
    mpi)
        command -v mpicc >/dev/null 2>&1 || missing="$missing libopenmpi-dev"
        command -v mpirun >/dev/null 2>&1 || missing="$missing openmpi-bin" ;;
    web)
        command -v emcc >/dev/null 2>&1 || missing="$missing emscripten"
        [ -f /usr/share/nodejs/acorn/package.json ] || missing="$missing node-acorn"
        command -v node >/dev/null 2>&1 || missing="$missing nodejs"
        command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
        lean="--no-install-recommends" ;;
    *)
        echo "deps: unknown group '$group' (test, docs, mpi, web)" >&2; exit 2 ;;
    esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $lean $missing
else
    echo "deps: no apt-get here; install:$missing" >&2
    exit 1
fi
