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
set -u
scenario="$1"; shift
PRETEND=""; MERGE=""; RESUME=""; LINE_DELAY=0; HANG_AFTER=""; DIE_AFTER=""; DIE_RC=1; ARGS_LOG=""
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

if [ $pretend = 1 ] || { [ -z "$HANG_AFTER" ] && [ -z "$DIE_AFTER" ] && [ "$LINE_DELAY" = 0 ]; }; then
  cat "$file"; exit "$rc"
fi
n=0
while IFS= read -r line || [ -n "$line" ]; do
  printf '%s\n' "$line"
  n=$((n + 1))
  [ -n "$HANG_AFTER" ] && [ "$n" -ge "$HANG_AFTER" ] && exec sleep 100000
  [ -n "$DIE_AFTER" ] && [ "$n" -ge "$DIE_AFTER" ] && exit "$DIE_RC"
  [ "$LINE_DELAY" != 0 ] && sleep "$LINE_DELAY"
done < "$file"
exit "$rc"
