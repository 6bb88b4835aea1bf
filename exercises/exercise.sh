#!/bin/sh
# exercise.sh -- the exercises' make targets (mk/exercises.mk calls it).
#
#   sh exercises/exercise.sh grade NN     grade your work on exercise NN
#   sh exercises/exercise.sh starters     regenerate every starter from src/
#   sh exercises/exercise.sh check        prove the grading honest (CI)
#   sh exercises/exercise.sh help         one line per exercise, for make help
#
# exercises/exercises.txt lists the exercises, one a line:
#
#   NN FOLDER GRADER PART... | what it asks
#
# PART is FILE=SRC (your FILE in place of the source file SRC), FILE=SRC:REGION
# (your FILE in place of region REGION of SRC: a fragment), or FILE (a data
# file the grader reads); FILE is relative to exercises/FOLDER. Each source
# part's starter is generated from SRC by FILE.todo (tools/excerpt.c
# --starter): so a starter cannot drift from src/. A data part's starter is
# kept in .starter/ as it is, and its reference is named by the line
# "# reference chNN FILE: WHAT" of the table: a file, or what `pipelab WHAT`
# prints.
#
# `check` proves, for every exercise: the committed starters equal fresh
# ones; the grader passes the reference and fails the untouched starter (a
# failed check, not a build error); and every typical mistake under
# tests/exercises/mistakes/ (chNN-NAME.todo for a source part, chNN-NAME.txt
# for a data part) is named on the first line of the grader's report -- the
# file's "expect:" lines say what that line must contain.
#
# From make: CC, CFLAGS, LDLIBS, LIB_OBJ, EXCERPT, CLI, BUILD.
set -u
table=exercises/exercises.txt
cmd=$1
shift

# The line of exercise $1, without its description.
line() { awk -v n="$1" '$1 == n { sub(/ *\|.*/, ""); print; exit }' "$table"; }
numbers() { awk '!/^#/ && NF { print $1 }' "$table"; }

grade() {
    GRADE_DIR=$1 GRADE_LABEL=$2 GRADE_GRADER=$3
    shift 3
    sh exercises/grade.sh "$GRADE_DIR" "$GRADE_LABEL" "$GRADE_GRADER" "$@"
}

# The parts of exercise line "$@" (after NN FOLDER GRADER), with paths made
# relative to the project, for the learner's own files.
learner_parts() {
    folder=$1
    shift 2
    for part in "$@"; do
        case $part in
        *=*) echo "exercises/$folder/${part%%=*}=${part#*=}" ;;
        *) echo "exercises/$folder/$part" ;;
        esac
    done
}

case $cmd in
help)
    awk -F'|' '!/^#/ && NF > 1 { split($1, f, " ");
        printf "  exercise-ch%-7s %s\n", f[1], "grade exercises/" f[2] "/:" $2 }' "$table"
    ;;

grade)
    set -- $(line "$1")
    [ $# -ge 4 ] || { echo "exercise $1: no such exercise (see exercises/README.md)"; exit 2; }
    n=$1 folder=$2 grader=$3
    shift 3
    files=$(for part in "$@"; do printf ' exercises/%s/%s' "$folder" "${part%%=*}"; done)
    grade "$BUILD/exercise-ch$n" "ch$n$files" "$grader" $(learner_parts "$folder" x "$@")
    ;;

starters)
    for n in $(numbers); do
        set -- $(line "$n")
        folder=$2
        shift 3
        dir=exercises/$folder
        mkdir -p "$dir/.starter"
        for part in "$@"; do
            case $part in
            *=*) ;;
            *) # a data part: its starter is kept as it is
                [ -f "$dir/$part" ] || cp "$dir/.starter/$part" "$dir/$part"
                continue ;;
            esac
            file=${part%%=*} target=${part#*=}
            src=${target%%:*} region=
            [ "$src" != "$target" ] && region=${target#*:}
            "$EXCERPT" --starter "$src" "$dir/$file.todo" $region >"$BUILD/starter.tmp" || exit 1
            if [ ! -f "$dir/$file" ] || cmp -s "$dir/$file" "$dir/.starter/$file"; then
                cp "$BUILD/starter.tmp" "$dir/$file"
            elif ! cmp -s "$BUILD/starter.tmp" "$dir/.starter/$file"; then
                echo "  note  $dir/$file is your work: left alone (the new starter is $dir/.starter/$file)"
            fi
            mv "$BUILD/starter.tmp" "$dir/.starter/$file"
            echo "  starter $dir/$file"
        done
    done
    ;;

check)
    out=$BUILD/exercise-check
    mkdir -p "$out"
    # expect STATUS LOG GRADE-ARGS...: a grading run must end with STATUS.
    expect() {
        want=$1 log=$2
        shift 2
        grade "$@" >"$log" 2>&1
        rc=$?
        if [ $rc -eq "$want" ]; then
            echo "  ok    $(tail -1 "$log")"
        else
            echo "  WRONG exit $rc (want $want): see $log"
            sed 's/^/        /' "$log" | head -20
            exit 1
        fi
    }
    # arg KIND PART: the grading argument of PART of exercise $n, as its
    # reference, its starter, or (KIND a mistake's file) the reference with
    # that mistake made.
    arg() {
        kind=$1 part=$2 file=${2%%=*} target=${2#*=}
        src=${target%%:*} region=
        [ "$src" != "$target" ] && region=${target#*:}
        case $part in
        *=*)
            case $kind in
            reference)
                if [ -z "$region" ]; then echo "$src=$src"; return; fi
                todo=/dev/null ;;
            starter) echo "$dir/.starter/$file=$target"; return ;;
            *) todo=$kind ;;
            esac
            to="$out/ch$n-$(basename "$todo")-$file"
            "$EXCERPT" --starter "$src" "$todo" $region >"$to" || exit 1
            echo "$to=$target" ;;
        *)
            case $kind in
            reference)
                args=$(sed -n "s/^# reference ch$n $part: //p" "$table")
                [ -n "$args" ] || { echo "no '# reference ch$n $part:' line in $table" >&2; exit 1; }
                if [ -f "$args" ]; then echo "$args"; return; fi
                $CLI $args >"$out/ch$n-reference-$part" || exit 1
                echo "$out/ch$n-reference-$part" ;;
            starter) echo "$dir/.starter/$part" ;;
            *) echo "$kind" ;;
            esac ;;
        esac
    }
    for n in $(numbers); do
        set -- $(line "$n")
        folder=$2 grader=$3
        shift 3
        dir=exercises/$folder parts="$*"
        echo "ch$n $dir"
        for part in $parts; do
            case $part in *=*) ;; *) continue ;; esac
            file=${part%%=*} target=${part#*=}
            src=${target%%:*} region=
            [ "$src" != "$target" ] && region=${target#*:}
            "$EXCERPT" --starter "$src" "$dir/$file.todo" $region >"$out/ch$n-fresh-$file" || exit 1
            cmp -s "$out/ch$n-fresh-$file" "$dir/.starter/$file" || {
                echo "  STALE $dir/.starter/$file differs from a starter generated from $src (run make starters)"
                exit 1
            }
            cmp -s "$dir/$file" "$dir/.starter/$file" ||
                echo "  note  $dir/$file differs from the starter (your work; the pristine .starter/ copy is checked)"
        done
        ref="" starter=""
        for part in $parts; do
            ref="$ref $(arg reference "$part")" || exit 1
            starter="$starter $(arg starter "$part")"
        done
        expect 0 "$out/ch$n-reference.log" "$out/ch$n-reference" "reference of ch$n" "$grader" $ref
        expect 1 "$out/ch$n-starter.log" "$out/ch$n-starter" "starter of ch$n" "$grader" $starter
        # The typical mistakes: each the reference with one part made wrong
        # (the part its "part:" line names, or the first).
        found=0
        for mistake in tests/exercises/mistakes/ch$n-*; do
            [ -f "$mistake" ] || continue
            found=$((found + 1))
            name=$(basename "$mistake")
            name=${name%.*}
            which=$(sed -n 's/^#* *part: *//p' "$mistake" | head -1)
            [ -n "$which" ] || which=$(set -- $parts; echo "${1%%=*}")
            wrong=""
            for part in $parts; do
                if [ "${part%%=*}" = "$which" ]; then
                    wrong="$wrong $(arg "$mistake" "$part")" || exit 1
                else
                    wrong="$wrong $(arg reference "$part")" || exit 1
                fi
            done
            grade "$out/$name" "$name" "$grader" $wrong >"$out/$name.log" 2>&1
            first=$(head -1 "$out/$name.log")
            ok=1
            while IFS= read -r want; do
                case $first in *"$want"*) ;; *) ok=0 ;; esac
            done <<EOF
$(sed -n 's/^#* *expect: *//p' "$mistake")
EOF
            if [ $ok = 1 ] && [ "${first#FAIL }" != "$first" ]; then
                echo "  ok    mistake $name: $first"
            else
                echo "  WRONG mistake $name: the first line does not name it (see $out/$name.log):"
                echo "        $first"
                sed -n 's/^#* *expect: */        expected: /p' "$mistake"
                exit 1
            fi
        done
        [ $found -ge 2 ] || {
            echo "  WRONG ch$n has $found typical mistakes under tests/exercises/mistakes/ (want 2 or more)"
            exit 1
        }
    done
    echo "exercises: every grader passes the reference, fails the starter, and names every typical mistake"
    ;;
*)
    echo "usage: exercise.sh grade NN | starters | check | help" >&2
    exit 2
    ;;
esac
