#!/bin/bash
# Runs the opt-in HarnessFollowUpTest (the update runner with its follow-ups) against the REAL Portage of the
# harness (never in CI). Needs what followup-record.sh needs (root, unshare, overlayfs, python3, Portage's source
# tree at $PORTAGE_SRC, never copied into the project) and the project's Maven repository (offline). ~6 minutes.
#
#   sudo src/test/resources/harness/followup-agent-run.sh      # stage, then run the test; log: $LOGFILE
#   SKIP_STAGE=1 ... followup-agent-run.sh                     # reuse the snapshot at $SNAP
#   WORK=/tmp/pw14 HARNESS_PORT=18081 H14=/tmp/h14 SNAP=/tmp/pw14-snap42 T=/tmp/hf LOGFILE=/tmp/harness-followup.log
#
# 1. Stage: followup-record.sh cut off after the master's update build, its @preserved-rebuild and the slave
#    admin's edit of demo-daemon.conf (record 42's state), then the slave host and the shared PKGDIR are copied
#    to $SNAP/{slave,binpkgs}. (Its copy of the harness, with the glsa-check tool, is at $H14/harness.)
# 2. Wrappers in $T: emerge, portageq, glsa-check on the slave (HARNESS_TOOL picks the tool), restore (puts
#    $SNAP back), eroot/ (var -> the slave's rootfs/var, etc -> its upper/etc).
# 3. The distfile server on 127.0.0.1:$HARNESS_PORT, the test, the server stopped. Rows: "HARNESS-FOLLOWUP |".
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT=$(cd "$HERE/../../../.." && pwd)
export WORK=${WORK:-/tmp/pw14} HARNESS_PORT=${HARNESS_PORT:-18081} PORTAGE_SRC=${PORTAGE_SRC:-/tmp/portage-src}
H14=${H14:-/tmp/h14} SNAP=${SNAP:-/tmp/pw14-snap42} T=${T:-/tmp/hf} LOGFILE=${LOGFILE:-/tmp/harness-followup.log}
case $WORK:$H14:$SNAP:$T in /tmp/*:/tmp/*:/tmp/*:/tmp/*) ;; *) echo "WORK, H14, SNAP and T must be under /tmp" >&2; exit 1 ;; esac
mkdir -p "$T"

# ------------------------------------------------------------ 1. stage record 42's state and snapshot it
if [[ ${SKIP_STAGE:-} != 1 ]]; then
	n=$(grep -n 'local edit by the slave' "$HERE/followup-record.sh" | cut -d: -f1)
	[[ -n $n ]] || { echo "followup-record.sh: the admin's edit line not found" >&2; exit 1; }
	{
		head -n "$n" "$HERE/followup-record.sh"
		cat <<EOF

echo "== snapshot of record 42's state (slave and shared PKGDIR) in $SNAP"
rm -rf "$SNAP" && mkdir -p "$SNAP"
cp -a "\$WORK/hosts/slave" "$SNAP/slave" && cp -a "\$WORK/binpkgs" "$SNAP/binpkgs" || exit 1
echo "done: $SNAP"
EOF
	} >"$T/stage.sh"
	echo "== stage (log $T/stage.log)"
	H14=$H14 OUT=$H14/out-snap42 bash "$T/stage.sh" >"$T/stage.log" 2>&1 || { tail -20 "$T/stage.log"; exit 1; }
fi
[[ -d $SNAP/slave && -d $SNAP/binpkgs ]] || { echo "no snapshot at $SNAP" >&2; exit 1; }

# ------------------------------------------------------------ 2. wrappers, restore, EROOT view
for t in emerge portageq glsa-check; do
	cat >"$T/$t" <<EOF
#!/bin/bash
export WORK=$WORK HARNESS_PORT=$HARNESS_PORT PORTAGE_SRC=$PORTAGE_SRC
HARNESS_HOST=slave HARNESS_TOOL=$t exec $H14/harness/emerge-sandbox "\$@"
EOF
	chmod +x "$T/$t"
done
cat >"$T/restore" <<EOF
#!/bin/bash
set -e
rm -rf "$WORK/hosts/slave" "$WORK/binpkgs"
cp -a "$SNAP/slave" "$WORK/hosts/slave"
cp -a "$SNAP/binpkgs" "$WORK/binpkgs"
EOF
chmod +x "$T/restore"
mkdir -p "$T/eroot"
ln -sfn "$WORK/hosts/slave/rootfs/var" "$T/eroot/var"
ln -sfn "$WORK/hosts/slave/upper/etc" "$T/eroot/etc"

# ------------------------------------------------------------ 3. distfile server (loopback only) and the test
python3 -m http.server "$HARNESS_PORT" --bind 127.0.0.1 --directory "$WORK/upstream" >"$T/httpd.log" 2>&1 &
httpd_pid=$!
trap 'kill "$httpd_pid" 2>/dev/null' EXIT
sleep 1
cd "$PROJECT" || exit 1
start=$(date +%s)
BINHOST_TEST_HARNESS_FOLLOWUP=1 BINHOST_TEST_HARNESS_EMERGE=$T/emerge BINHOST_TEST_HARNESS_PORTAGEQ=$T/portageq \
	BINHOST_TEST_HARNESS_GLSA_CHECK=$T/glsa-check BINHOST_TEST_HARNESS_EROOT=$T/eroot \
	BINHOST_TEST_HARNESS_RESTORE="$T/restore" \
	./mvnw -o test -Dtest=HarnessFollowUpTest >"$LOGFILE" 2>&1
rc=$?
grep -E 'HARNESS-FOLLOWUP \||Tests run:' "$LOGFILE"
echo "maven rc $rc, $(($(date +%s) - start)) s, log $LOGFILE"
exit $rc
