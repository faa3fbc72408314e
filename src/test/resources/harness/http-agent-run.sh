#!/bin/bash
# Runs the BUILT agent (target/quarkus-app) as an http slave against the REAL Portage of the harness (issue 15),
# in the sandbox http-record.sh left ($WORK, its snapshot slave-fresh): the master's signed binhost on
# 127.0.0.1:$BINHOST_PORT, the master's 01* configuration from an rsync daemon on 127.0.0.1:$RSYNC_PORT, the agent
# with binhost.packages.transport=http, its emerge the harness's (HARNESS_HOST=slave). Never in CI. ~4 minutes.
#
#   ./mvnw -B package -DskipTests && src/test/resources/harness/http-agent-run.sh     # writes $T
#
# 1. a triggered update run on the fresh slave: every binary fetched and verified, reported from Portage's records;
# 2. the slave restored, then a prefetch at its cron time and a triggered run after it: the run fetches only the
#    index (the binhost's access log says so).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT=$(cd "$HERE/../../../.." && pwd)
SHARED_HARNESS=${SHARED_HARNESS:-/work/shared/harness}
export WORK=${WORK:-/tmp/portage-work} HARNESS_PORT=${HARNESS_PORT:-18080} PORTAGE_SRC=${PORTAGE_SRC:-/tmp/portage-src}
. "$SHARED_HARNESS/env.sh"
BINHOST_PORT=${BINHOST_PORT:-18090} RSYNC_PORT=${RSYNC_PORT:-18873} PORT=${PORT:-19874}
T=${T:-/tmp/h15-agent}
case $WORK:$T in /tmp/*:/tmp/*) ;; *) echo "WORK and T must be under /tmp" >&2; exit 1 ;; esac
SNAP=$WORK/snapshots-h15
[[ -d $SNAP/slave-fresh ]] || { echo "no snapshot $SNAP/slave-fresh (run http-record.sh first)" >&2; exit 1; }
[[ -r $PROJECT/target/quarkus-app/quarkus-run.jar ]] || { echo "build the agent first (./mvnw -B package)" >&2; exit 1; }
rm -rf "$T"; mkdir -p "$T"
H=$WORK/hosts/slave
fail() { echo "FAIL: $*" | tee -a "$T/result.txt"; exit 1; }
ok() { echo "ok: $*" | tee -a "$T/result.txt"; }
restore() { rsync -a --delete "$SNAP/slave-fresh/host/" "$H/"; rsync -a --delete "$SNAP/slave-fresh/binpkgs/" "$PKGDIR_SHARED/"; }
answers() { python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$1)))"; }

pids=()
cleanup() { [[ -n ${agent_pid:-} ]] && stop_agent; for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap cleanup EXIT
for p in $HARNESS_PORT $BINHOST_PORT $RSYNC_PORT $PORT; do answers "$p" && fail "127.0.0.1:$p is already in use"; done
python3 -m http.server "$HARNESS_PORT" --bind 127.0.0.1 --directory "$UPSTREAM_DIR" >"$T/distfiles.log" 2>&1 &
pids+=($!)
python3 -m http.server "$BINHOST_PORT" --bind 127.0.0.1 --directory "$PKGDIR_SHARED" >"$T/binhost.log" 2>&1 &
pids+=($!)
# the master's generic configuration: one 01* file that changes nothing
mkdir -p "$T/master-config/package.use"
echo "# from the master (harness): nothing to set yet" >"$T/master-config/package.use/01master"
cat >"$T/rsyncd.conf" <<EOF
use chroot = no
[portage-config]
path = $T/master-config
read only = yes
EOF
rsync --daemon --no-detach --address=127.0.0.1 --port="$RSYNC_PORT" --config="$T/rsyncd.conf" \
	--log-file="$T/rsyncd.log" &
pids+=($!)
for p in $HARNESS_PORT $BINHOST_PORT $RSYNC_PORT; do
	for _ in $(seq 50); do answers "$p" && break; sleep 0.1; done
	answers "$p" || fail "nothing answers on 127.0.0.1:$p"
done

cat >"$T/emerge" <<EOF
#!/bin/bash
export WORK=$WORK HARNESS_PORT=$HARNESS_PORT PORTAGE_SRC=$PORTAGE_SRC
HARNESS_HOST=slave exec $SHARED_HARNESS/emerge-sandbox "\$@"
EOF
chmod +x "$T/emerge"
mkdir -p "$T/eroot"
ln -sfn "$H/rootfs/var" "$T/eroot/var"
ln -sfn "$H/upper/etc" "$T/eroot/etc"

agent_config() { # prefetch-cron or empty
	cat <<EOF
binhost.master.host=127.0.0.1
binhost.master.rsync-port=$RSYNC_PORT
binhost.master.nfs-check=none
binhost.master.probe-interval=2s
binhost.master.probe-jitter=0s
binhost.packages.transport=http
binhost.packages.url=http://127.0.0.1:$BINHOST_PORT
binhost.packages.binrepos=$T/eroot/etc/portage/binrepos.conf
binhost.packages.gnupg-dir=$T/eroot/etc/portage/gnupg
binhost.sync.portage-dir=$T/eroot/etc/portage
binhost.update.emerge-command=$T/emerge
binhost.update.eroot=$T/eroot
binhost.update.make-conf=$T/eroot/etc/portage/make.conf
binhost.update.cron=0 30 3 1 1 ? 2099
binhost.update.catch-up=false
binhost.agent.state-dir=$T/state
binhost.agent.log-dir=$T/log
binhost.control.socket=$T/control.sock
quarkus.http.port=$PORT
${1:+binhost.packages.prefetch-cron=$1}
EOF
}
agent_pid=
start_agent() { # name [prefetch-cron]
	agent_config "${2:-}" >"$T/$1.properties"
	# its own /proc (a pid namespace): another emerge on this machine must not put its runs off
	unshare --pid --fork --mount-proc --kill-child=SIGTERM -- env BINHOST_AGENT_HOME="$PROJECT/target" \
		BINHOST_AGENT_CONFIG="$T/$1.properties" "$PROJECT/deploy/bin/binhost-agent" run >"$T/$1-agent.log" 2>&1 &
	agent_pid=$!
	pids+=($agent_pid)
	for _ in $(seq 100); do
		[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/q/health/ready") == 200 ]] && return 0
		sleep 0.3
	done
	curl -s "http://127.0.0.1:$PORT/q/health/ready" >"$T/$1-ready.json"
	fail "$1: the agent did not get ready: $(cat "$T/$1-ready.json")"
}
# unshare --fork ignores SIGTERM while it waits: the agent (its child, pid 1 of the namespace) is stopped by its pid
stop_agent() {
	local child
	child=$(cat "/proc/$agent_pid/task/$agent_pid/children" 2>/dev/null)
	[[ -n $child ]] && kill $child
	wait "$agent_pid" 2>/dev/null
}
cli() { BINHOST_AGENT_HOME=$PROJECT/target BINHOST_AGENT_CONFIG=$T/$1.properties "$PROJECT/deploy/bin/binhost-agent" "${@:2}"; }
last_run() { # name: the last history line
	tail -n 1 "$T/state/history.jsonl" 2>/dev/null
}
await_runs() { # n: until the history has n lines
	for _ in $(seq 400); do
		[[ -f $T/state/history.jsonl && $(wc -l <"$T/state/history.jsonl") -ge $1 ]] && return 0
		sleep 1
	done
	fail "no run recorded within 400 s"
}
json() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$1" "$2"; }

# ------------------------------------------------------------ 1. a triggered run on the fresh slave
restore
start_agent first
ok "first: ready with the binhost's index ($(curl -s "http://127.0.0.1:$PORT/q/health/ready" | tr -d ' \n' | cut -c1-160))"
cli first check >"$T/first-check.txt" 2>&1
cli first trigger >"$T/first-trigger.txt" 2>&1
await_runs 1
r=$(last_run)
echo "$r" >"$T/first-run.json"
[[ $(json "$r" 'd["outcome"]') == success ]] || fail "first run: $(json "$r" 'd["outcome"]+": "+d["message"]')"
ok "first run: $(json "$r" 'd["message"]'); fetched $(json "$r" 'd["plan"].get("fetched")'), installed binary $(json "$r" 'd["installedBinary"]'), compiled $(json "$r" 'd["installedCompiled"]')"
grep -c '"GET /[^ ]*\.gpkg\.tar HTTP' "$T/binhost.log" >"$T/first-binpkg-requests.txt"
ok "first: the binhost served $(cat "$T/first-binpkg-requests.txt") binpkgs; $H/upper/etc/portage/binrepos.conf/binhost-agent.conf: $(grep -c . "$H/upper/etc/portage/binrepos.conf/binhost-agent.conf") lines, written by the agent: $(head -1 "$H/upper/etc/portage/binrepos.conf/binhost-agent.conf")"
cli first status >"$T/first-status.txt" 2>&1
curl -s "http://127.0.0.1:$PORT/q/metrics" | grep -E '^binhost_(update_packages|master_probe|binhost|prefetch)' >"$T/first-metrics.txt"
stop_agent

# ------------------------------------------------------------ 2. prefetch at its cron time, then the run
restore
rm -rf "$T/state"
: >"$T/binhost.log.mark"
start_agent second "0/30 * * * * ?"
for _ in $(seq 120); do
	[[ -f $T/state/prefetch-last.json ]] && break
	sleep 1
done
[[ -f $T/state/prefetch-last.json ]] || fail "no prefetch within 120 s"
p=$(cat "$T/state/prefetch-last.json")
[[ $(json "$p" 'd["outcome"]') == success ]] || fail "prefetch: $p"
ok "prefetch: $(json "$p" 'd["message"]')"
before=$(wc -l <"$T/binhost.log")
cli second trigger >"$T/second-trigger.txt" 2>&1
await_runs 1
r=$(last_run)
echo "$r" >"$T/second-run.json"
[[ $(json "$r" 'd["outcome"]') == success ]] || fail "run after the prefetch: $(json "$r" 'd["message"]')"
tail -n +$((before + 1)) "$T/binhost.log" | grep -o '"GET [^"]*" [0-9]*' | sort | uniq -c >"$T/second-requests.txt"
ok "run after the prefetch: $(json "$r" 'd["message"]'); binhost requests during it: $(tr -s ' ' <"$T/second-requests.txt" | tr '\n' ';')"
grep -q 'gpkg.tar' "$T/second-requests.txt" && fail "the run fetched a binpkg again: $(cat "$T/second-requests.txt")"
grep -c 'Fetching Binary' "$H/rootfs/var/log/emerge.log" >"$T/second-fetching-lines.txt"; ok "emerge.log: $(cat "$T/second-fetching-lines.txt") Fetching Binary lines"
cli second status >"$T/second-status.txt" 2>&1
stop_agent
restore
echo "== done: $T"
