#!/bin/sh
# Installs (or uninstalls) the built binhost-agent.
#
#   ./mvnw -B package && sudo deploy/install.sh                 # install into /
#   deploy/install.sh --destdir /tmp/root                       # into a staging root (packaging, tests)
#   sudo deploy/install.sh --uninstall                          # remove; keeps the admin's configuration
#
# Options: --destdir DIR (or DESTDIR=DIR), --app DIR (the built quarkus-app, default target/quarkus-app, or
#          quarkus-app beside deploy/ in the release tarball),
#          --init openrc|systemd|both (default both), --uninstall.
# Layout: /usr/lib/binhost-agent/quarkus-app, /usr/bin/binhost-agent (the launcher),
#         /etc/binhost-agent/binhost-agent.properties (only if absent; the sample is always refreshed),
#         /var/lib/binhost-agent, /var/log/binhost-agent, /etc/init.d + /etc/conf.d (OpenRC),
#         /usr/lib/systemd/system/binhost-agent.service, /usr/share/doc/binhost-agent.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
destdir="${DESTDIR:-}"
app="$repo/target/quarkus-app"
# from the release tarball (deploy/release.sh), the application sits beside deploy/
[ -d "$app" ] || [ ! -d "$repo/quarkus-app" ] || app="$repo/quarkus-app"
init="both"
action="install"

while [ $# -gt 0 ]; do
	case "$1" in
		--destdir) destdir="$2"; shift 2 ;;
		--destdir=*) destdir="${1#*=}"; shift ;;
		--app) app="$2"; shift 2 ;;
		--app=*) app="${1#*=}"; shift ;;
		--init) init="$2"; shift 2 ;;
		--init=*) init="${1#*=}"; shift ;;
		--uninstall) action="uninstall"; shift ;;
		-h|--help) sed -n '2,16p' "$0"; exit 0 ;;
		*) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
case "$init" in openrc|systemd|both) ;; *) echo "install.sh: --init must be openrc, systemd or both" >&2; exit 2 ;; esac
destdir="${destdir%/}"

lib="$destdir/usr/lib/binhost-agent"
bin="$destdir/usr/bin/binhost-agent"
etc="$destdir/etc/binhost-agent"
doc="$destdir/usr/share/doc/binhost-agent"
state="$destdir/var/lib/binhost-agent"
logs="$destdir/var/log/binhost-agent"
initd="$destdir/etc/init.d/binhost-agent"
confd="$destdir/etc/conf.d/binhost-agent"
unit="$destdir/usr/lib/systemd/system/binhost-agent.service"

if [ "$action" = "uninstall" ]; then
	if [ -S "$destdir/run/binhost-agent/control.sock" ]; then
		echo "install.sh: the agent seems to be running; stop it first (rc-service binhost-agent stop)" >&2
		exit 1
	fi
	rm -rf "$lib" "$doc" "$state" "$logs"
	rm -f "$bin" "$initd" "$unit" "$etc/binhost-agent.properties.sample"
	# The admin's files stay: the agent's configuration and the OpenRC settings.
	for kept in "$etc/binhost-agent.properties" "$confd"; do
		[ -e "$kept" ] && echo "kept $kept"
	done
	rmdir "$etc" 2>/dev/null || true
	echo "binhost-agent uninstalled from ${destdir:-/}"
	exit 0
fi

if [ ! -r "$app/quarkus-run.jar" ]; then
	echo "install.sh: no built agent at $app (run ./mvnw -B package first, or pass --app)" >&2
	exit 1
fi

install -d -m 0755 "$destdir/usr/lib" "$destdir/usr/bin" "$doc"
# Replace the application directory as a whole, so a half-copied tree is never the installed one.
rm -rf "$lib.new"
install -d -m 0755 "$lib.new"
# -p: the JDK 25 AOT cache (app.aot) is only used when the jars keep the mtimes it was trained with.
cp -Rp "$app" "$lib.new/quarkus-app"
chmod -R u+rwX,go+rX,go-w "$lib.new"
rm -rf "$lib.old"
[ -d "$lib" ] && mv "$lib" "$lib.old"
mv "$lib.new" "$lib"
rm -rf "$lib.old"

install -m 0755 "$here/bin/binhost-agent" "$bin"
install -d -m 0755 "$etc"
install -m 0644 "$repo/config/binhost-agent.properties" "$etc/binhost-agent.properties.sample"
if [ ! -e "$etc/binhost-agent.properties" ]; then
	install -m 0640 "$repo/config/binhost-agent.properties" "$etc/binhost-agent.properties"
else
	echo "kept existing $etc/binhost-agent.properties (new sample: binhost-agent.properties.sample)"
fi
install -d -m 0750 "$state" "$logs"
[ -f "$repo/README.md" ] && install -m 0644 "$repo/README.md" "$doc/README.md"

if [ "$init" != "systemd" ]; then
	install -d -m 0755 "$destdir/etc/init.d" "$destdir/etc/conf.d"
	install -m 0755 "$here/openrc/binhost-agent" "$initd"
	[ -e "$confd" ] || install -m 0644 "$here/openrc/binhost-agent.confd" "$confd"
fi
if [ "$init" != "openrc" ]; then
	install -d -m 0755 "$destdir/usr/lib/systemd/system"
	install -m 0644 "$here/systemd/binhost-agent.service" "$unit"
fi
echo "binhost-agent installed into ${destdir:-/}"
if [ -z "$destdir" ]; then
	echo "next: set binhost.master.host in /etc/binhost-agent/binhost-agent.properties, then"
	echo "      rc-update add binhost-agent default && rc-service binhost-agent start   (OpenRC)"
	echo "  or  systemctl enable --now binhost-agent                                    (systemd)"
fi
