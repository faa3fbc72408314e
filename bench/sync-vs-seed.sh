#!/bin/sh
# The agent's one-pass config pull vs the seed's three rsync calls on a ~2000-file master tree served by a
# real rsync daemon on loopback. Prints median wall times (first pull, no-change re-pull) and the ratio, once
# for the temp dir's filesystem and once for tmpfs (/dev/shm), with what creating one file costs on each:
# a first pull creates ~1000 files on either side, so a slow inode allocator hides the calls' fixed costs.
# Usage: bench/sync-vs-seed.sh [runs] [dir...]   (default 9 runs; dirs default to $TMPDIR and /dev/shm)
set -eu
cd "$(dirname "$0")/.."
runs=${1:-9}
[ $# -gt 0 ] && shift
if [ $# -eq 0 ]; then
    set -- "${TMPDIR:-/tmp}"
    [ -d /dev/shm ] && set -- "$@" /dev/shm
fi
./mvnw -B -q test-compile
./mvnw -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
cp="target/classes:target/test-classes:$(cat target/bench.classpath)"
exec java -cp "$cp" dev.binhost.agent.sync.SyncBench "$runs" "$@" 2>/dev/null
