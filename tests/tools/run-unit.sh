#!/bin/sh
# Run the cmocka unit test binaries given as arguments; with VALGRIND=1 each
# runs under valgrind memcheck and any error or leak fails the run.
set -u
failed=0
passed=0
for t in "$@"; do
  if [ "${VALGRIND:-0}" = 1 ]; then
    valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
      --errors-for-leak-kinds=definite,indirect,possible "$t" >"$t.valgrind.log" 2>&1
  else
    "$t"
  fi
  rc=$?
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $t (exit $rc)" >&2
    [ "${VALGRIND:-0}" = 1 ] && cat "$t.valgrind.log" >&2
  fi
done
label=unit
[ "${VALGRIND:-0}" = 1 ] && label=valgrind
echo "$label: $passed passed, $failed failed"
[ $failed -eq 0 ]
