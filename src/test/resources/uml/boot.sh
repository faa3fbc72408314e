#!/bin/bash
# Boots a User-Mode Linux guest with the host's / as its read-only root and runs OUTDIR/run.sh in it as root
# (init.sh beside this file is PID 1). Waits for the guest to power off, at most TIMEOUT seconds (default 900),
# and exits with the payload's status (124 when the guest did not finish in time, 125 when it never ran, 126 when
# its kernel panicked: ended at once, the panic and the line before it on stderr).
# Needs: user-mode-linux and kmod (modprobe); the payload's own tools (nfs-kernel-server, nfs-ganesha, ...).
# usage: boot.sh OUTDIR [TIMEOUT]
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath "$1")
limit=${2:-900}
[ -x /usr/bin/linux.uml ] || { echo "boot.sh: /usr/bin/linux.uml missing (apt-get install user-mode-linux)" >&2; exit 125; }
command -v modprobe >/dev/null || [ -x /usr/sbin/modprobe ] || { echo "boot.sh: modprobe missing (apt-get install kmod)" >&2; exit 125; }
rm -f "$out/exit"
# UML runs each guest process as a host process of its own, and they outlive a killed kernel. So the kernel is
# PID 1 of a PID namespace of its own: when it ends, however it ends, the host kernel kills all of them.
timeout -k 5 "$limit" unshare --pid --fork --kill-child /usr/bin/linux.uml mem="${UML_MEM:-1536M}" root=/dev/root rootfstype=hostfs rootflags=/ ro \
	init="$here/init.sh" uml.out="$out" con=null con0=fd:0,fd:1 quiet < /dev/null > "$out/console.log" 2>&1 &
guest=$!
# a panicked guest kernel does not power off: end it at once (unshare's child, the kernel, dies with unshare)
while kill -0 "$guest" 2>/dev/null; do
	if grep -q "Kernel panic" "$out/console.log" 2>/dev/null; then
		sleep 1
		for p in $(ps -o pid= --ppid "$guest"); do kill -KILL "$p" 2>/dev/null; done
		wait "$guest" 2>/dev/null
		echo "boot.sh: the guest kernel panicked: $(grep -m1 -B1 "Kernel panic" "$out/console.log" | tr '\n' ' ')" >&2
		exit 126
	fi
	sleep 1
done
wait "$guest"
rc=$?
if [ -f "$out/exit" ]; then
	exit "$(cat "$out/exit")"
fi
[ "$rc" = 124 ] && exit 124
echo "boot.sh: the guest ended (rc $rc) without running the payload; see $out/console.log" >&2
exit 125
