#!/bin/bash
# Start-up, memory and idle cost of the agent, for the launcher's configurations, in one run.
#   bench/startup.sh [runs]              (IDLE_SECONDS=600 for the issue's 10 idle minutes; default 120)
#   BEFORE=<git rev> bench/startup.sh    the same figures for that revision too, side by side, in the same run
# Builds each revision twice with JDK 25 and the Maven wrapper (online, as on a fresh machine): plain, and with
# the AOT cache written by a training run at build time. Then, against a closed loopback "master" (the master
# is DOWN, the default 30 s probe interval), it measures:
#   live   - exec to the first 200 from /q/health/live, answered by the agent's own process (median of runs;
#            the runs of all variants are interleaved, so machine noise falls on all of them alike)
#   rss    - resident memory when live first answers (VmRSS, median)
#   idle   - after live and a settle time, CPU (utime+stime of the whole process) and context switches
#            (voluntary + involuntary, summed over its threads) over IDLE_SECONDS. All variants idle at the
#            same time, one agent each, so a 10-minute window costs 10 minutes, not 60.
#   top    - the threads that woke most during the idle window
# Variants: JDK 17 plain (java -jar, no flags), JDK 17 and JDK 25 through the revision's own launcher (its
# flags), and JDK 25 with the AOT cache; with NATIVE=<executable> also that native executable (src/test/native/check.sh builds
# one with ../shared/native-check).
#   cli    - one `status` from the CLI of that variant (the same java and flags, or the native executable) to the
#            agent's control socket, right after live (median of runs) Any run that did not happen as described stops the script with the agent's log and
# exit 1. Needs JDK 17 (java on PATH), Temurin 25 (JDK25=...), git, curl and ss; nothing leaves loopback.
set -euo pipefail

runs=${1:-5}
idle_seconds=${IDLE_SECONDS:-120}
settle_seconds=${SETTLE_SECONDS:-20}
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
native_exe=${NATIVE:-}
if [ -n "$native_exe" ]; then
	native_exe=$(readlink -f "$native_exe")
	[ -x "$native_exe" ] || fail "NATIVE=$NATIVE is not an executable"
fi
for tool in curl ss git python3; do
	command -v "$tool" >/dev/null || fail "$tool is needed"
done

# The AOT training run starts the agent, so it needs a configuration that works here.
cat > "$out/build.properties" <<PROPS
binhost.master.host=127.0.0.1
binhost.master.rsync-port=1
binhost.master.nfs-check=none
binhost.agent.state-dir=$out/train/state
binhost.agent.log-dir=$out/train/log
binhost.sync.portage-dir=$out/train/etc/portage
binhost.control.socket=$out/train/control.sock
quarkus.http.port=0
PROPS

# build SRC DEST: the plain and AOT packages of the tree at SRC, with that tree's launcher.
build() {
	local src=$1 dest=$2
	echo "building $dest from $src (plain, then AOT with a training run) ..." >&2
	rm -rf "$out/train" "$dest" && mkdir -p "$dest"
	(cd "$src" && JAVA_HOME="$jdk25" ./mvnw -B -q package -DskipTests >"$dest.build.log" 2>&1) \
		|| { tail -40 "$dest.build.log" >&2; fail "build of $src failed"; }
	mkdir -p "$dest/plain" "$dest/aot"
	cp -Rp "$src/target/quarkus-app" "$dest/plain/quarkus-app"
	(cd "$src" && BINHOST_AGENT_CONFIG="$out/build.properties" JAVA_HOME="$jdk25" ./mvnw -B -q package -DskipTests \
		-Dquarkus.package.jar.aot.enabled=true -Dquarkus.package.jar.aot.type=AOT \
		-Dquarkus.package.jar.aot.phase=BUILD >>"$dest.build.log" 2>&1) \
		|| { tail -40 "$dest.build.log" >&2; fail "AOT build of $src failed"; }
	cp -Rp "$src/target/quarkus-app" "$dest/aot/quarkus-app"
	cp "$src/deploy/bin/binhost-agent" "$dest/launcher"
	[ -f "$dest/plain/quarkus-app/quarkus-run.jar" ] || fail "no plain package in $dest"
	[ -f "$dest/aot/quarkus-app/app.aot" ] || fail "no app.aot was written in $dest/aot"
	git -C "$src" rev-parse --short HEAD > "$dest/rev"
}

revs=(after)
if [ -z "${SKIP_BUILD:-}" ]; then
	build "$repo" "$out/after"
	if [ -n "${BEFORE:-}" ]; then
		rm -rf "$out/before-src"
		git -C "$repo" worktree prune
		git -C "$repo" worktree add -q --detach "$out/before-src" "$BEFORE" || fail "cannot check out $BEFORE"
		build "$out/before-src" "$out/before"
		git -C "$repo" worktree remove --force "$out/before-src"
	fi
fi
[ -f "$out/after/rev" ] || fail "no build in $out/after (run without SKIP_BUILD)"
[ -n "${BEFORE:-}" ] && { [ -f "$out/before/rev" ] || fail "no build in $out/before"; revs=(before after); }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
clk_tck=$(getconf CLK_TCK)

# start_agent ID REV KIND -> sets pid[ID], port[ID], start[ID]. KIND: plain17 (java -jar), launcher, launcher-aot.
declare -A pid port start
# a run that fails half-way (fail exits) must not leave its agents running
trap 'for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
start_agent() {
	local id=$1 rev=$2 kind=$3 dir="$out/agents/$1"
	rm -rf "$dir" && mkdir -p "$dir/etc/portage"
	port[$id]=$(free_port)
	sed -e "s|^quarkus.http.port=.*|quarkus.http.port=${port[$id]}|" -e "s|$out/train|$dir|" \
		"$out/build.properties" > "$dir/agent.properties"
	start[$id]=$(now_ms)
	case $kind in
	plain17)
		BINHOST_AGENT_CONFIG="$dir/agent.properties" "$jdk17/bin/java" -jar "$out/$rev/plain/quarkus-app/quarkus-run.jar" \
			>"$dir/log" 2>&1 & ;;
	launcher | launcher-aot | launcher17)
		local home="$out/$rev/plain" java="$jdk25/bin/java"
		[ "$kind" = launcher-aot ] && home="$out/$rev/aot"
		[ "$kind" = launcher17 ] && java="$jdk17/bin/java"
		# The launcher execs java: $! is the agent's JVM.
		BINHOST_AGENT_CONFIG="$dir/agent.properties" BINHOST_AGENT_HOME="$home" BINHOST_AGENT_JAVA="$java" \
			"$out/$rev/launcher" run >"$dir/log" 2>&1 & ;;
	native)
		BINHOST_AGENT_CONFIG="$dir/agent.properties" "$native_exe" >"$dir/log" 2>&1 & ;;
	esac
	pid[$id]=$!
}

# cli_ms ID -> milliseconds of one `status` by that variant's CLI against its agent; fails unless it answered.
cli_ms() {
	local id=$1 rev=${1%%:*} kind=${1#*:} dir="$out/agents/$1" t
	t=$(now_ms)
	case $kind in
	plain17) BINHOST_AGENT_CONFIG="$dir/agent.properties" "$jdk17/bin/java" -jar "$out/$rev/plain/quarkus-app/quarkus-run.jar" status ;;
	launcher) BINHOST_AGENT_CONFIG="$dir/agent.properties" BINHOST_AGENT_HOME="$out/$rev/plain" BINHOST_AGENT_JAVA="$jdk25/bin/java" "$out/$rev/launcher" status ;;
	launcher-aot) BINHOST_AGENT_CONFIG="$dir/agent.properties" BINHOST_AGENT_HOME="$out/$rev/aot" BINHOST_AGENT_JAVA="$jdk25/bin/java" "$out/$rev/launcher" status ;;
	launcher17) BINHOST_AGENT_CONFIG="$dir/agent.properties" BINHOST_AGENT_HOME="$out/$rev/plain" BINHOST_AGENT_JAVA="$jdk17/bin/java" "$out/$rev/launcher" status ;;
	native) BINHOST_AGENT_CONFIG="$dir/agent.properties" "$native_exe" status ;;
	esac >"$dir/status.out" 2>&1 || { cli_failed "$id" "status from $id's CLI failed"; return; }
	t=$(($(now_ms) - t))
	grep -q 'master' "$dir/status.out" || { cli_failed "$id" "status from $id's CLI says nothing of the master"; return; }
	echo "$t"
}

# cli_failed ID WHY: fatal for the revision under test; a BEFORE revision's CLI may predate what the bench
# relies on (before the CLI read BINHOST_AGENT_CONFIG it could not find the agent's socket): noted, shown as n/a.
cli_failed() {
	cat "$out/agents/$1/status.out" >&2
	[ "${1%%:*}" = after ] && fail "$2"
	echo "note: $2 (that revision's CLI; shown as n/a)" >&2
	echo NA
}

stop_agent() {
	kill "${pid[$1]}" 2>/dev/null || true
	wait "${pid[$1]}" 2>/dev/null || true
}

# await_live ID -> prints "live_ms rss_kb"; fails unless that agent's own pid listens on its port and answered.
await_live() {
	local id=$1 live="" rss="" p=${pid[$1]}
	for _ in $(seq 1 3000); do
		kill -0 "$p" 2>/dev/null || { cat "$out/agents/$id/log" >&2; fail "agent $id (pid $p) exited before it was live"; }
		if curl -fs -o /dev/null "http://127.0.0.1:${port[$id]}/q/health/live"; then
			live=$(($(now_ms) - start[$id]))
			rss=$(awk '/VmRSS/ { print $2 }' "/proc/$p/status")
			break
		fi
		sleep 0.01
	done
	[ -n "$live" ] || { cat "$out/agents/$id/log" >&2; fail "no /q/health/live answer from agent $id (pid $p) within 30 s"; }
	ss -Htlnp "sport = :${port[$id]}" | grep -q "pid=$p," \
		|| fail "port ${port[$id]} is not agent $id's (pid $p): $(ss -Htlnp "sport = :${port[$id]}")"
	[ "${rss:-0}" -gt 0 ] || fail "no VmRSS read for pid $p"
	if [ "${id#*:}" = launcher-aot ] && ! grep -q '/app\.aot$' "/proc/$p/maps"; then
		# The JVM drops a cache whose class path or jar mtimes differ from the training run's, silently here
		# (the launcher turns the AOT log off); a run without it is not the variant it claims to be.
		if [ "${id%%:*}" = after ]; then
			fail "agent $id (pid $p) does not use its AOT cache (app.aot is not mapped)"
		fi
		echo "note: agent $id (pid $p) runs without its AOT cache (that revision's launcher cannot use it)" >&2
	fi
	echo "$live $rss"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Per thread "tid switches name"; a thread that ends during the window loses its count (marked by the join).
thread_switches() {
	for t in /proc/"$1"/task/*; do
		printf '%s %s %s\n' "${t##*/}" "$(awk '/ctxt_switches/ { s += $2 } END { print s + 0 }' "$t/status" 2>/dev/null)" \
			"$(tr ' ' '_' < "$t/comm" 2>/dev/null)"
	done | sort
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

kinds=(plain17 launcher17 launcher launcher-aot)
declare -A label=([plain17]="JDK 17 plain" [launcher17]="JDK 17 launcher flags" [launcher]="JDK 25 launcher flags" [launcher-aot]="JDK 25 launcher flags + AOT"
	[native]="native executable")
ids=()
for rev in "${revs[@]}"; do for kind in "${kinds[@]}"; do ids+=("$rev:$kind"); done; done
[ -n "$native_exe" ] && ids+=("after:native")

# Start-up: one warm-up start per variant (page cache, not counted), then the runs, interleaved.
declare -A results
for round in $(seq 0 "$runs"); do
	for id in "${ids[@]}"; do
		start_agent "$id" "${id%%:*}" "${id#*:}"
		r=$(await_live "$id")
		r="$r $(cli_ms "$id")"
		stop_agent "$id"
		[ "$round" -gt 0 ] && results[$id]+="$r"$'\n'
	done
done

# Idle: every variant at once, each its own agent, state and port.
for id in "${ids[@]}"; do
	start_agent "$id" "${id%%:*}" "${id#*:}"
	await_live "$id" >/dev/null
done
echo "all ${#ids[@]} agents live; settling ${settle_seconds} s, then ${idle_seconds} s idle ..." >&2
sleep "$settle_seconds"
declare -A t0 c0file
for id in "${ids[@]}"; do
	t0[$id]=$(cpu_ticks "${pid[$id]}")
	thread_switches "${pid[$id]}" > "$out/agents/$id/threads.0"
done
sleep "$idle_seconds"
printf '\n%-14s %-28s %8s %8s %9s %9s %12s %8s\n' rev variant "live ms" "rss MB" "idle MB" "cpu %" "ctx/min" "cli ms"
for id in "${ids[@]}"; do
	p=${pid[$id]} dir="$out/agents/$id"
	kill -0 "$p" 2>/dev/null || { cat "$dir/log" >&2; fail "agent $id died during the idle window"; }
	t1=$(cpu_ticks "$p")
	thread_switches "$p" > "$dir/threads.1"
	rss_idle=$(awk '/VmRSS/ { print $2 }' "/proc/$p/status")
	join -a1 -a2 -e NA -o 0,1.2,2.2,2.3,1.3 "$dir/threads.0" "$dir/threads.1" | awk -v s="$idle_seconds" '
		{ name = ($4 == "NA") ? $5 : $4; d = ($2 == "NA") ? $3 : ($3 == "NA" ? 0 : $3 - $2)
		  if ($3 == "NA") name = name "(ended)"; total += d; by[name] += d }
		END { print 60 * total / s; for (n in by) if (by[n] > 0) printf "%.0f %s\n", 60 * by[n] / s, n }' > "$dir/idle"
	ctx=$(head -1 "$dir/idle")
	awk -v c="$ctx" 'BEGIN { exit !(c > 0) }' || fail "no context switch counted for $id: nothing was measured"
	l=$(awk '{ print $1 }' <<<"${results[$id]}" | grep . | median)
	m=$(awk '{ print $2 }' <<<"${results[$id]}" | grep . | median)
	cm=$(awk '{ print $3 }' <<<"${results[$id]}" | { grep -v NA || true; } | grep . | median || true)
	cm=${cm:-n/a}
	rev=${id%%:*}
	awk -v r="$rev@$(cat "$out/$rev/rev")" -v n="${label[${id#*:}]}" -v l="$l" -v m="$m" -v ri="$rss_idle" \
		-v dt=$((t1 - t0[$id])) -v c="$ctx" -v s="$idle_seconds" -v hz="$clk_tck" -v cm="$cm" 'BEGIN {
		printf "%-14s %-28s %8d %8d %9d %9.3f %12.0f %8s\n", r, n, l, m / 1024, ri / 1024, 100 * dt / hz / s, c, cm }'
	echo "               top: $(tail -n +2 "$dir/idle" | sort -rn | head -5 | awk '{ printf "%s %s/min, ", $2, $1 }')"
done
for id in "${ids[@]}"; do stop_agent "$id"; done
echo "(live, rss: median of $runs interleaved runs; idle: all variants at once over $idle_seconds s after $settle_seconds s settle; cpu % of one core)"
