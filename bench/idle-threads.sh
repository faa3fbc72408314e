#!/bin/bash
# Which threads of a running agent wake up while it idles: context switches per thread over a window.
#   bench/idle-threads.sh PID [seconds]     (default 60)
# Threads are told apart by TID (many share a name); one that starts or ends during the window is marked.
set -euo pipefail
pid=${1:?usage: bench/idle-threads.sh PID [seconds]}
secs=${2:-60}
[ -d "/proc/$pid" ] || { echo "no process $pid" >&2; exit 1; }
snap() {
	for t in /proc/"$pid"/task/*; do
		printf '%s %s %s\n' "${t##*/}" "$(awk '/ctxt_switches/ { s += $2 } END { print s + 0 }' "$t/status" 2>/dev/null)" \
			"$(tr ' ' '_' < "$t/comm" 2>/dev/null)"
	done | sort -n
}
snap > "/tmp/idle-threads.$$.0"
sleep "$secs"
[ -d "/proc/$pid" ] || { echo "process $pid ended during the window" >&2; exit 1; }
snap > "/tmp/idle-threads.$$.1"
join -a1 -a2 -e NA -o 0,1.2,2.2,2.3,1.3 "/tmp/idle-threads.$$.0" "/tmp/idle-threads.$$.1" | awk -v s="$secs" '
	{ name = ($4 == "NA") ? $5 : $4
	  if ($2 == "NA") { d = $3; note = " (started)" } else if ($3 == "NA") { d = 0; note = " (ended)" } else { d = $3 - $2; note = "" }
	  total += d; if (d > 0 || note != "") printf "%8.1f/min  tid %-7s %s%s\n", 60 * d / s, $1, name, note }
	END { printf "%8.1f/min  all threads\n", 60 * total / s }' | sort -rn
rm -f "/tmp/idle-threads.$$.0" "/tmp/idle-threads.$$.1"
