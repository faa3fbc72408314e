#!/bin/bash
# Stand-in for emerge in tests and the demo: replays a real emerge output captured in fixtures/emerge and exits
# with the exit status that run had (the "rcN" in the file name). Nothing is invented: it only chooses WHICH
# real output to replay from its arguments, and can stop early to play a hang or a crash half-way.
#
# Usage: emerge-standin.sh SCENARIO_FILE [emerge arguments...]
# SCENARIO_FILE is sourced by bash and sets:
#   PRETEND=<fixture>   replayed when the arguments contain --pretend (or -p)
#   MERGE=<fixture>     replayed for a real run
#   RESUME=<fixture>    replayed for --resume (defaults to MERGE)
#   LINE_DELAY=<secs>   pause after each line, so a run takes time and progress can be watched
#   HANG_AFTER=<n>      real run: after n lines, stop writing and sleep (plays a build that hangs)
#   DIE_AFTER=<n>       real run: after n lines, exit with DIE_RC (plays emerge dying half-way)
#   DIE_RC=<code>       exit status for DIE_AFTER (default 1)
#   ARGS_LOG=<file>     each call appends its arguments as one line, so tests see what the agent ran
# Portage's records of a real run (only when EROOT is set; nothing of them is invented either):
#   EROOT=<dir>         the test's root: records go to var/log/emerge.log, var/db/pkg, var/cache/edb under it
#   MERGE_LOG=<file>    the emerge.log lines the recorded run wrote; appended in step with the output replayed:
#                       ">>> Emerging (i of n) P" writes the log through ">>> emerge (i of n) P to" and its
#                       next step line, ">>> Completed (i of n) P" through "::: completed emerge (i of n) P";
#                       the rest when the replay ends as the recorded run did
#   VDB_AFTER=<dir>     the recorded /var/db/pkg after the run: when a replayed log line says a package
#                       completed, its entry is copied from here; without it the entry gets what Portage
#                       would give it, the next value of var/cache/edb/counter as COUNTER
#   MTIMEDB=<file>      the recorded mtimedb after the run, put in place when the replay ends (resume list)
#   MTIMEDB_DURING=<f>  the recorded mtimedb while the run was in progress, put in place when the replay starts
set -u
scenario="$1"; shift
PRETEND=""; MERGE=""; RESUME=""; LINE_DELAY=0; HANG_AFTER=""; DIE_AFTER=""; DIE_RC=1; ARGS_LOG=""
EROOT=""; MERGE_LOG=""; VDB_AFTER=""; MTIMEDB=""; MTIMEDB_DURING=""
# shellcheck disable=SC1090
source "$scenario"
[ -n "$ARGS_LOG" ] && printf '%s\n' "$*" >> "$ARGS_LOG"

pretend=0; resume=0
for a in "$@"; do
  case "$a" in
    --pretend|-p|-pv|-vp) pretend=1 ;;
    --resume|-r) resume=1 ;;
    --ask|-a) echo "emerge-standin: --ask would wait for an answer forever" >&2; exit 2 ;;
  esac
done

if [ $pretend = 1 ]; then file="$PRETEND"; elif [ $resume = 1 ]; then file="${RESUME:-$MERGE}"; else file="$MERGE"; fi
[ -r "$file" ] || { echo "emerge-standin: no fixture for this call: '$file'" >&2; exit 3; }
rc=$(basename "$file" | sed -n 's/.*\.rc\([0-9]*\)\.txt$/\1/p'); rc=${rc:-0}

records=0
[ $pretend = 0 ] && [ -n "$EROOT" ] && [ -n "$MERGE_LOG" ] && records=1
log_lines=(); written=0
if [ $records = 1 ]; then
  mkdir -p "$EROOT/var/log" "$EROOT/var/db/pkg" "$EROOT/var/cache/edb"
  mapfile -t log_lines < "$MERGE_LOG"
  [ -n "$MTIMEDB_DURING" ] && cp "$MTIMEDB_DURING" "$EROOT/var/cache/edb/mtimedb"
fi
install_entry() { # cpv: the vdb entry of a package emerge just completed
  local cat=${1%%/*} pf=${1#*/} dest="$EROOT/var/db/pkg/${1%%/*}/${1#*/}" counter
  rm -rf "$dest"; mkdir -p "$EROOT/var/db/pkg/$cat"
  if [ -n "$VDB_AFTER" ] && [ -d "$VDB_AFTER/$cat/$pf" ]; then
    cp -R "$VDB_AFTER/$cat/$pf" "$dest"
  else
    counter=$(cat "$EROOT/var/cache/edb/counter" 2>/dev/null || echo 0); counter=$((counter + 1))
    mkdir -p "$dest"; echo "$counter" > "$dest/COUNTER"; echo "$counter" > "$EROOT/var/cache/edb/counter"
  fi
}
log_upto() { # k: append the recorded log lines up to the k-th
  local line
  while [ $records = 1 ] && [ "$written" -lt "$1" ] && [ "$written" -lt "${#log_lines[@]}" ]; do
    line=${log_lines[$written]}
    printf '%s\n' "$line" >> "$EROOT/var/log/emerge.log"
    if [[ $line =~ \ :::\ completed\ emerge\ \([0-9]+\ of\ [0-9]+\)\ ([^ ]+)\ to\  ]]; then
      install_entry "${BASH_REMATCH[1]}"
    fi
    written=$((written + 1))
  done
}
log_through() { # text [extra]: append through the next log line containing text, and extra more lines
  local i=$written
  while [ "$i" -lt "${#log_lines[@]}" ]; do
    if [[ ${log_lines[$i]} == *"$1"* ]]; then log_upto $((i + 1 + ${2:-0})); return; fi
    i=$((i + 1))
  done
}
shopt -s extglob
follow() { # an output line: keep the records in step with it
  [ $records = 1 ] || return 0
  local plain=${1//$'\e'\[*([0-9;])m/}
  if [[ $plain =~ ^\>\>\>\ Emerging\ (binary\ )?\(([0-9]+\ of\ [0-9]+)\)\ ([^:[:space:]]+) ]]; then
    log_through " >>> emerge (${BASH_REMATCH[2]}) ${BASH_REMATCH[3]} to " 1
  elif [[ $plain =~ ^\>\>\>\ Completed\ \(([0-9]+\ of\ [0-9]+)\)\ ([^:[:space:]]+) ]]; then
    log_through " ::: completed emerge (${BASH_REMATCH[1]}) ${BASH_REMATCH[2]} to "
  fi
}
finish() { # rc: the replay ended as the recorded run did
  log_upto "${#log_lines[@]}"
  [ $records = 1 ] && [ -n "$MTIMEDB" ] && cp "$MTIMEDB" "$EROOT/var/cache/edb/mtimedb"
  exit "$1"
}

if [ $pretend = 1 ] || { [ -z "$HANG_AFTER" ] && [ -z "$DIE_AFTER" ] && [ "$LINE_DELAY" = 0 ]; }; then
  cat "$file"; [ $pretend = 1 ] && exit "$rc"; finish "$rc"
fi
n=0
while IFS= read -r line || [ -n "$line" ]; do
  printf '%s\n' "$line"
  n=$((n + 1))
  follow "$line"
  [ -n "$HANG_AFTER" ] && [ "$n" -ge "$HANG_AFTER" ] && exec sleep 100000
  [ -n "$DIE_AFTER" ] && [ "$n" -ge "$DIE_AFTER" ] && exit "$DIE_RC"
  [ "$LINE_DELAY" != 0 ] && sleep "$LINE_DELAY"
done < "$file"
finish "$rc"
