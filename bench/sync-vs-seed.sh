#!/bin/sh
# The agent's one-pass config pull vs the seed's three rsync calls on a ~2000-file master tree served by a
# real rsync daemon on loopback. Prints median wall times (first pull, no-change re-pull) and the ratio.
# Usage: bench/sync-vs-seed.sh [runs]   (default 9; needs rsync)
set -eu
cd "$(dirname "$0")/.."
./mvnw -B -q -o test-compile
./mvnw -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
cp="target/classes:target/test-classes:$(cat target/bench.classpath)"
exec java -cp "$cp" dev.binhost.agent.sync.SyncBench "${1:-9}"
