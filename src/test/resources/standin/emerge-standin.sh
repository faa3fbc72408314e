#!/bin/bash
# Stand-in for emerge in tests and the demo: replays a real emerge output captured in fixtures/emerge and exits
# with the exit status that run had (the "rcN" in the file name). Nothing is invented: it only chooses WHICH
# real output to replay from its arguments, and can stop early to play a hang or a crash half-way.
#
# Usage: emerge-standin.sh SCENARIO_FILE [emerge arguments...]
# SCENARIO_FILE is sourced by bash and sets (or defines a function choose, called with the emerge arguments,
# that sets them per call: a sequence of recorded runs, one per call):
#   PRETEND=<fixture>   replayed when the arguments contain --pretend (or -p)
#   MERGE=<fixture>     replayed for a real run
#   RESUME=<fixture>    replayed for --resume (defaults to MERGE)
#   LINE_DELAY=<secs>   pause after each line, so a run takes time and progress can be watched
#   HANG_AFTER=<n>      real run: after n lines, stop writing and sleep (plays a build that hangs)
#   DIE_AFTER=<n>       real run: after n lines, exit with DIE_RC (plays emerge dying half-way)
#   DIE_RC=<code>       exit status for DIE_AFTER (default 1)
#   ARGS_LOG=<file>     each call appends its arguments as one line, so tests see what the agent ran
#   DEPCLEAN=<fixture>  replayed for --depclean (a recorded `emerge --pretend --depclean`); without it such a call
#                       says there is no recording and exits 3
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
#   ASK_NO_LOG=<file>   with --ask answered No: the emerge.log lines that session wrote (instead of MERGE_LOG)
#   DOWNLOADS=<file>    the recorded run's downloads.txt (path under the root, size): when a replayed line says a
#                       fetched binary passed its digest check (" * <file> MD5 SHA1 size ;-) ... [ ok ]") or was
#                       renamed after failing it ("File renamed to '<path>'"), that file is put at its recorded
#                       path under EROOT with its recorded size (contents not kept)
#   ASK=<fixture>       replayed for --ask: a real transcript of `emerge --ask --verbose …` on a pseudo-terminal,
#                       answered Yes (or one that ends without a question: nothing to merge, a failed plan)
#   ASK_NO=<fixture>    the real transcript of the same call answered No
#   ASK_REFUSED=<fixture> what real emerge printed for --ask with stdin not a terminal (default: the recorded one)
# With --ask, as real emerge does: stdin not a terminal replays ASK_REFUSED; otherwise the transcript is replayed up
# to and including its question ("… [Yes/No] ", no line end), a line is read from stdin, and the rest of the
# transcript recorded for that answer follows (Yes: ASK, No: ASK_NO). The recorded echo of the answer is skipped:
# the terminal echoes what was typed. End of input without an answer, or an answer with no recording, exits 3.
# HANG_AFTER, DIE_AFTER and LINE_DELAY count lines from the transcript's start, so they can play a plan that hangs.
set -u
scenario="$1"; shift
PRETEND=""; MERGE=""; RESUME=""; DEPCLEAN=""; LINE_DELAY=0; HANG_AFTER=""; DIE_AFTER=""; DIE_RC=1; ARGS_LOG=""
EROOT=""; MERGE_LOG=""; VDB_AFTER=""; MTIMEDB=""; MTIMEDB_DURING=""; ASK_NO_LOG=""; DOWNLOADS=""
ASK=""; ASK_NO=""; ASK_REFUSED="$(dirname "$(readlink -f "$0")")/../fixtures/ask/ask-refused.rc1.txt"
# shellcheck disable=SC1090
source "$scenario"
# a scenario of several recorded runs in a row defines choose(): it sets the variables above from this call's
# arguments (which recorded run this call is), and may lay out what that run left on disk
if declare -F choose >/dev/null; then choose "$@"; fi
[ -n "$ARGS_LOG" ] && printf '%s\n' "$*" >> "$ARGS_LOG"

pretend=0; resume=0; ask=0
for a in "$@"; do
  case "$a" in
    --pretend|-p|-pv|-vp) pretend=1 ;;
    --resume|-r) resume=1 ;;
    --ask|-a) ask=1 ;;
  esac
done

rc_of() { local rc; rc=$(basename "$1" | sed -n 's/.*\.rc\([0-9]*\)\.txt$/\1/p'); echo "${rc:-0}"; }
for a in "$@"; do
  if [ "$a" = --depclean ]; then
    [ -n "$DEPCLEAN" ] || { echo "emerge-standin: no recording of emerge $*" >&2; exit 3; }
    cat "$DEPCLEAN"; exit "$(rc_of "$DEPCLEAN")"
  fi
done
n=0
# replay_lines FILE FROM [TO]: lines FROM..TO (1-based, TO empty = to the end), each with its \r\n (a recording
# made through a terminal that added them) written as \n; honours LINE_DELAY, HANG_AFTER, DIE_AFTER
replay_lines() {
  local file=$1 from=$2 to=${3:-} i=0 line
  while IFS= read -r line || [ -n "$line" ]; do
    i=$((i + 1))
    [ "$i" -lt "$from" ] && continue
    [ -n "$to" ] && [ "$i" -gt "$to" ] && break
    printf '%s\n' "${line%$'\r'}"
    follow "$line"
    n=$((n + 1))
    [ -n "$HANG_AFTER" ] && [ "$n" -ge "$HANG_AFTER" ] && exec sleep 100000
    [ -n "$DIE_AFTER" ] && [ "$n" -ge "$DIE_AFTER" ] && exit "$DIE_RC"
    [ "$LINE_DELAY" != 0 ] && sleep "$LINE_DELAY"
  done < "$file"
}
# the question's line number, found with colour codes removed (with --color=y or TERM not dumb they sit inside it)
question_line() { sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$1" | grep -n -m1 -F '[Yes/No] ' | cut -d: -f1; }


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
downloaded() { # file name: the recorded download of that name, at its recorded path and size
  local path size
  [ -n "$EROOT" ] && [ -n "$DOWNLOADS" ] || return 0
  while IFS=$'\t' read -r path size; do
    if [ "${path##*/}" = "$1" ]; then
      mkdir -p "$EROOT/$(dirname "$path")"; rm -f "$EROOT/$path"; truncate -s "$size" "$EROOT/$path"; return 0
    fi
  done < "$DOWNLOADS"
}
follow_download() { # an output line: a fetched binary that passed its digest check, or one renamed after failing
  if [[ $1 =~ ^\ \*\ ([^ ]+\.(gpkg\.tar|xpak|tbz2))\ .*\;-\)\ \.\.\. ]]; then
    downloaded "${BASH_REMATCH[1]}"
  elif [[ $1 =~ ^File\ renamed\ to\ \'(.+)\'$ ]]; then
    downloaded "${BASH_REMATCH[1]##*/}"
  fi
}
follow() { # an output line: keep the records in step with it
  follow_download "$1"
  [ $records = 1 ] || return 0
  local plain=${1//$'\e'\[*([0-9;])m/}
  if [[ $plain =~ ^\>\>\>\ Emerging\ (binary\ )?\(([0-9]+\ of\ [0-9]+)\)\ ([^:[:space:]]+) ]]; then
    log_through " >>> emerge (${BASH_REMATCH[2]}) ${BASH_REMATCH[3]} to " 1
  elif [[ $plain =~ ^\>\>\>\ Completed\ \(([0-9]+\ of\ [0-9]+)\)\ ([^:[:space:]]+) ]]; then
    log_through " ::: completed emerge (${BASH_REMATCH[1]}) ${BASH_REMATCH[2]} to "
  fi
}
finish() { # rc: the replay ended as the recorded run did
  local line
  if [ -n "$DOWNLOADS" ] && [ -n "${file:-}" ]; then
    while IFS= read -r line; do follow_download "$line"; done < "$file"
  fi
  log_upto "${#log_lines[@]}"
  [ $records = 1 ] && [ -n "$MTIMEDB" ] && cp "$MTIMEDB" "$EROOT/var/cache/edb/mtimedb"
  exit "$1"
}

if [ $ask = 1 ] && [ $pretend = 0 ]; then
  if ! [ -t 0 ]; then
    cat "$ASK_REFUSED"; exit "$(rc_of "$ASK_REFUSED")"
  fi
  [ -r "$ASK" ] || { echo "emerge-standin: no fixture for --ask: '$ASK'" >&2; exit 3; }
  q=$(question_line "$ASK")
  if [ -z "$q" ]; then
    replay_lines "$ASK" 1; finish "$(rc_of "$ASK")"
  fi
  replay_lines "$ASK" 1 $((q - 1))
  # the question as emerge printed it: its recorded line without the terminal's echo of the answer after "] "
  question=$(sed -n "${q}p" "$ASK"); question=${question%'] '*}'] '
  printf '%s' "$question"
  IFS= read -r answer || { echo "emerge-standin: stdin ended without an answer (no recording of that)" >&2; exit 3; }
  answer=${answer%$'\r'}
  case "$(printf '%s' "$answer" | tr '[:lower:]' '[:upper:]')" in
    Y|YE|YES) file="$ASK" ;;
    N|NO) file="$ASK_NO" ;;
    *) echo "emerge-standin: no recording for the answer '$answer'" >&2; exit 3 ;;
  esac
  [ -r "$file" ] || { echo "emerge-standin: no fixture for the answer '$answer': '$file'" >&2; exit 3; }
  q=$(question_line "$file")
  if [ "$file" = "$ASK_NO" ]; then
    # answered No: the recorded log lines of that session, if given, and no merge
    if [ -n "$ASK_NO_LOG" ] && [ $records = 1 ]; then mapfile -t log_lines < "$ASK_NO_LOG"; else records=0; fi
  fi
  replay_lines "$file" $((q + 1)); finish "$(rc_of "$file")"
fi


if [ $pretend = 1 ]; then file="$PRETEND"; elif [ $resume = 1 ]; then file="${RESUME:-$MERGE}"; else file="$MERGE"; fi
[ -r "$file" ] || { echo "emerge-standin: no fixture for this call: '$file'" >&2; exit 3; }
rc=$(rc_of "$file")

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
