#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and runs each on its seed corpus.
#   scripts/fuzz.sh [seconds per target, default 30]
# Exits non-zero when a fuzzer reports a finding (crash, sanitizer error, broken invariant);
# the reproducer is left in build-fuzz/findings/<target>/.
set -euo pipefail

seconds="${1:-30}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${root}/build-fuzz"
# Every fuzz/<name>_fuzz.cpp is a target, with seeds in fuzz/corpus/<name>_fuzz/ and, when
# present, a dictionary in fuzz/<name>.dict (else fuzz/<first word of name>.dict).
targets=()
for source in "${root}"/fuzz/*_fuzz.cpp; do targets+=("$(basename "${source}" .cpp)"); done

clang_cxx="$(command -v clang++ || command -v clang++-14 || true)"
clang_c="$(command -v clang || command -v clang-14 || true)"
if [[ -z "${clang_cxx}" ]]; then
  echo "fuzz.sh: clang++ not found (install clang and libclang-rt-dev)" >&2
  exit 2
fi

# A unity build (sources compiled in batches): the fuzz build is part of the CI run's time.
CXX="${clang_cxx}" CC="${clang_c}" cmake -S "${root}" -B "${build}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNEXTN_FUZZ=ON -DNEXTN_TESTS=OFF -DCMAKE_UNITY_BUILD=ON >/dev/null
cmake --build "${build}" -j2 --target "${targets[@]}"

# Runs one target; its output goes to build-fuzz/logs/<target>.log.
run_target() {
  local target="$1"
  # The checked-in seeds stay read-only; new inputs the fuzzer finds go to a scratch corpus.
  local work="${build}/corpus/${target}"
  local findings="${build}/findings/${target}"
  mkdir -p "${work}" "${findings}" "${root}/fuzz/corpus/${target}"
  local dict_args=()
  for dict in "${root}/fuzz/${target%_fuzz}.dict" "${root}/fuzz/${target%%_*}.dict"; do
    if [[ -f "${dict}" ]]; then dict_args=(-dict="${dict}"); break; fi
  done
  "${build}/fuzz/${target}" "${work}" "${root}/fuzz/corpus/${target}" \
    "${dict_args[@]}" -max_total_time="${seconds}" \
    -artifact_prefix="${findings}/" -print_final_stats=1
}

# One target per core at a time: the same seconds each, in about half the wall time on two
# cores (the fuzz runs are part of the CI run's time).
logs="${build}/logs"
mkdir -p "${logs}"
parallel="$(nproc 2>/dev/null || echo 1)"
pids=()
names=()
status=0
finish() {  # waits for the oldest running target and reports it
  local pid="${pids[0]}" target="${names[0]}"
  pids=("${pids[@]:1}")
  names=("${names[@]:1}")
  echo "== ${target}: ${seconds}s"
  if wait "${pid}"; then
    tail -n 12 "${logs}/${target}.log"
  else
    cat "${logs}/${target}.log"
    echo "fuzz.sh: ${target} reported a finding; see ${build}/findings/${target}/" >&2
    status=1
  fi
}
for target in "${targets[@]}"; do
  run_target "${target}" >"${logs}/${target}.log" 2>&1 &
  pids+=("$!")
  names+=("${target}")
  if (( ${#pids[@]} >= parallel )); then finish; fi
done
while (( ${#pids[@]} > 0 )); do finish; done
exit "${status}"
