#!/bin/sh
# Install what the tests and the docs need, only if it is missing.
# Debian/Ubuntu: apt-get; elsewhere, say what to install.
set -e
missing=""
[ -f /usr/include/criterion/criterion.h ] || missing="$missing libcriterion-dev"
command -v doxygen >/dev/null 2>&1 || missing="$missing doxygen"
command -v dot >/dev/null 2>&1 || missing="$missing graphviz"
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
else
    echo "deps: no apt-get here; install:$missing" >&2
    exit 1
fi
