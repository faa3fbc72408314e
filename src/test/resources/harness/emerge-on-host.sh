#!/bin/bash
# emerge of the harness (/work/shared/harness) on one sandbox host, for HarnessTableTest (never in CI):
# emerge-on-host.sh HOST ARGS...; appends "<exit status> ARGS" of each call to $HARNESS_TABLE_CALLS.
host=$1
shift
HARNESS_HOST=$host "${HARNESS_DIR:-/work/shared/harness}/emerge-sandbox" "$@"
rc=$?
[[ -n ${HARNESS_TABLE_CALLS:-} ]] && printf '%d %s\n' "$rc" "$*" >>"$HARNESS_TABLE_CALLS"
exit $rc
