#!/bin/bash
# Start-up, memory and idle cost of the agent, for the launcher's configurations, in one run.
#   bench/startup.sh [runs]            (IDLE_SECONDS=600 for the issue's 10 idle minutes; default 120)
# Builds two packages with JDK 25 (plain, and with the AOT cache written by a training run at build time) with
# the Maven wrapper (online, as on a fresh machine), then starts the agent against a closed loopback "master"
# (the master is DOWN, the default 30 s probe interval) and measures:
#   live   - exec to the first 200 from /q/health/live, answered by the agent's own process (median of runs)
#   rss    - resident memory when live first answers (VmRSS, median)
#   idle   - after live and a settle time, CPU (utime+stime of the whole process) and context switches
#            (voluntary + involuntary, summed over its threads) over IDLE_SECONDS; one long run per variant
# Variants: JDK 17 plain (java -jar, no flags), JDK 25 through the launcher (its flags), and the same with the
# AOT cache. Any run that did not happen as described stops the script with the agent's log and exit 1.
# Needs JDK 17 (java on PATH), Temurin 25 (JDK25=...), curl and ss; nothing leaves loopback.
set -euo pipefail

runs=${1:-5}
idle_seconds=${IDLE_SECONDS:-120}
settle_seconds=${SETTLE_SECONDS:-15}
repo=$(cd "$(dirname "$0")/.." && pwd)
jdk25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
jdk17=${JDK17:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
out="$repo/target/bench"
mkdir -p "$out"
cd "$repo"

fail() {
	echo "bench/startup.sh: $*" >&2
	exit 1
}
[ -x "$jdk25/bin/java" ] || fail "no JDK 25 at $jdk25 (set JDK25)"
[ -x "$jdk17/bin/java" ] || fail "no JDK 17 at $jdk17 (set JDK17)"
command -v curl >/dev/null || fail "curl is needed"
command -v ss >/dev/null || fail "ss (iproute2) is needed"

# The AOT training run starts the agent, so it needs a configuration that works here.
cat > "$out/build.properties" <<PROPS
binhost.master.host=127.0.0.1
binhost.master.rsync-port=1
binhost.master.nfs-check=none
binhost.agent.state-dir=$out/state
binhost.agent.log-dir=$out/log
binhost.sync.portage-dir=$out/etc/portage
binhost.control.socket=$out/build-control.sock
quarkus.http.port=0
PROPS

if [ -z "${SKIP_BUILD:-}" ]; then
	echo "building plain package with JDK 25 ..." >&2
	JAVA_HOME="$jdk25" ./mvnw -B -q package -DskipTests >/dev/null
	rm -rf "$out/plain" && mkdir -p "$out/plain" && cp -R target/quarkus-app "$out/plain/quarkus-app"
	echo "building AOT package with JDK 25 (training run) ..." >&2
	BINHOST_AGENT_CONFIG="$out/build.properties" JAVA_HOME="$jdk25" ./mvnw -B -q package -DskipTests \
		-Dquarkus.package.jar.aot.enabled=true -Dquarkus.package.jar.aot.type=AOT \
		-Dquarkus.package.jar.aot.phase=BUILD >/dev/null
	rm -rf "$out/aot" && mkdir -p "$out/aot" && cp -R target/quarkus-app "$out/aot/quarkus-app"
fi
[ -f "$out/plain/quarkus-app/quarkus-run.jar" ] || fail "no plain package in $out/plain"
[ -f "$out/aot/quarkus-app/app.aot" ] || fail "no app.aot was written in $out/aot"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
clk_tck=$(getconf CLK_TCK)

# start_agent KIND HOME -> sets $pid, $port, $start, $log. KIND: plain (java -jar) or launcher.
start_agent() {
	local kind=$1 home=$2
	port=$(free_port)
	log="$out/run.log"
	local conf="$out/run.properties"
	rm -rf "$out/state"
	sed -e "s|^quarkus.http.port=.*|quarkus.http.port=$port|" \
		-e "s|^binhost.control.socket=.*|binhost.control.socket=$out/run-control.sock|" "$out/build.properties" > "$conf"
	start=$(now_ms)
	if [ "$kind" = plain ]; then
		BINHOST_AGENT_CONFIG="$conf" "$jdk17/bin/java" -jar "$home/quarkus-app/quarkus-run.jar" >"$log" 2>&1 &
	else
		# The launcher execs java: $! is the agent's JVM.
		BINHOST_AGENT_CONFIG="$conf" BINHOST_AGENT_HOME="$home" BINHOST_AGENT_JAVA="$jdk25/bin/java" \
			"$repo/deploy/bin/binhost-agent" run >"$log" 2>&1 &
	fi
	pid=$!
}

stop_agent() {
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# await_live -> prints "live_ms rss_kb"; fails unless our own pid listens on the port and answered.
await_live() {
	local live="" rss=""
	for _ in $(seq 1 3000); do
		kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "the agent (pid $pid) exited before it was live"; }
		if curl -fs -o /dev/null "http://127.0.0.1:$port/q/health/live"; then
			live=$(($(now_ms) - start))
			rss=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
			break
		fi
		sleep 0.01
	done
	[ -n "$live" ] || { cat "$log" >&2; fail "no /q/health/live answer from pid $pid within 30 s"; }
	ss -Htlnp "sport = :$port" | grep -q "pid=$pid," || fail "port $port is not the agent's (pid $pid): $(ss -Htlnp "sport = :$port")"
	[ "${rss:-0}" -gt 0 ] || fail "no VmRSS read for pid $pid"
	echo "$live $rss"
}

# CPU ticks and context switches of the whole process so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
ctx_switches() {
	cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { s += $2 } END { print s + 0 }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

variant() {
	local name=$1 kind=$2 home=$3
	local results=()
	start_agent "$kind" "$home"; await_live >/dev/null; stop_agent # warm the page cache, not counted
	for _ in $(seq 1 "$runs"); do
		start_agent "$kind" "$home"
		results+=("$(await_live)")
		stop_agent
	done
	local l m
	l=$(printf '%s\n' "${results[@]}" | awk '{ print $1 }' | median)
	m=$(printf '%s\n' "${results[@]}" | awk '{ print $2 }' | median)

	start_agent "$kind" "$home"
	await_live >/dev/null
	sleep "$settle_seconds"
	local t0 c0 t1 c1
	t0=$(cpu_ticks); c0=$(ctx_switches)
	sleep "$idle_seconds"
	kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "the agent died during the idle window"; }
	t1=$(cpu_ticks); c1=$(ctx_switches)
	local rss_idle
	rss_idle=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
	stop_agent
	[ "$c1" -gt "$c0" ] || fail "no context switch counted for $name: nothing was measured"
	awk -v n="$name" -v l="$l" -v m="$m" -v ri="$rss_idle" -v dt=$((t1 - t0)) -v dc=$((c1 - c0)) \
		-v s="$idle_seconds" -v hz="$clk_tck" -v r="$runs" 'BEGIN {
		printf "%-32s live %5d ms   rss %4d MB (idle %4d MB)   idle cpu %.3f %% of a core (%d ticks)   %5.0f ctx switches/min   (live, rss: median of %d; idle: %d s)\n",
			n, l, m / 1024, ri / 1024, 100 * dt / hz / s, dt, 60 * dc / s, r, s }'
}

variant "JDK 17 plain" plain "$out/plain"
variant "JDK 25 launcher flags" launcher "$out/plain"
# The launcher adds -XX:AOTCache when the package has app.aot and the runtime is 25 or newer.
variant "JDK 25 launcher flags + AOT" launcher "$out/aot"
