#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang into build-fuzz/ and runs each
# for N seconds on a fresh copy of its seed corpus. Exits non-zero on any crash, leak,
# timeout or out-of-memory (the input is saved under build-fuzz/artifacts/<target>/).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (SECONDS default $MNEMO_FUZZ_SECONDS or 20)
# Needs: clang, libclang-rt-14-dev (libFuzzer and sanitizer runtimes), llvm (symbolizer).
# Environment: MNEMO_JOBS (build parallelism, default 2), MNEMO_FUZZ_WERROR (default ON:
# clang warnings are errors too).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${MNEMO_FUZZ_SECONDS:-20}
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_http_request fuzz_json_request fuzz_jsonrpc)
fi

dir=build-fuzz
# -O1 -g without NDEBUG: assertions stay on, stacks stay readable.
CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DMNEMO_FUZZ=ON -DMNEMO_BUILD_TESTS=OFF -DMNEMO_BUILD_BENCH=OFF \
  -DMNEMO_WERROR="${MNEMO_FUZZ_WERROR:-ON}" >/dev/null
ninja -C "$dir" -j "${MNEMO_JOBS:-2}" "${targets[@]}"

if ! command -v llvm-symbolizer >/dev/null && [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# The Engine targets open their data directory under TMPDIR: keep it in the build tree,
# where a crashed run's directory is cleared by the next run.
export TMPDIR=$PWD/$dir/tmp
rm -rf "$TMPDIR"
mkdir -p "$TMPDIR"

failed=()
printf '%-20s %10s %8s %6s %8s  %s\n' target executions exec/s cov corpus result
for t in "${targets[@]}"; do
  corpus=$dir/corpus/$t
  artifacts=$dir/artifacts/$t/
  log=$dir/logs/$t.log
  rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  touch "$dir/logs/$t.start"
  cp tests/fuzz/corpus/"$t"/* "$corpus"/
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384
        -print_final_stats=1 -artifact_prefix="$artifacts")
  [ -f tests/fuzz/"$t".dict ] && args+=(-dict=tests/fuzz/"$t".dict)
  rc=0
  # In a subshell (not exec'd), so that a fatal signal is logged, not reported by bash.
  ("$dir/tests/fuzz/$t" "${args[@]}" "$corpus"; exit $?) >"$log" 2>&1 || rc=$?
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n1; }
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2 || true)
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="FAILED (exit $rc, log $log)"
    failed+=("$t")
  fi
  printf '%-20s %10s %8s %6s %8s  %s\n' "$t" "$(stat number_of_executed_units)" \
    "$(stat average_exec_per_sec)" "${cov:-?}" "$(ls "$corpus" | wc -l)" "$result"
  if [ "$rc" -ne 0 ]; then
    # The report, with frames shortened to function and place (template names are long).
    grep -E -A30 '^==[0-9]+==ERROR|^==FUZZ INVARIANT==|runtime error|ALARM|out-of-memory|deadly signal' \
      "$log" | sed -E 's/^( +#[0-9]+ 0x[0-9a-f]+ in )(.{0,60}).* ([^ ]+:[0-9]+(:[0-9]+)?)$/\1\2... \3/' |
      head -n 60 >&2 || true
    find "$artifacts" -type f -newer "$dir/logs/$t.start" >&2
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $dir/artifacts/; reproduce: $dir/tests/fuzz/<target> <file>)" >&2
  exit 1
fi
echo "fuzz: all targets ran ${seconds}s without a finding"
