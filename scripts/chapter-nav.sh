#!/bin/sh
# chapter-nav.sh -- the line at the end of every chapter that links the
# chapter before it, the course map, the chapter's exercise and the chapter
# after it: on GitHub as on the site (Doxygen resolves the links to pages).
#
#   sh scripts/chapter-nav.sh --check    exit 1 if a chapter's line is missing or stale
#   sh scripts/chapter-nav.sh --update   write every chapter's line
#
# The line is the chapter's last, after a rule ("---"); it is rebuilt from
# the chapters' folders and titles (each README's first line, "# NN · Title"),
# so a new chapter only needs `make chapters`.
set -u
mode=${1:-}
set -- $(ls -d chapters/[0-9][0-9]-*/ | sed 's|/$||')
n=$#
title() { sed -n '1s/^# *//p' "$1/README.md"; }
i=0 bad=0
for dir in "$@"; do
    i=$((i + 1))
    name=$(basename "$dir")
    prev= next=
    [ $i -gt 1 ] && prev=$(eval "echo \${$((i - 1))}")
    [ $i -lt $n ] && next=$(eval "echo \${$((i + 1))}")
    line=""
    if [ -n "$prev" ]; then
        line="[← $(title "$prev")](../$(basename "$prev")/README.md) · "
    else
        line="[← pipelab](../../README.md) · "
    fi
    line="$line[the course](../../docs/course.md)"
    [ -f "exercises/$name/README.md" ] && line="$line · [exercise ${name%%-*}](../../exercises/$name/README.md)"
    [ -n "$next" ] && line="$line · [$(title "$next") →](../$(basename "$next")/README.md)"
    file=$dir/README.md
    # the chapter without its old navigation (a final rule and line)
    body=$(awk 'BEGIN { n = 0 } { l[++n] = $0 } END {
        end = n
        if (end >= 3 && l[end] ~ /^\[← / && l[end - 1] == "" && l[end - 2] == "---") end -= 3
        while (end > 0 && l[end] == "") end--
        for (k = 1; k <= end; k++) print l[k] }' "$file")
    want=$(printf '%s\n\n---\n\n%s\n' "$body" "$line")
    if [ "$(cat "$file")" != "$want" ]; then
        if [ "$mode" = --update ]; then
            printf '%s\n' "$want" >"$file"
            echo "  nav   $file"
        else
            echo "$file: its last line should link the chapters around it (run make chapters):"
            echo "  $line"
            bad=1
        fi
    fi
done
exit $bad
