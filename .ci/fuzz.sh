#!/usr/bin/env bash
# A short fuzzing run in CI: each cargo fuzz target (fuzz/fuzz_targets) for a few seconds,
# as many at once as there are cores, over its committed corpus (fuzz/corpus). New inputs go
# to a temporary directory, so the checkout is not changed; a finding fails the run and
# leaves its input under fuzz/artifacts/<target>/ (replay: cargo +nightly fuzz run -s none <target> <file>).
#
#     bash .ci/fuzz.sh          build the targets (if not built yet) and run each
#     bash .ci/fuzz.sh build    only install the tools and build the targets (.ci/run does
#                               this in the background, at low priority, while it builds
#                               and runs the tests)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_PER_TARGET="${INNKEEP_FUZZ_SECONDS:-20}"

if ! cargo +nightly --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

# No sanitizer: the code under test is safe Rust; a panic, a 5xx or a hang is the finding.
# 16 codegen units (cargo fuzz's default is 1): a short smoke run does not need the last bit
# of speed, and one unit per crate keeps one of the two cores idle for most of the build.
# And optimisation level 1 (cargo fuzz builds release, level 3): it compiles in about half
# the time and runs nearly as fast; a longer campaign can set CARGO_PROFILE_RELEASE_OPT_LEVEL=3.
BUILD=(-s none --codegen-units 16)
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-1}"
cargo +nightly fuzz build "${BUILD[@]}"
if [ "${1:-}" = build ]; then exit 0; fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# One target per core at a time (each libFuzzer run is one process).
fuzz_one() {
  local target="$1"
  mkdir -p "$scratch/$target"
  if cargo +nightly fuzz run "${BUILD[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=4096 >"$scratch/$target.log" 2>&1; then
    echo ok >"$scratch/$target.rc"
  else
    echo finding >"$scratch/$target.rc"
  fi
}
targets=($(cargo +nightly fuzz list))
at_once="$(nproc)"
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$at_once" ]; do wait -n || true; done
  fuzz_one "$target" &
done
wait

findings=0
for target in "${targets[@]}"; do
  echo "fuzz $target for ${SECONDS_PER_TARGET} s over $(ls "corpus/$target" | wc -l) committed inputs"
  if [ "$(cat "$scratch/$target.rc" 2>/dev/null)" != ok ]; then
    tail -60 "$scratch/$target.log"
    echo "fuzz $target: a finding (see above and fuzz/artifacts/$target/)"
    findings=1
  else
    grep -E "DONE" "$scratch/$target.log" | tail -1
  fi
done
exit "$findings"
