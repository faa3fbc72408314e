#!/bin/bash
# The native build check (issue 17): builds the agent as a native executable with ../shared/native-check (the
# real GraalVM 25 image builder on Temurin 25; a test-only stand-in for GraalVM's C helpers, not a release
# build), then runs smoke.sh against the executable.
#
#   src/test/native/check.sh                 build into target/native (7-11 min on 2 cores, builder ~4-6 GB),
#                                            then the smoke test
#   src/test/native/check.sh --skip-build    the smoke test against the last build
# NATIVE_CHECK=<dir of native-build.sh> overrides where native-check is (default: ../shared/native-check beside
# the repository). The build runs in a copy of the tracked tree, so this checkout's target/quarkus-app stays.
# Root only (smoke.sh runs each agent in a pid namespace of its own). Exit 0 only when both passed.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
nc=${NATIVE_CHECK:-$repo/../shared/native-check}
out=$repo/target/native
# native-check resolves the builder's jars with Maven: the machine's, else this project's wrapper
export MVN=${MVN:-$(command -v mvn || echo "$repo/mvnw")}
exe=$out/binhost-agent-runner

if [[ ${1:-} != --skip-build ]]; then
    [[ -x $nc/native-build.sh ]] || { echo "check.sh: no native-build.sh in $nc (set NATIVE_CHECK)" >&2; exit 2; }
    rm -rf "$out" && mkdir -p "$out/src"
    (cd "$repo" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$out/src"
    t0=$(date +%s)
    bash "$nc/native-build.sh" "$out/src" || {
        tail -60 "$out/src/target/native-check-build.log" >&2 || true
        echo "check.sh: the native build failed (logs: $out/src/target/native-check-*.log)" >&2
        exit 1
    }
    runner=$(ls "$out"/src/target/*-runner)
    cp "$runner" "$exe"
    cp "$out/src/target/libjvm.so" "$out/"   # the stand-in the executable finds through $ORIGIN
    echo "check.sh: native build in $(( $(date +%s) - t0 )) s: $exe ($(( $(stat -c %s "$exe") / 1048576 )) MB)"
    grep -E 'Peak RSS|Finished generating' "$out/src/target/native-check-build.log" | sed 's/^/check.sh: builder: /' || true
fi
[[ -x $exe ]] || { echo "check.sh: no executable at $exe (run without --skip-build)" >&2; exit 2; }
bash "$repo/src/test/native/smoke.sh" "$repo" "$exe"
