#!/bin/sh
# Run Criterion suites one after another: one line per suite, the failures
# in full, and one closing line "N passed, N failed" over every test.
pass=0; fail=0; status=0
for t in "$@"; do
    out=$("$t" --jobs 2 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -1)
    p=$(printf '%s' "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
    f=$(printf '%s' "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
    c=$(printf '%s' "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
    if [ -z "$p" ]; then
        printf '%s\n' "$out"
        echo "$t: no test summary (exit $rc)"
        p=0; f=1; c=0
    fi
    name=$(basename "$t")
    if [ "$((f + c))" -eq 0 ] && [ "$rc" -eq 0 ]; then
        printf '  PASS   %-22s %d tests\n' "$name" "$p"
    else
        printf '%s\n' "$out" | grep -v '^\[----\]  *$' | grep -E 'FAIL|Assertion|CRASH|Timed out|\[----\]' || true
        printf '  FAIL   %-22s %d passed, %d failed, %d crashed\n' "$name" "$p" "$f" "$c"
        status=1
    fi
    pass=$((pass + p)); fail=$((fail + f + c))
done
echo "$pass passed, $fail failed"
exit $status
