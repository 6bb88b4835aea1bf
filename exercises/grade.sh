#!/bin/sh
# grade.sh -- build the library with a learner's code in it, and run the
# exercise's grader against it.
#
#   sh exercises/grade.sh DIR LABEL GRADER PART...
#
#   DIR     build directory (everything is written under it, never into
#           exercises/)
#   LABEL   what is graded, for the report ("ch03 exercises/03-gpipe/memory.c")
#   GRADER  the exercise's checks: tests/exercises/GRADER.c
#   PART    one piece of the learner's work:
#             FILE=SRC          FILE in place of the source file SRC
#             FILE=SRC:REGION   FILE in place of region REGION of SRC (a
#                               fragment: the rest of SRC stays the reference)
#             FILE              a data file the grader reads ($PL_EXERCISE_DATA)
#           To grade the reference itself, give SRC=SRC (or, for a fragment,
#           the region as `excerpt --starter SRC /dev/null REGION` prints it).
#
# From the environment (make passes them): CC, CFLAGS, LDLIBS, LIB_OBJ (the
# reference library's object files, already built), CLI_OBJ (the pipelab
# command's, to link DIR/pipelab with the learner's code in it), EXCERPT
# (the excerpt tool, for fragments), and for chapter 09's *_mpi.c files
# MPICC, MPI_OBJ and MPI_CLI_OBJ (pipelab-mpi's, to link DIR/pipelab-mpi).
# The grader learns DIR from $PL_EXERCISE_BUILD.
#
# Prints the grader's report: the failed checks first, each with its hint,
# what was expected and what was measured; then the checks that passed and
# a summary line. Exit status: 0 every check passed, 1 some check failed, 3
# the learner's code (or the grader) did not build.
set -u
OMPI_CC=$CC # mpicc compiles with the same compiler as the rest
export OMPI_CC
dir=$1 label=$2 grader=$3
shift 3
rm -rf "$dir/obj" "$dir/tree"
mkdir -p "$dir/obj" "$dir/tree"
log="$dir/build.log"

# Each source part becomes a whole source file under $dir/tree, at the
# reference's path, compiled in place of the reference's object.
data="" replaced="" header=0
for part in "$@"; do
    case $part in
    *=*) mine=${part%%=*} target=${part#*=} ;;
    *) data=$part; continue ;;
    esac
    src=${target%%:*} region=
    [ "$src" != "$target" ] && region=${target#*:}
    mkdir -p "$dir/tree/$(dirname "$src")"
    if [ -n "$region" ]; then
        "$EXCERPT" --splice "$src" "$region" "$mine" >"$dir/tree/$src" || exit 3
    else
        cp "$mine" "$dir/tree/$src"
    fi
    case $src in *.h) header=1 ;; esac
    replaced="$replaced $src"
done

# Compile $1 (a path under src/) from its copy under $dir/tree into $dir/obj
# (with mpicc if it is one of chapter 09's *_mpi.c files).
compile() {
    obj="$dir/obj/${1%.c}.o"
    cc=$CC
    case $1 in *_mpi.c) cc=${MPICC:?"MPI exercises need mpicc: make mpi"} ;; esac
    mkdir -p "$(dirname "$obj")"
    # Quoted includes look beside the copy first, then in the copies, then
    # in the source's own directory and src/ (CFLAGS).
    $cc -I"$dir/tree/src" -I"$dir/tree/$(dirname "$1")" -I"$(dirname "$1")" $CFLAGS \
        -c "$dir/tree/$1" -o "$obj" 2>>"$log"
}

: >"$log"
objs=""
if [ "$header" = 1 ]; then
    # A header is in every object that includes it: rebuild the library from
    # a copy of src/ with the learner's header in it.
    for f in $(printf '%s\n' $LIB_OBJ | sed 's|.*/obj/||; s|\.o$|.c|'); do
        [ -f "$dir/tree/$f" ] || { mkdir -p "$dir/tree/$(dirname "$f")"; cp "$f" "$dir/tree/$f"; }
    done
    for h in src/*.h src/schedules/*.h; do
        [ -f "$dir/tree/$h" ] || cp "$h" "$dir/tree/$h"
    done
    for f in $(printf '%s\n' $LIB_OBJ | sed 's|.*/obj/||; s|\.o$|.c|'); do
        compile "$f" || failed=1
        objs="$objs $dir/obj/${f%.c}.o"
    done
    # pipelab's own objects include it too
    cli=""
    for f in $(printf '%s\n' ${CLI_OBJ:-} | sed 's|.*/obj/||; s|\.o$|.c|'); do
        mkdir -p "$dir/tree/$(dirname "$f")"
        cp "$f" "$dir/tree/$f"
        for h in "$(dirname "$f")"/*.h; do cp "$h" "$dir/tree/$h"; done
        compile "$f" || failed=1
        cli="$cli $dir/obj/${f%.c}.o"
    done
    CLI_OBJ=$cli
else
    objs=" $LIB_OBJ " mpi=" ${MPI_OBJ:-} "
    for src in $replaced; do
        compile "$src" || failed=1
        case $src in
        *_mpi.c) mpi=$(printf '%s\n' $mpi | grep -v "/obj/${src%.c}\.o\$" | tr '\n' ' ')
                 mpi="$mpi $dir/obj/${src%.c}.o" ;;
        *) objs=$(printf '%s\n' $objs | grep -v "/obj/${src%.c}\.o\$" | tr '\n' ' ')
           objs="$objs $dir/obj/${src%.c}.o" ;;
        esac
    done
fi
if [ "${failed:-0}" = 1 ]; then
    echo "does not compile: $label"
    sed 's/^/  /' "$log" | head -40
    exit 3
fi
rm -f "$dir/libpipelab.a"
ar rcs "$dir/libpipelab.a" $objs || exit 3
# pipelab itself, with the learner's code in it: to try it by hand.
if [ -n "${CLI_OBJ:-}" ]; then
    $CC $CFLAGS $CLI_OBJ "$dir/libpipelab.a" -o "$dir/pipelab" $LDLIBS 2>"$log" || {
        echo "does not link into pipelab: $label"
        sed 's/^/  /' "$log" | head -40
        exit 3
    }
fi

# pipelab-mpi too, when an MPI file is the learner's (chapter 09): every
# device an MPI process, the learner's code in each.
case "$replaced" in
*_mpi.c*)
    cli=$(printf '%s\n' $MPI_CLI_OBJ | grep -v 'libpipelab\.a$' | tr '\n' ' ')
    $MPICC $CFLAGS $mpi $cli "$dir/libpipelab.a" -o "$dir/pipelab-mpi" $LDLIBS 2>"$log" || {
        echo "does not link into pipelab-mpi: $label"
        sed 's/^/  /' "$log" | head -40
        exit 3
    } ;;
esac

bin="$dir/$grader"
if ! $CC -I"$dir/tree/src" $CFLAGS -Itests -Itests/exercises "tests/exercises/$grader.c" "$dir/libpipelab.a" \
        -o "$bin" $LDLIBS 2>"$log"; then
    echo "the grader does not build against it: $label (a function it calls missing or renamed?)"
    sed 's/^/  /' "$log" | head -40
    exit 3
fi
: >"$dir/output.log"
PL_EXERCISE_DATA=$data PL_EXERCISE_LOG="$dir/output.log" PL_EXERCISE_LABEL=$label \
    PL_EXERCISE_BUILD=$dir "$bin"
