#!/bin/bash
# Stand-in for Portage's and the admin's tools after a run (portageq, glsa-check, needrestart) in tests: replays
# what the real tool printed on a harness host (fixtures/followup/<case>/) and exits as it did (the "rcN" in the
# file name). Nothing is invented: it only chooses WHICH recording to replay, by the tool's arguments and by the
# host state a test's emerge stand-in last reached (the case named in CASE_FILE).
#
# Usage: tool-standin.sh CASE_FILE FIXTURES TOOL [arguments...]
#   CASE_FILE  line 1: the fixtures/followup case the host is in now ("03-after-update"); line 2, optional: the
#              needrestart state (recorded on a Debian host, not in the harness; default "plain")
#   FIXTURES   the fixtures/followup directory
#   TOOL       portageq | glsa-check | needrestart (needrestart cases are under FIXTURES/needrestart/<case>)
set -u
case_file=$1 fixtures=$2 tool=$3
shift 3
state=$(head -n1 "$case_file" 2>/dev/null) || { echo "tool-standin: no case in $case_file" >&2; exit 3; }
restart=$(sed -n 2p "$case_file" 2>/dev/null)
dir=$fixtures/$state
case "$tool $*" in
  "portageq envvar CONFIG_PROTECT CONFIG_PROTECT_MASK") name='portageq-envvar\.rc[0-9]+\.txt' ;;
  "portageq list_preserved_libs /") name='portageq-preserved\.rc[0-9]+\.txt' ;;
  "glsa-check -t all") name='glsa-check\.rc[0-9]+\.stdout' ;;
  "needrestart -b") dir=$fixtures/needrestart name="${restart:-plain}"'\.rc[0-9]+\.txt' ;;
  *) echo "tool-standin: no recording of '$tool $*'" >&2; exit 3 ;;
esac
file=$(ls "$dir" 2>/dev/null | grep -E "^$name\$" | head -n1)
[ -n "$file" ] || { echo "tool-standin: no recording $name in $dir" >&2; exit 3; }
file=$dir/$file
rc=$(basename "$file" | sed -n 's/.*\.rc\([0-9]*\)\..*$/\1/p')
cat "$file"
stderr=${file%.stdout}.stderr
[ "$stderr" = "$file.stderr" ] && stderr=${file%.txt}.stderr.txt
[ -f "$stderr" ] && cat "$stderr" >&2
exit "${rc:-0}"
