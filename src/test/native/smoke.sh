#!/bin/bash
# Smoke test of a built agent, native or JVM: start, health, CLI, update runs with the stand-in emerge, a config
# pull from the demo's loopback rsync daemon, the state directory's flock, kill through the binding, and the
# three bugs the first native build had (issue 17): configuration validation skipped, an interrupted run lost,
# every history line read as torn.
#
# Usage: smoke.sh PROJECT_DIR EXECUTABLE            a native executable
#        smoke.sh PROJECT_DIR JAVA -jar JAR [JVM flags...]   the jar on a JVM
#   e.g. smoke.sh . target/binhost-agent-0.1.0-SNAPSHOT-runner
#        smoke.sh . java -jar target/quarkus-app/quarkus-run.jar -XX:TieredStopAtLevel=1
# Root only (each agent runs in a pid namespace of its own, so no other process on the machine can block or
# answer it). Everything lives in a scratch directory, removed at the end; processes are stopped by pid.
# Prints one line per check and the figures (exec -> live, CLI status latency); exits 1 on the first failure.
set -euo pipefail
PROJECT=$(readlink -f "$1"); shift
[[ $# -gt 0 ]] || { echo "usage: smoke.sh PROJECT_DIR EXECUTABLE | JAVA -jar JAR [JVM flags...]" >&2; exit 2; }
if [[ ${2:-} == -jar ]]; then
    JAVA=$(readlink -f "$(command -v "$1")"); JAR=$(readlink -f "$3"); shift 3; JVM_FLAGS=("$@")
else
    EXE=$(readlink -f "$1"); JAR=""; JVM_FLAGS=()
fi
# argv OPTIONS... -- ARGS...: sets ARGV to the agent's command line; system properties go before -jar on a JVM,
# on the command line of a native executable
argv() {
    local opts=()
    while [[ $# -gt 0 && $1 != -- ]]; do opts+=("$1"); shift; done
    [[ ${1:-} == -- ]] && shift
    if [[ -n $JAR ]]; then
        ARGV=("$JAVA" "${JVM_FLAGS[@]}" "${opts[@]}" -jar "$JAR" "$@")
    else
        ARGV=("$EXE" "${opts[@]}" "$@")
    fi
}
agent() { argv "$@"; "${ARGV[@]}"; }
[[ $(id -u) == 0 ]] || { echo "smoke: needs root (pid namespaces)" >&2; exit 2; }
for t in curl jq rsync unshare; do command -v $t >/dev/null || { echo "smoke: $t is missing" >&2; exit 2; }; done

T=$(mktemp -d /tmp/binhost-smoke.XXXXXX)
PORT=$((20000 + RANDOM % 20000))
ns_pid=''    # the unshare process; the agent is its child, pid 1 of the namespace
cd "$T"
ln -s "$PROJECT/src" src      # the demo profile names the stand-in emerge and the fixtures by relative path
mkdir -p target

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
ok() { echo "smoke: ok: $*"; }
now_ms() { date +%s%3N; }

# The hanging scenario: the demo's recorded run, stopping after 30 lines (a build that hangs)
cat > "$T/hang.sh" <<EOF
source src/test/resources/standin/demo-mixed.sh
HANG_AFTER=30
EOF

COMMON=(-Dquarkus.profile=demo -Dquarkus.http.port=$PORT -Dbinhost.update.cron="0 0 4 29 2 ?"
    -Dbinhost.update.random-delay=0s -Dbinhost.update.catch-up=false)

cleanup() {
    local rc=$?
    if [[ $rc != 0 ]]; then
        echo "smoke: FAILED (exit $rc); the agent's log, last 40 lines:" >&2
        tail -40 "$T/agent.log" >&2 || true
    fi
    stop_agent KILL || true
    rm -rf "$T"
}
trap cleanup EXIT

start_agent() { # extra -D options
    : > "$T/agent.log"
    local t0; t0=$(now_ms)
    argv "${COMMON[@]}" "$@"
    unshare --pid --fork --mount-proc --kill-child=SIGKILL -- "${ARGV[@]}" >> "$T/agent.log" 2>&1 &
    ns_pid=$!
    local code=''
    for _ in $(seq 600); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/q/health/live" || true)
        [[ $code == 200 ]] && break
        kill -0 $ns_pid 2>/dev/null || fail "agent exited at start"
        sleep 0.05
    done
    [[ $code == 200 ]] || fail "live never answered 200"
    LIVE_MS=$(( $(now_ms) - t0 ))
}
agent_pid() { cat "/proc/$ns_pid/task/$ns_pid/children" 2>/dev/null | awk '{print $1}'; }
stop_agent() { # TERM (default) or KILL
    [[ -n $ns_pid ]] || return 0
    local child; child=$(agent_pid)
    [[ -n $child ]] && kill -"${1:-TERM}" "$child" 2>/dev/null
    local rc=0
    wait "$ns_pid" 2>/dev/null || rc=$?
    ns_pid=''
    STOP_RC=$rc
}
# the first of the agent's descendants running the stand-in emerge (host pid)
standin_pid() {
    local p
    for p in /proc/[0-9]*; do
        tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q 'emerge-standin.sh' || continue
        if pstree_has "$(agent_pid)" "${p#/proc/}"; then echo "${p#/proc/}"; return; fi
    done
}
pstree_has() { # ancestor pid, pid
    local p=$2
    while [[ -n $p && $p != 0 && $p != 1 ]]; do
        [[ $p == "$1" ]] && return 0
        p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)
    done
    return 1
}
cli() { agent -Dquarkus.profile=demo -- "$@"; }
health() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/q/health/$1"; }
wait_for() { # seconds, description, condition (a string, evaluated afresh each time)
    local secs=$1 what=$2 cond=$3
    local end=$(( $(date +%s) + secs ))
    until eval "$cond"; do
        if (( $(date +%s) >= end )); then
            echo "smoke: $what: not within ${secs}s" >&2
            return 1
        fi
        sleep 0.2
    done
}
history_json() { cli history --json -n 50; }
last_outcome() { history_json | jq -r 'if type == "array" then .[-1].outcome else .outcome end' 2>/dev/null | tail -1; }
running() { cli status --json | jq -r '.update.running != null'; }
runs() { history_json | jq -s 'flatten | length'; }

# --- bad configuration stops start-up with exit 78 and names the key (native: ConfigCheck found no checks)
bad() {
    local key=$1 value=$2 rc=0
    argv "${COMMON[@]}" "-D$key=$value"
    unshare --pid --fork --mount-proc --kill-child=SIGKILL -- "${ARGV[@]}" > "$T/bad.out" 2>&1 || rc=$?
    [[ $rc == 78 ]] || { cat "$T/bad.out" >&2; fail "$key=$value: exit $rc, expected 78"; }
    grep -F -- "$key" "$T/bad.out" | grep -qF -- "$value" \
        || { cat "$T/bad.out" >&2; fail "$key=$value: no error line names the key and the value"; }
    ok "$key=$value refused with exit 78: $(grep -F -m1 -- "$key" "$T/bad.out")"
}
bad binhost.master.host 'bad_host!'
bad binhost.update.run-deadline -5s

# --- first start: health, config pull, CLI, the flock, one update run
start_agent
FIRST_LIVE_MS=$LIVE_MS
ok "live after ${LIVE_MS} ms (exec -> /q/health/live 200)"
wait_for 60 "ready 200 (master UP, config pulled)" 'test "$(health ready)" = 200' \
    || fail "ready: $(curl -s "http://127.0.0.1:$PORT/q/health/ready")"
wait_for 30 "started 200" 'test "$(health started)" = 200'
ok "health live/ready/started 200"

live=target/demo/slave/etc/portage
[[ -f $live/make.conf/01master ]] || fail "make.conf/01master not pulled into $live"
[[ ! -e $live/make.conf/02master ]] || fail "the master's own make.conf/02master travelled"
[[ -f $live/make.conf/02slave ]] || fail "the slave's make.conf/02slave is gone"
pulled=$(cli status --json | jq -r '.config.lastOutcome')
[[ $pulled == APPLIED || $pulled == UNCHANGED ]] || fail "status config.lastOutcome is '$pulled'"
ok "config pulled from the loopback rsync daemon: $(cd $live && find . -type f | wc -l) files; the master's 02* stayed there, the slave's 02* kept"

t0=$(now_ms); cli status > "$T/status.txt"; STATUS_MS=$(( $(now_ms) - t0 ))
grep -qi 'master.*UP' "$T/status.txt" || { cat "$T/status.txt"; fail "CLI status does not say the master is UP"; }
ok "CLI status in ${STATUS_MS} ms: $(grep -i -m1 'master' "$T/status.txt")"
# GET /status (a Vert.x route, Jackson made on the first request) is the socket's report, read-only
curl -fs "http://127.0.0.1:$PORT/status" > "$T/status.json" || fail "GET /status failed"
[[ $(jq -r '.master.host' "$T/status.json") == 127.0.0.1 && $(jq -r '.agent.pid' "$T/status.json") =~ ^[0-9]+$ ]] \
    || { cat "$T/status.json"; fail "GET /status does not hold the agent's and the master's sections"; }
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/status")
[[ $code == 405 ]] || fail "POST /status answered $code, expected 405"
ok "GET /status holds the report (master $(jq -r '.master.host' "$T/status.json")), POST /status is 405"

# the second agent runs in a pid namespace of its own too; the holder's pid it names is the first one's there (1)
argv "${COMMON[@]}" -Dquarkus.http.port=$((PORT + 1))
rc=0; timeout 60 unshare --pid --fork --mount-proc --kill-child=SIGKILL -- "${ARGV[@]}" > "$T/second.out" 2>&1 || rc=$?
[[ $rc == 75 ]] || { cat "$T/second.out"; fail "a second agent on the same state directory: exit $rc, expected 75"; }
grep -q 'another binhost-agent (pid 1) already runs' "$T/second.out" \
    || { cat "$T/second.out"; fail "the second agent does not name the lock's holder"; }
ok "second agent refused by the flock (exit 75): $(grep -m1 'another binhost-agent' "$T/second.out")"

cli trigger > "$T/trigger.out" || { cat "$T/trigger.out"; fail "CLI trigger failed"; }
grep -q 'queued' "$T/trigger.out" || { cat "$T/trigger.out"; fail "trigger did not queue a run"; }
wait_for 120 "the triggered run in history" 'test "$(runs)" = 1' || { history_json; fail "history: $(runs) runs"; }
[[ $(last_outcome) == success ]] || { history_json; fail "the run's outcome is $(last_outcome)"; }
counts=$(history_json | jq -s -r 'flatten | .[-1] | "\(.plan.binaries // .binaries) binaries, \(.plan.compiled // .compiled) built"')
ok "CLI trigger -> one run, success, $counts"
cli history > "$T/history.txt"
grep -q success "$T/history.txt" || { cat "$T/history.txt"; fail "CLI history does not show the run"; }
curl -s "http://127.0.0.1:$PORT/q/metrics" | grep -q '^binhost_update_runs_total{.*outcome="success".*} 1' \
    || fail "metrics: binhost_update_runs_total{outcome=success} is not 1"
ok "history (text and JSON) and metrics show the run"

stop_agent TERM
[[ $STOP_RC == 0 || $STOP_RC == 143 ]] || fail "SIGTERM: the agent exited $STOP_RC"
ok "stopped by SIGTERM (exit $STOP_RC)"

# --- second start, with the hanging scenario and a short run deadline: the history is read back, a run killed
# by SIGKILL of the agent is recorded as interrupted on the next start, and a run past its deadline is killed
HANG=(-Dbinhost.update.emerge-command="src/test/resources/standin/emerge-standin.sh,$T/hang.sh"
    -Dbinhost.update.run-deadline=8s)
start_agent "${HANG[@]}"
wait_for 30 "started 200 after restart" 'test "$(health started)" = 200'
last=$(cli status --json | jq -r '.update.last.outcome')
[[ $last == success ]] || fail "after restart status update.last.outcome is '$last' (history not read back)"
! grep -q 'unusable' "$T/agent.log" || fail "the agent skipped history lines: $(grep -m1 unusable "$T/agent.log")"
ok "restart read the history back: update.last = success, no line skipped"

cli trigger > /dev/null
wait_for 30 "the run to be running" 'test "$(running)" = true'
wait_for 30 "the run marker" 'test -s target/demo/slave/var/lib/binhost-agent/current-run.json'
sleep 1
stop_agent KILL
ok "agent killed (SIGKILL) during a run; marker $(jq -r '.record.id' target/demo/slave/var/lib/binhost-agent/current-run.json)"

start_agent "${HANG[@]}"
wait_for 30 "started 200 after the crash" 'test "$(health started)" = 200'
wait_for 30 "the interrupted run in history" 'test "$(runs)" = 2'
[[ $(last_outcome) == interrupted ]] || { history_json; fail "the crashed run's outcome is $(last_outcome)"; }
ok "the run the crash cut short is in history as interrupted"

cli trigger > /dev/null
wait_for 30 "the run to be running" 'test "$(running)" = true'
emerge_pid=$(standin_pid)
[[ -n $emerge_pid ]] || fail "no stand-in emerge running in the agent's namespace"
wait_for 60 "the timed-out run in history" 'test "$(runs)" = 3'
[[ $(last_outcome) == timed-out ]] || { history_json; fail "the hanging run's outcome is $(last_outcome)"; }
[[ ! -s /proc/$emerge_pid/cmdline ]] || fail "the stand-in emerge (pid $emerge_pid) survived its deadline"
ok "the hanging run was killed at its deadline (stand-in pid $emerge_pid gone) and recorded as timed-out"

stop_agent TERM
echo "smoke: all checks passed"
echo "smoke: figures: first exec -> live ${FIRST_LIVE_MS} ms; CLI status ${STATUS_MS} ms"
