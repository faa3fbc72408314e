#!/bin/bash
# Start-up time and memory of the agent: median of N runs (default 5) for each launch variant.
#   bench/startup.sh [runs]
# Builds two packages with JDK 25 (plain, and with the AOT cache written by a training run at build time),
# then starts the agent against a closed loopback "master" and measures, per run:
#   ready  - exec to the "started in" log line        health - exec to the first 200 from /q/health/live
#   rss    - resident memory when health first answers (VmRSS)
# Prints one line per variant. Needs JDK 17 (java on PATH) and Temurin 25; nothing leaves loopback.
set -euo pipefail

runs=${1:-5}
repo=$(cd "$(dirname "$0")/.." && pwd)
jdk25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
jdk17=${JDK17:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
out="$repo/target/bench"
mkdir -p "$out"
cd "$repo"

# The AOT training run starts the agent, so it needs a configuration that works here.
cat > "$out/build.properties" <<PROPS
binhost.master.host=127.0.0.1
binhost.master.rsync-port=1
binhost.master.nfs-check=none
binhost.agent.state-dir=$out/state
binhost.agent.log-dir=$out/log
binhost.control.socket=$out/build-control.sock
quarkus.http.port=0
PROPS

if [ -z "${SKIP_BUILD:-}" ]; then
	echo "building plain package with JDK 25 ..." >&2
	JAVA_HOME="$jdk25" ./mvnw -B -q -o package -DskipTests >/dev/null
	rm -rf "$out/plain" && cp -R target/quarkus-app "$out/plain"
	echo "building AOT package with JDK 25 (training run) ..." >&2
	BINHOST_AGENT_CONFIG="$out/build.properties" JAVA_HOME="$jdk25" ./mvnw -B -q -o package -DskipTests \
		-Dquarkus.package.jar.aot.enabled=true -Dquarkus.package.jar.aot.type=AOT \
		-Dquarkus.package.jar.aot.phase=BUILD >/dev/null
	rm -rf "$out/aot" && cp -R target/quarkus-app "$out/aot"
	[ -f "$out/aot/app.aot" ] || { echo "no app.aot was written" >&2; exit 1; }
fi

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
		|| echo $((20000 + RANDOM % 20000))
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# one_run NAME JAVA APPDIR FLAGS... -> prints "ready_ms health_ms rss_kb"
one_run() {
	local java=$1 app=$2
	shift 2
	local port log conf pid start ready="" health="" rss=""
	port=$(free_port)
	log="$out/run.log"
	conf="$out/run.properties"
	sed -e "s|^quarkus.http.port=.*|quarkus.http.port=$port|" \
		-e "s|^binhost.control.socket=.*|binhost.control.socket=$out/run-control.sock|" "$out/build.properties" > "$conf"
	start=$(now_ms)
	BINHOST_AGENT_CONFIG="$conf" "$java" "$@" -jar "$app/quarkus-run.jar" >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 1 1500); do
		if [ -z "$ready" ] && grep -q "started in" "$log"; then ready=$(($(now_ms) - start)); fi
		if [ -z "$health" ] && curl -fs -o /dev/null "http://127.0.0.1:$port/q/health/live"; then
			health=$(($(now_ms) - start))
			rss=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
		fi
		[ -n "$ready" ] && [ -n "$health" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ -z "$ready" ] || [ -z "$health" ]; then
		echo "run failed; log:" >&2
		cat "$log" >&2
		exit 1
	fi
	echo "$ready $health $rss"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

tuned="-XX:TieredStopAtLevel=1 -Xss256k -XX:+UseSerialGC -Xmx64m -XX:MaxMetaspaceSize=96m"
variant() {
	local name=$1
	shift
	local results=()
	one_run "$@" >/dev/null # warm the page cache, not counted
	for _ in $(seq 1 "$runs"); do
		results+=("$(one_run "$@")")
	done
	local r h m
	r=$(printf '%s\n' "${results[@]}" | awk '{ print $1 }' | median)
	h=$(printf '%s\n' "${results[@]}" | awk '{ print $2 }' | median)
	m=$(printf '%s\n' "${results[@]}" | awk '{ print $3 }' | median)
	printf '%-34s ready %5d ms   health %5d ms   rss %4d MB   (median of %d)\n' "$name" "$r" "$h" $((m / 1024)) "$runs"
}

variant "JDK 17 plain" "$jdk17/bin/java" "$out/plain"
variant "JDK 25 plain" "$jdk25/bin/java" "$out/plain"
# shellcheck disable=SC2086
variant "JDK 25 tuned flags" "$jdk25/bin/java" "$out/plain" $tuned
# shellcheck disable=SC2086
variant "JDK 25 tuned flags + AOT cache" "$jdk25/bin/java" "$out/aot" $tuned \
	-XX:AOTCache="$out/aot/app.aot" -Xlog:aot=off -Xlog:cds=off
