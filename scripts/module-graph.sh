#!/bin/sh
# Print the module dependency graph of src/ as Graphviz dot: one node per
# module (a .h/.c pair), an edge A -> B when A's header or source includes
# B's header. Generated from the #include lines, so it cannot drift.
echo 'digraph modules {'
echo '  rankdir=BT; node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica", fontsize=11];'
echo '  edge [color="#667788", arrowsize=0.7];'
for f in src/*.[ch] src/schedules/*.c src/cli/*.[ch] src/web/*.[ch]; do
    [ -f "$f" ] || continue
    case "$f" in
        src/schedules/*) from=schedules ;;
        src/cli/*) from=pipelab ;;
        src/web/*) from=web ;;
        *) from=$(basename "$f"); from=${from%.*} ;;
    esac
    sed -n 's/^#include "\([a-z_]*\)\.h".*/\1/p' "$f" | while read -r to; do
        [ -f "src/cli/$to.h" ] && to=pipelab
        [ -f "src/web/$to.h" ] && to=web
        [ "$from" = "$to" ] || echo "  \"$from\" -> \"$to\";"
    done
done | sort -u
echo '}'
