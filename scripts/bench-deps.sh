#!/bin/sh
# Install what a comparison benchmark needs, only if it is missing.
#   sh scripts/bench-deps.sh openblas   libopenblas-dev and pkg-config (make bench-kernels)
#   sh scripts/bench-deps.sh torch      python3-torch for /usr/bin/python3 (make bench-torch)
# Debian/Ubuntu: apt-get (as root, or with sudo); elsewhere, say what to install.
set -e
python=${TORCH_PYTHON:-/usr/bin/python3}
missing=""
case "$1" in
openblas)
    command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
    pkg-config --exists openblas 2>/dev/null || missing="$missing libopenblas-dev" ;;
torch)
    "$python" -c 'import torch' >/dev/null 2>&1 || missing="$missing python3-torch" ;;
*)
    echo "usage: bench-deps.sh openblas|torch" >&2
    exit 2 ;;
esac
[ -z "$missing" ] && exit 0
echo "bench-deps: installing$missing"
if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
else
    echo "bench-deps: no apt-get here; install:$missing" >&2
    exit 1
fi
