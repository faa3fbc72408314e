#!/bin/bash
# Runs deploy/openrc/binhost-agent under real OpenRC, inside the private mount namespace the caller made
# (unshare -m --propagation private). Prints "### STEP name rc=N" after each step's output.
# Environment: WORK (scratch dir), AGENT_ROOT (an install.sh DESTDIR), AGENT_CONFIG (properties file),
#   HEALTH_URL, OPENRC_ROOT (Debian's openrc unpacked with dpkg -x; empty when openrc is installed).
set -u
svc=binhost-agent

step() {
	local name=$1
	shift
	"$@" 2>&1
	echo "### STEP $name rc=$?"
}

cleanup() {
	# Whatever happened, leave no supervisor or agent behind: they are ours, found by the pidfile we chose.
	if [ -f /run/$svc.pid ]; then
		kill "$(cat /run/$svc.pid)" 2>/dev/null
	fi
}
trap cleanup EXIT

set -e
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/openrc/{starting,started,stopping,inactive,wasinactive,failed,hotplugged,daemons,options,exclusive,scheduled,tmp}
echo default > /run/openrc/softlevel
mkdir -p "$WORK/etc-upper" "$WORK/etc-work"
if [ -n "${OPENRC_ROOT:-}" ]; then
	# Merged /usr: /sbin, /bin and /lib are symlinks into /usr, so the overlays go there.
	mount -t overlay overlay -o "lowerdir=$OPENRC_ROOT/sbin:/usr/sbin" /usr/sbin
	mount -t overlay overlay -o "lowerdir=$OPENRC_ROOT/bin:/usr/bin" /usr/bin
	mount -t overlay overlay -o "lowerdir=$OPENRC_ROOT/lib:/usr/lib" /usr/lib
	mount -t overlay overlay -o "lowerdir=$OPENRC_ROOT/etc:/etc,upperdir=$WORK/etc-upper,workdir=$WORK/etc-work" /etc
else
	mount -t overlay overlay -o "lowerdir=/etc,upperdir=$WORK/etc-upper,workdir=$WORK/etc-work" /etc
fi
# Only our service in init.d, so OpenRC's dependency scan reads nothing of the host's.
rm -rf /etc/init.d
mkdir -p /etc/init.d /etc/conf.d
: > /etc/insserv.conf
cp "$AGENT_ROOT/etc/init.d/$svc" /etc/init.d/$svc
{
	cat "$AGENT_ROOT/etc/conf.d/$svc"
	echo "BINHOST_AGENT_COMMAND=\"$AGENT_ROOT/usr/bin/binhost-agent\""
	echo "BINHOST_AGENT_HOME=\"$AGENT_ROOT/usr/lib/binhost-agent\""
	echo "BINHOST_AGENT_CONFIG=\"$AGENT_CONFIG\""
	echo "BINHOST_AGENT_LOG=\"$WORK/log/agent.log\""
	echo "BINHOST_AGENT_STATE_DIR=\"$WORK/state\""
	echo "BINHOST_AGENT_HEALTH_URL=\"$HEALTH_URL\""
} > /etc/conf.d/$svc
set +e

step start /etc/init.d/$svc start
step status /etc/init.d/$svc status
# The agent answers once Quarkus is up; the socket appears at the default path on our private /run.
for _ in $(seq 1 120); do
	[ -S /run/binhost-agent/control.sock ] && break
	sleep 0.25
done
step socket stat -c '%a %U %F' /run/binhost-agent/control.sock
# The socket opens a moment before the HTTP listener: give the live endpoint up to 30 s, as healthcheck_delay does.
healthy() {
	for _ in $(seq 1 60); do
		/etc/init.d/$svc healthcheck && return 0
		sleep 0.5
	done
	return 1
}
step healthcheck healthy
step cli-status env BINHOST_AGENT_CONFIG="$AGENT_CONFIG" BINHOST_AGENT_HOME="$AGENT_ROOT/usr/lib/binhost-agent" "$AGENT_ROOT/usr/bin/binhost-agent" status --json
step trigger /etc/init.d/$svc trigger
step trigger-as-nobody setpriv --reuid=65534 --regid=65534 --clear-groups \
	env BINHOST_AGENT_CONFIG="$AGENT_CONFIG" BINHOST_AGENT_HOME="$AGENT_ROOT/usr/lib/binhost-agent" "$AGENT_ROOT/usr/bin/binhost-agent" trigger
step status-as-nobody setpriv --reuid=65534 --regid=65534 --clear-groups \
	env BINHOST_AGENT_CONFIG="$AGENT_CONFIG" BINHOST_AGENT_HOME="$AGENT_ROOT/usr/lib/binhost-agent" "$AGENT_ROOT/usr/bin/binhost-agent" status
child=$(pgrep -P "$(cat /run/$svc.pid)" | head -n1)
step stop /etc/init.d/$svc stop
step agent-gone sh -c "! kill -0 ${child:-0} 2>/dev/null"
step socket-removed test ! -e /run/binhost-agent/control.sock
step trigger-stopped /etc/init.d/$svc trigger
step cli-trigger-stopped env BINHOST_AGENT_CONFIG="$AGENT_CONFIG" BINHOST_AGENT_HOME="$AGENT_ROOT/usr/lib/binhost-agent" "$AGENT_ROOT/usr/bin/binhost-agent" trigger
