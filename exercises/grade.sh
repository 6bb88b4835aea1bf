#!/bin/sh
# grade.sh -- build a chapter's tests against a learner's file and run them.
#
#   sh exercises/grade.sh DIR LABEL REPLACE TESTS [SCHEDULE]
#
#   DIR       build directory (everything is written under it, never into
#             exercises/)
#   LABEL     what is graded, for the report ("ch03 exercises/03-gpipe/gpipe.c")
#   REPLACE   "src/x.c=path/to/learners/x.c", or "-" to grade the reference
#   TESTS     space-separated suites from tests/ ("test_ch03 test_generators")
#   SCHEDULE  optional: a schedule file, passed to the suites as
#             PL_SCHEDULE_FILE
#
# From the environment (make passes them): CC, CFLAGS, LDLIBS, TEST_LIBS and
# LIB_OBJ, the reference library's object files (already built).
#
# Prints one line per test, PASS or FAIL, with the first failed check under
# each FAIL, then a summary. Exit status: 0 every test passed, 1 some test
# failed, 3 the learner's file (or a test) did not build.
set -u
dir=$1 label=$2 replace=$3 tests=$4 schedule=${5:-}
mkdir -p "$dir/obj" "$dir/tests"

# The library: the reference objects, one of them swapped for the learner's.
objs=$LIB_OBJ
if [ "$replace" != "-" ]; then
    ref=${replace%%=*} mine=${replace#*=}
    refobj=$(printf '%s\n' $LIB_OBJ | grep "/${ref%.c}\.o\$")
    [ -n "$refobj" ] || { echo "grade: no object for $ref"; exit 3; }
    obj="$dir/obj/$(basename "${mine%.c}").o"
    if ! $CC $CFLAGS -c "$mine" -o "$obj" 2>"$dir/build.log"; then
        echo "$label: does not compile:"; sed 's/^/  /' "$dir/build.log" | head -30
        exit 3
    fi
    objs=$(printf '%s\n' $LIB_OBJ | grep -v "^$refobj\$" | tr '\n' ' ')" $obj"
fi
rm -f "$dir/libpipelab.a"
ar rcs "$dir/libpipelab.a" $objs || exit 3

pass=0 fail=0
echo "grading $label"
for t in $tests; do
    bin="$dir/tests/$t"
    if ! $CC $CFLAGS -Itests "tests/$t.c" "$dir/libpipelab.a" -o "$bin" $TEST_LIBS $LDLIBS \
            2>"$dir/build.log"; then
        echo "$label: tests/$t.c does not build against it:"
        sed 's/^/  /' "$dir/build.log" | head -30
        exit 3
    fi
    # TAP on stdout: "ok - suite::test (0.01s)", "not ok - ...", then the
    # failed assertions ("Assertion failed: ...") in a YAML block.
    PL_SCHEDULE_FILE=$schedule "$bin" --jobs 2 --tap=- >"$dir/$t.tap" 2>"$dir/$t.log"
    awk -v P="$dir/pass" -v F="$dir/fail" '
        function name(s) { sub(/^(not )?ok [0-9]* *- */, "", s); sub(/ *\([0-9.]+s\) *$/, "", s); return s }
        /^ok /     { printf "  PASS  %s\n", name($0); p++ }
        /^not ok / { printf "  FAIL  %s\n", name($0); f++; n = 0 }
        /Assertion failed: / { if (n++ < 2) { sub(/^.*Assertion failed: */, ""); printf "          %s\n", substr($0, 1, 150) } }
        END { print p + 0 > P; print f + 0 > F }' "$dir/$t.tap"
    tp=$(cat "$dir/pass") tf=$(cat "$dir/fail")
    if [ $((tp + tf)) -eq 0 ]; then
        echo "  FAIL  $t: no test ran (crashed?)"; tf=1
    fi
    pass=$((pass + tp)) fail=$((fail + tf))
done
echo "$label: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
