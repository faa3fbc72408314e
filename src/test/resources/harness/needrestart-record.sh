#!/bin/bash
# Records fixtures/followup/needrestart/ (issue 14): `needrestart -b` on this Debian host (not in the sandbox), as
# root, with stdin /dev/null. Needs the needrestart package, gcc, unshare, script(1).
#
#   sudo src/test/resources/harness/needrestart-record.sh       # writes $OUT (default /tmp/h14/needrestart)
#
# States: plain (the machine as it is); deleted-lib-no-tty (one process of ours maps a deleted library);
# deleted-lib-tty (plus a second such process on a pty). The library and binary live on a tmpfs mounted at /mnt in
# a private mount namespace (needrestart ignores mappings under /tmp and /run), so nothing outside /tmp is written.
# The processes are killed by PID at the end.
set -uo pipefail
OUT=${OUT:-/tmp/h14/needrestart}
SRC=$OUT/src
case $OUT in /tmp/*) ;; *) echo "OUT must be under /tmp" >&2; exit 1 ;; esac
rm -rf "$OUT"
mkdir -p "$SRC"
echo 'int h14_value(void) { return 42; }' >"$SRC/libh14.c"
cat >"$SRC/prog.c" <<'EOF'
#include <unistd.h>
int h14_value(void);
int main(void) { for (;;) { if (h14_value() != 42) return 1; sleep(1); } }
EOF
gcc -shared -fPIC -Wl,-soname,libh14.so.1 -o "$SRC/libh14.so.1" "$SRC/libh14.c" &&
	gcc -o "$SRC/h14-daemon" "$SRC/prog.c" -L"$SRC" -l:libh14.so.1 -Wl,-rpath,/mnt/h14 || exit 1

nr() { # state
	needrestart -b </dev/null >"$OUT/.o" 2>"$OUT/.e"
	local rc=$?
	mv "$OUT/.o" "$OUT/$1.rc$rc.txt"
	mv "$OUT/.e" "$OUT/$1.rc$rc.stderr.txt"
	echo "$1: rc $rc"
}
START="mount -t tmpfs tmpfs /mnt && mkdir /mnt/h14 && cp $SRC/h14-daemon $SRC/libh14.so.1 /mnt/h14/ && exec /mnt/h14/h14-daemon"
wait_maps() { # pid
	for _ in $(seq 50); do grep -q libh14 "/proc/$1/maps" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

nr plain

# unshare without --fork execs sh, which execs the daemon: $! is the daemon's PID
unshare --mount --propagation private sh -c "$START" </dev/null >/dev/null 2>&1 &
p1=$!
wait_maps "$p1" || { echo "daemon 1 did not start" >&2; kill "$p1"; exit 1; }
rm "/proc/$p1/root/mnt/h14/libh14.so.1"   # the daemon's own mount namespace, seen through /proc
nr deleted-lib-no-tty

script -qfc "unshare --mount --propagation private sh -c '$START'" /dev/null </dev/null >/dev/null 2>&1 &
s=$!
p2=
for _ in $(seq 50); do
	p2=$(ps -o pid= --ppid "$s" | tr -d ' ' | head -n1)
	[[ -n $p2 ]] && wait_maps "$p2" && break
	sleep 0.1
done
if [[ -n $p2 ]]; then
	rm "/proc/$p2/root/mnt/h14/libh14.so.1"
	nr deleted-lib-tty
	kill "$p2"
fi
kill "$p1"
wait 2>/dev/null
echo "done: $OUT"
