#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build, and run the whole
# test suite: lit (front end, dialect, tools), GoogleTest units (ctest) and the
# bounded fuzzers. Ends with one summary line "N passed, N failed".
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
tlc_install_packages
tlc_build

passed=0
failed=0
count() { # count <passed> <failed>
  passed=$((passed + $1))
  failed=$((failed + $2))
}

echo "== lit"
lit_log="$BUILD_DIR/lit.log"
set +e
/usr/lib/llvm-22/bin/lit -sv "$BUILD_DIR/test" >"$lit_log" 2>&1
lit_rc=$?
set -e
grep -E "^(FAIL|XPASS|UNRESOLVED|TIMEOUT):|^Total Discovered|^  [A-Z][A-Za-z ]+: " "$lit_log" || true
# "  Passed     : 56 (94.92%)" -> 56
lit_count() { grep -E "^\s*$1\s*:" "$lit_log" | sed -E 's/^[^:]*:\s*([0-9]+).*/\1/' | tail -1 || true; }
lit_pass=$(lit_count Passed)
lit_fail=0
for kind in Failed Unresolved "Timed Out" "Unexpectedly Passed"; do
  n=$(lit_count "$kind")
  lit_fail=$((lit_fail + ${n:-0}))
done
if [ $lit_rc -ne 0 ] && [ $lit_fail -eq 0 ]; then
  echo "lit exited with $lit_rc:"; tail -20 "$lit_log"
  lit_fail=1
fi
[ $lit_fail -eq 0 ] || sed -n '/^\*\{20\} TEST/,/^\*\{20\}$/p' "$lit_log" | head -400
count "${lit_pass:-0}" "$lit_fail"

echo "== ctest"
ctest_log="$BUILD_DIR/ctest.log"
set +e
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS") >"$ctest_log" 2>&1
set -e
grep -E "tests passed|Failed|\*\*\*" "$ctest_log" || true
ctest_line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$ctest_log" | tail -1)
if [ -n "$ctest_line" ]; then
  ctest_failed=$(echo "$ctest_line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
  ctest_total=$(echo "$ctest_line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
  count $((ctest_total - ctest_failed)) "$ctest_failed"
elif grep -q "No tests were found" "$ctest_log"; then
  echo "ctest: no tests"
else
  tail -30 "$ctest_log"
  count 0 1
fi

if [ "${TLC_SKIP_FUZZ:-0}" != "1" ] && [ -x "$TLC_ROOT/scripts/run-fuzzers.sh" ]; then
  echo "== fuzzers"
  set +e
  fuzz_out=$("$TLC_ROOT/scripts/run-fuzzers.sh" 2>&1)
  fuzz_rc=$?
  set -e
  echo "$fuzz_out" | tail -15
  fuzz_line=$(echo "$fuzz_out" | grep -E "^fuzz: [0-9]+ passed, [0-9]+ failed" | tail -1)
  if [ -n "$fuzz_line" ]; then
    count "$(echo "$fuzz_line" | sed -E 's/fuzz: ([0-9]+) passed.*/\1/')" \
          "$(echo "$fuzz_line" | sed -E 's/.* ([0-9]+) failed.*/\1/')"
  fi
  [ $fuzz_rc -eq 0 ] || [ -n "$fuzz_line" ] || count 0 1
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
