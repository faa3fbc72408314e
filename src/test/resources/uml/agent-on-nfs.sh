# Sourced by run.sh (written by RealNfsE2ETest) inside the UML guest: the packaged agent on a real kernel NFS
# client, one scenario after the other. Nothing is asserted here; each checkpoint leaves a snapshot that the test
# asserts on the host:
#   results/steps.tsv        scenario, step, ok|FAIL, seconds (a wait for a condition, or a fact checked here)
#   results/figures.tsv      scenario, measure, seconds (fault -> ready DOWN, -> released, recovery -> ready)
#   results/SCEN/LABEL/      live|ready|started.{code,json}, metrics.txt, status.json, status.txt, mountinfo,
#                            threads.tsv (each agent thread: tid, name, state, wchan), note.txt
# Set by run.sh: OUT, LAB (this folder), AGENT_BIN, AGENT_HOME, JAVA, CONF (the agents' properties files),
# MASTER_TREE (the master's /etc/portage), SLAVE_TREE (the slave's /etc/portage before any pull).
set -u
. "$LAB/nfs-lab.sh"
R=$OUT/results
mkdir -p "$R"
: > "$R/steps.tsv"
: > "$R/figures.tsv"
TARGET=/mnt/packages
AGENT= PROPS= SCEN=

el() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
step() { printf '%s\t%s\t%s\t%s\n' "$SCEN" "$1" "$2" "${3:-0}" >> "$R/steps.tsv"; }
fig() { printf '%s\t%s\t%s\n' "$SCEN" "$1" "$2" >> "$R/figures.tsv"; }

# wait_for NAME LIMIT CMD...: polls CMD every 0.2 s for LIMIT seconds; records the step and its time.
WAITED=0
wait_for() {
	local name=$1 limit=$2 t0=$EPOCHREALTIME
	shift 2
	while :; do
		if "$@"; then WAITED=$(el "$t0"); step "$name" ok "$WAITED"; return 0; fi
		if awk -v a="$t0" -v b="$EPOCHREALTIME" -v l="$limit" 'BEGIN { exit !(b - a > l) }'; then
			WAITED=$(el "$t0"); step "$name" FAIL "$WAITED"; return 1
		fi
		sleep 0.2
	done
}

code() { in_slave curl -s -o "${2:-/dev/null}" -w '%{http_code}' --max-time 5 "http://127.0.0.1:9873$1"; }
ready_is() { [ "$(code /q/health/ready)" = "$1" ]; }
# fstype and source of what is mounted at TARGET ("" when nothing), from the guest's mount table.
at_target() { awk -v t="$TARGET" '$5 == t { for (i = 7; i <= NF; i++) if ($i == "-") { print $(i+1), $(i+2); exit } }' /proc/self/mountinfo; }
mount_id() { awk -v t="$TARGET" '$5 == t { print $1; exit }' /proc/self/mountinfo; }
nfs_mounted() { at_target | grep -q '^nfs4 '; }
not_mounted() { [ -z "$(at_target)" ]; }
ready_and_mounted() { nfs_mounted && ready_is 200; }
down_after_up() { ready_is 503; }
status_has() { cli status --json 2>/dev/null | grep -q "$1"; }

cli() {
	in_slave env BINHOST_AGENT_CONFIG="$PROPS" BINHOST_AGENT_JAVA="$JAVA" BINHOST_AGENT_HOME="$AGENT_HOME" \
		"$AGENT_BIN" "$@"
}

# threads FILE: each thread of the agent: tid, name, state, wait channel
threads() {
	local t s
	: > "$1"
	for t in /proc/"$AGENT"/task/*; do
		s=$(cat "$t/stat" 2>/dev/null) || continue
		s=${s##*) }
		printf '%s\t%s\t%s\t%s\n' "${t##*/}" "$(cat "$t/comm")" "${s%% *}" "$(cat "$t/wchan" 2>/dev/null)" >> "$1"
	done
}

snap() {
	local d=$R/$SCEN/$1
	mkdir -p "$d"
	for h in live ready started; do code "/q/health/$h" "$d/$h.json" > "$d/$h.code"; done
	# the mount table right after readiness, before the CLI calls that take seconds here: one moment's picture
	cp /proc/self/mountinfo "$d/mountinfo"
	code /q/metrics "$d/metrics.txt" > /dev/null
	cli status --json > "$d/status.json" 2> "$d/status.err"
	cli status > "$d/status.txt" 2>&1
	cat "/proc/$AGENT/comm" > "$d/comm" 2>/dev/null
	threads "$d/threads.tsv"
	sleep 0.5
	threads "$d/threads2.tsv"
	echo "${2:-}" > "$d/note.txt"
}

agent_start() { # SCEN-independent: PROPERTIES-FILE NAME
	PROPS=$1
	local name=$2
	mkdir -p "$R/agent-$name" "/tmp/slave-$name/etc" "/tmp/agent-$name"
	[ -d "/tmp/slave-$name/etc/portage" ] || cp -a "$SLAVE_TREE" "/tmp/slave-$name/etc/portage"
	# not through in_slave: a backgrounded function is a subshell, and $! must be the agent itself (nsenter, env
	# and the launcher all exec)
	nsenter --net=/run/netns/slave env BINHOST_AGENT_CONFIG="$PROPS" BINHOST_AGENT_JAVA="$JAVA" \
		BINHOST_AGENT_HOME="$AGENT_HOME" "$AGENT_BIN" run >> "$R/agent-$name/agent.log" 2>&1 &
	AGENT=$!
	wait_for agent-live 180 eval '[ "$(code /q/health/live)" = 200 ]'
	fig "agent start -> live" "$WAITED"
	echo "$AGENT" > "$R/agent-$name/pid"
	cat "/proc/$AGENT/comm" > "$R/agent-$name/comm"
}

agent_stop() {
	[ -n "$AGENT" ] || return 0
	kill -TERM "$AGENT" 2>/dev/null
	for _ in $(seq 1 150); do kill -0 "$AGENT" 2>/dev/null || break; sleep 0.2; done
	if kill -0 "$AGENT" 2>/dev/null; then step agent-stops-on-sigterm FAIL 30; kill -9 "$AGENT"; fi
	wait "$AGENT" 2>/dev/null
	AGENT=
}

# A process the agent takes for emerge (argv[0] "emerge") that opens a binary package on the share over and
# over, as emerge does while it merges one: every open goes to the server (close-to-open), so the process itself
# blocks (state D) when the server does. The open is the shell's own (a redirection of a builtin).
emerge_start() {
	bash -c 'exec -a emerge bash -c "while :; do : < \$1/app-misc/hello-1.gpkg.tar; sleep 0.2; done" x "$0"' \
		"$TARGET" &
	EMERGE=$!
}

run_all() {
	lab_up || { SCEN=lab; step lab-up FAIL; return 1; }
	rsyncd_start masterk "$K_IP" "$MASTER_TREE" && rsyncd_start masterg "$G_IP" "$MASTER_TREE" \
		|| { SCEN=lab; step rsyncd FAIL; return 1; }
	knfsd_start && ganesha_start || { SCEN=lab; step nfs-servers FAIL; return 1; }
	mkdir -p "$TARGET"
	# The seed's arrangement: the share in /etc/fstab, "mount /mnt/packages" mounts it (/etc is read-only here:
	# the lab's fstab is bound over the host's).
	echo "$K_IP:/packages $TARGET nfs4 $FSTAB_OPTIONS 0 0" > /run/fstab
	mount --bind /run/fstab /etc/fstab || { SCEN=lab; step fstab FAIL; return 1; }

	scenario_fstab_up
	scenario_restart_keeps_ownership
	scenario_server_stopped
	scenario_export_replaced
	agent_stop
	scenario_admin_mount_left_alone
	agent_stop
	[ -z "$(at_target)" ] || umount -l "$TARGET"

	scenario_explicit_up
	scenario_link_cut
	scenario_frozen_idle
	scenario_frozen_emerge_reading
	agent_stop
	[ -z "$(at_target)" ] || umount -l "$TARGET"

	scenario_mount_refused
	agent_stop
	umount /etc/fstab
}

# --- kernel nfsd as the master, the share mounted through /etc/fstab --------------------------------------------
# up SCEN AGENT: a fresh agent until the share is mounted and readiness UP
up() {
	SCEN=$1
	agent_start "$CONF/$2.properties" "$2"
	wait_for ready-and-mounted 90 ready_and_mounted
	fig "agent start -> mounted and ready" "$WAITED"
	snap up
}

scenario_fstab_up() { up fstab-up fstab; }

scenario_restart_keeps_ownership() {
	SCEN=restart-keeps-ownership
	local before
	before=$(mount_id)
	agent_stop
	nfs_mounted && step still-mounted-after-stop ok || step still-mounted-after-stop FAIL
	agent_start "$CONF/fstab.properties" fstab
	wait_for ready-again 90 ready_and_mounted
	[ "$(mount_id)" = "$before" ] && step same-mount-id ok || step same-mount-id FAIL
	snap after-restart "mount id before the restart: $before"
}


# fault_and_recovery SCEN FAULT RECOVERY WHAT BACK: the fault, until readiness goes DOWN and the mount leaves the
# table (one snapshot then: a snapshot's CLI calls take seconds here), then the recovery until mounted and ready.
fault_and_recovery() {
	SCEN=$1
	local t0=$EPOCHREALTIME
	eval "$2"
	wait_for ready-down 60 ready_is 503 && fig "$4 -> ready DOWN" "$(el "$t0")"
	wait_for released 90 not_mounted && fig "$4 -> released" "$(el "$t0")"
	snap down
	t0=$EPOCHREALTIME
	eval "$3"
	wait_for back 120 ready_and_mounted && fig "$5 -> mounted and ready" "$(el "$t0")"
	snap back
}

scenario_server_stopped() { fault_and_recovery server-stopped knfsd_stop knfsd_start "server stopped" "server back"; }
scenario_link_cut() { fault_and_recovery link-cut "link_down masterg" "link_up masterg" "link cut" "link back"; }
scenario_frozen_idle() {
	fault_and_recovery frozen-idle 'kill -STOP "$GANESHA"' 'kill -CONT "$GANESHA"' "server frozen" "server thawed"
}

scenario_export_replaced() {
	SCEN=export-replaced
	local before t0
	before=$(mount_id)
	# a reader holding the old export, as an emerge's cwd would
	(cd "$TARGET/app-misc" && exec sleep 600) &
	local pin=$!
	# Swap only once the reader is in: a loaded guest may run the subshell's cd after the swap, on a handle
	# already stale, and the reader would be gone before it could show ESTALE.
	wait_for reader-pinned 20 eval '[ "$(readlink "/proc/$pin/cwd")" = "$TARGET/app-misc" ]'
	t0=$EPOCHREALTIME
	knfsd_swap_export
	ls "/proc/$pin/cwd/" > "$R/export-replaced-pinned-cwd.txt" 2>&1
	wait_for remounted-new-export 120 eval '[ "$(mount_id)" != "$before" ] && nfs_mounted && [ "$(cat $TARGET/marker 2>/dev/null)" = k2 ] && ready_is 200'
	fig "export replaced -> remounted and ready" "$(el "$t0")"
	kill "$pin"; wait "$pin" 2>/dev/null
	snap remounted "mount id before: $before"
}

scenario_admin_mount_left_alone() {
	SCEN=admin-mount-left-alone
	[ -z "$(at_target)" ] || umount "$TARGET" || umount -l "$TARGET"
	# The admin mounts the share before the agent starts: the agent must use it and never unmount it.
	in_slave timeout 30 mount "$TARGET" && step admin-mounts ok || step admin-mounts FAIL
	local before
	before=$(mount_id)
	rm -rf /tmp/agent-fstab
	agent_start "$CONF/fstab.properties" fstab
	wait_for ready 90 ready_and_mounted
	snap adopted "mount id of the admin's mount: $before"
	local t0=$EPOCHREALTIME
	knfsd_stop
	wait_for ready-down 60 ready_is 503
	# past the release the agent would make for its own mount (the server-stopped scenario's figure), and more
	sleep 8
	[ "$(mount_id)" = "$before" ] && step admin-mount-still-there ok "$(el "$t0")" || step admin-mount-still-there FAIL
	snap master-down "mount id of the admin's mount: $before"
	knfsd_start
}

# --- nfs-ganesha as the master, the share mounted with source and type from the agent's config ------------------
scenario_explicit_up() { up explicit-up explicit; }

scenario_frozen_emerge_reading() {
	SCEN=frozen-emerge-reading
	emerge_start
	sleep 1
	local t0=$EPOCHREALTIME
	kill -STOP "$GANESHA"
	wait_for ready-down 60 ready_is 503 && fig "server frozen under emerge -> ready DOWN" "$(el "$t0")"
	wait_for release-deferred-naming-emerge 60 status_has "\\b$EMERGE\\b"
	nfs_mounted && step still-mounted-under-emerge ok || step still-mounted-under-emerge FAIL
	local st
	st=$(awk '{ print $3 }' "/proc/$EMERGE/stat" 2>/dev/null)
	snap deferred "emerge pid $EMERGE, its state: $st"
	# emerge dies (an admin's ^C, or its own error): the wait on the server is killable
	kill -9 "$EMERGE"; wait "$EMERGE" 2>/dev/null
	t0=$EPOCHREALTIME
	wait_for released-after-emerge 60 not_mounted && fig "emerge gone -> released" "$(el "$t0")"
	snap released
	t0=$EPOCHREALTIME
	kill -CONT "$GANESHA"
	wait_for back 120 ready_and_mounted && fig "server thawed -> mounted and ready" "$(el "$t0")"
	snap back
}

# --- a mount the server refuses: a path it does not export, with the master otherwise UP ----------------------
scenario_mount_refused() {
	SCEN=mount-refused
	local t0=$EPOCHREALTIME
	agent_start "$CONF/refused.properties" refused
	wait_for mount-error-reported 90 status_has '"ERROR"'
	fig "agent start -> mount error reported" "$(el "$t0")"
	snap refused
}

run_all
echo "agent-on-nfs: done at uptime $(cut -d' ' -f1 /proc/uptime)s"
