#!/bin/bash
# Stand-in for Portage's and the admin's tools after a run (portageq, glsa-check, needrestart) in tests: replays
# what the real tool printed on a harness host (fixtures/followup/<case>/) and exits as it did (the "rcN" in the
# file name). Nothing is invented: it only chooses WHICH recording to replay, by the tool's arguments and by the
# host state a test's emerge stand-in last reached (the case named in CASE_FILE).
#
# Usage: tool-standin.sh CASE_FILE FIXTURES TOOL [arguments...]
#   CASE_FILE  holds one line: the fixtures/followup case the host is in now ("03-after-update")
#   FIXTURES   the fixtures/followup directory
#   TOOL       portageq | glsa-check | needrestart (needrestart cases are under FIXTURES/needrestart/<case>)
set -u
case_file=$1 fixtures=$2 tool=$3
shift 3
state=$(head -n1 "$case_file" 2>/dev/null) || { echo "tool-standin: no case in $case_file" >&2; exit 3; }
dir=$fixtures/$state
case "$tool $*" in
  "portageq envvar CONFIG_PROTECT CONFIG_PROTECT_MASK") pattern="$dir/portageq-envvar.rc*.txt" ;;
  "portageq list_preserved_libs /") pattern="$dir/portageq-preserved.rc*.txt" ;;
  "glsa-check -t all") pattern="$dir/glsa-check.rc*.stdout" ;;
  "needrestart -b") pattern="$fixtures/needrestart/$state.rc*.txt" ;;
  *) echo "tool-standin: no recording of '$tool $*'" >&2; exit 3 ;;
esac
# shellcheck disable=SC2086
file=$(ls $pattern 2>/dev/null | head -n1)
[ -n "$file" ] || { echo "tool-standin: no recording $pattern" >&2; exit 3; }
rc=$(basename "$file" | sed -n 's/.*\.rc\([0-9]*\)\..*$/\1/p')
cat "$file"
[ -f "${file%.stdout}.stderr" ] && [ "${file%.stdout}" != "$file" ] && cat "${file%.stdout}.stderr" >&2
exit "${rc:-0}"
