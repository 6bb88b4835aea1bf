#!/bin/sh
# Run Criterion suites one after another and print one closing line:
# "N passed, N failed" over every test of every suite.
pass=0; fail=0; status=0
for t in "$@"; do
    out=$("$t" --jobs 2 2>&1); rc=$?
    printf '%s\n' "$out" | grep -v '^\[----\]' | grep -E 'FAIL|Synthesis|Tested' || true
    line=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -1)
    p=$(printf '%s' "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
    f=$(printf '%s' "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
    c=$(printf '%s' "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
    [ -n "$p" ] || { echo "$t: no test summary (exit $rc)"; p=0; f=1; c=0; }
    pass=$((pass + p)); fail=$((fail + f + c))
    [ "$rc" -eq 0 ] || status=1
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || status=1
exit $status
