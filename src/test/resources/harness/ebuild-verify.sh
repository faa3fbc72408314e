#!/bin/bash
# Verifies the Gentoo package (deploy/gentoo, issue 17) with the REAL Portage in the shared harness's sandbox
# (/work/shared/harness is only read and run): the overlay added to a harness host as an admin adds one, its
# Manifest made with `ebuild … manifest`, `emerge app-admin/binhost-agent-bin` from the release tarball in
# DISTDIR, then the installed agent started inside the host (a chroot of the host's root, as emerge-sandbox
# builds it) and asked for health and status. Needs root, a built sandbox ($WORK, e.g. by http-record.sh or the
# harness's build-sandbox.sh) and the tarball (deploy/release.sh). About a minute.
#
#   ./mvnw -B package -DskipTests && deploy/release.sh && src/test/resources/harness/ebuild-verify.sh
#
# Writes $OUT (default /tmp/h17): the emerge output, the installed package's CONTENTS, the Manifest Portage made,
# the agent's answers and its log. The Manifest is copied into deploy/gentoo only with COPY_MANIFEST=1.
set -uo pipefail
SHARED_HARNESS=${SHARED_HARNESS:-/work/shared/harness}
. "$SHARED_HARNESS/env.sh"
HOST=${HOST:-slave}
OUT=${OUT:-/tmp/h17}
PORT=${PORT:-19873}
repo=$(cd "$(dirname "$(readlink -f "$0")")/../../../.." && pwd)
E=$SHARED_HARNESS/emerge-sandbox
H=$WORK/hosts/$HOST
R=$H/rootfs
PKG=app-admin/binhost-agent-bin
case $OUT in /tmp/*) ;; *) echo "OUT must be under /tmp" >&2; exit 1 ;; esac
tarball=$(ls "$repo"/target/release/binhost-agent-*.tar.gz 2>/dev/null | tail -1)
[[ -n $tarball ]] || { echo "no release tarball in $repo/target/release (deploy/release.sh)" >&2; exit 1; }
[[ -d $R/var/db/pkg && -d $H/upper/etc/portage ]] || { echo "no sandbox host at $H" >&2; exit 1; }
pv=$(basename "$tarball" .tar.gz); pv=${pv#binhost-agent-}
ebuild=/var/db/repos/binhost-agent/$PKG/binhost-agent-bin-$pv.ebuild
rm -rf "$OUT"; mkdir -p "$OUT"
fail() { echo "FAIL: $*" | tee -a "$OUT/result.txt"; exit 1; }
ok() { echo "ok: $*" | tee -a "$OUT/result.txt"; }

# --- the overlay, as an admin adds a local repository
rm -rf "$R/var/db/repos/binhost-agent"
cp -a "$repo/deploy/gentoo" "$R/var/db/repos/binhost-agent"
rm -f "$R/var/db/repos/binhost-agent/$PKG/Manifest"
[[ -f $R$ebuild ]] || fail "no ebuild for version $pv in deploy/gentoo"
cat >"$H/upper/etc/portage/repos.conf/binhost-agent.conf" <<'EOC'
[binhost-agent]
location = /var/db/repos/binhost-agent
auto-sync = no
EOC
# What the sandbox has from Debian and not from the mock repository: the dependencies, declared provided as an
# admin declares software installed outside Portage.
mkdir -p "$H/upper/etc/portage/profile"
# the ebuild is keyworded ~amd64, as a new package is
kw=$H/upper/etc/portage/package.accept_keywords
if [[ -d $kw ]]; then echo "$PKG ~amd64" >"$kw/binhost-agent"; else
	grep -qx "$PKG ~amd64" "$kw" 2>/dev/null || echo "$PKG ~amd64" >>"$kw"; fi
printf '%s\n' virtual/jre-17 net-misc/rsync-3.2.7 sys-apps/util-linux-2.38.1 \
	>"$H/upper/etc/portage/profile/package.provided"
install -d "$R/var/cache/distfiles"
cp -p "$tarball" "$R/var/cache/distfiles/"

# --- Manifest, then emerge from the local distfile
HARNESS_HOST=$HOST HARNESS_TOOL=ebuild "$E" "$ebuild" manifest >"$OUT/manifest.txt" 2>&1 ||
	{ cat "$OUT/manifest.txt"; fail "ebuild … manifest"; }
cp "$R/var/db/repos/binhost-agent/$PKG/Manifest" "$OUT/Manifest"
grep -q "^DIST $(basename "$tarball") $(stat -c %s "$tarball") BLAKE2B [0-9a-f]* SHA512 [0-9a-f]*$" "$OUT/Manifest" ||
	fail "Manifest has no DIST line for the tarball: $(cat "$OUT/Manifest")"
ok "ebuild manifest: $(cat "$OUT/Manifest")"
[[ ${COPY_MANIFEST:-} == 1 ]] && cp "$OUT/Manifest" "$repo/deploy/gentoo/$PKG/Manifest"

HARNESS_HOST=$HOST HARNESS_EXTRA_ENV="FEATURES=-buildpkg" "$E" --oneshot --verbose "$PKG" \
	>"$OUT/emerge.txt" 2>&1 </dev/null || { tail -40 "$OUT/emerge.txt"; fail "emerge $PKG"; }
vdb=$(ls -d "$R/var/db/pkg/$PKG-$pv" 2>/dev/null) || fail "no /var/db/pkg entry for $PKG-$pv"
cp "$vdb/CONTENTS" "$OUT/CONTENTS"
ok "emerged: $(grep -c '^obj ' "$OUT/CONTENTS") files, $(grep -c '^dir ' "$OUT/CONTENTS") directories"
for f in /usr/bin/binhost-agent /usr/lib/binhost-agent/quarkus-app/quarkus-run.jar /etc/init.d/binhost-agent \
	/etc/conf.d/binhost-agent /usr/lib/systemd/system/binhost-agent.service /etc/binhost-agent/binhost-agent.properties \
	/usr/share/binhost-agent/monitoring/binhost-agent.rules.yml /var/lib/binhost-agent/.keep_app-admin_binhost-agent-bin-0; do
	grep -q "^obj $f " "$OUT/CONTENTS" || fail "$f not installed"
done
ok "installed where the OpenRC script, the unit and the launcher look"

# --- the installed agent, started inside the host
in_host() { # script: runs under bash in a chroot of the host's root, as emerge-sandbox assembles it
	unshare --mount --propagation private -- bash -c '
		set -e; H=$1 R=$2; shift 2
		for d in usr etc; do
			mount -t overlay overlay -o "lowerdir=/$d,upperdir=$H/upper/$d,workdir=$H/ovlwork/$d" "$R/$d"
		done
		mount -t proc proc "$R/proc"; mount --rbind /dev "$R/dev"
		mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"; mount -t tmpfs -o mode=755 tmpfs "$R/run"
		exec chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -c "$1"
	' in-host "$H" "$R" "$1"
}
# As installed, the reference configuration names an example master (binhost.master.host=master.lan, which does not
# resolve here): the agent must start, stay live, and say in readiness and status why it is not ready. The HTTP
# port is moved off 9873 through the environment, as the init scripts could.
cat >"$OUT/agent.sh" <<EOS
set -u
log=/var/log/binhost-agent
QUARKUS_HTTP_PORT=$PORT binhost-agent run >\$log/agent.log 2>&1 &
pid=\$!
for i in \$(seq 150); do
	[ "\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/q/health/live)" = 200 ] && break
	sleep 0.2
done
for h in live ready started; do
	echo "\$h \$(curl -s -o /tmp/h.json -w '%{http_code}' http://127.0.0.1:$PORT/q/health/\$h) \$(tr -d '\n ' </tmp/h.json)"
done >\$log/health.txt
binhost-agent status >\$log/status.txt 2>&1; echo "status exit \$?" >>\$log/status.txt
kill \$pid; wait \$pid; echo "agent exit \$?" >>\$log/status.txt
EOS
export H R
timeout 120 bash -c "$(declare -f in_host); in_host \"\$1\"" _ "$(cat "$OUT/agent.sh")" >"$OUT/in-host.txt" 2>&1
for f in agent.log health.txt status.txt; do
	cp "$R/var/log/binhost-agent/$f" "$OUT/" 2>/dev/null || fail "the agent left no $f (in-host: $(tail -5 "$OUT/in-host.txt"))"
done
grep -q '^live 200 ' "$OUT/health.txt" || fail "live: $(cat "$OUT/health.txt")"
grep -q '^ready 503 .*master.lan' "$OUT/health.txt" || fail "ready should be DOWN naming master.lan: $(cat "$OUT/health.txt")"
grep -q 'master.lan' "$OUT/status.txt" || fail "status should answer through the control socket: $(cat "$OUT/status.txt")"
ok "started: $(grep -m1 -o 'started in [0-9.]*s' "$OUT/agent.log"); $(cut -c1-90 "$OUT/health.txt" | tr '\n' ';')"
ok "status: $(head -4 "$OUT/status.txt" | tr '\n' ';')"

# --- unmerge: the admin's configuration stays (CONFIG_PROTECT), the rest goes
HARNESS_HOST=$HOST "$E" --unmerge "$PKG" >"$OUT/unmerge.txt" 2>&1 </dev/null || fail "unmerge"
[[ -e $H/upper/usr/bin/binhost-agent ]] && fail "/usr/bin/binhost-agent left after unmerge"
[[ -e $vdb ]] && fail "the /var/db/pkg entry is left after unmerge"
ok "unmerged: /usr/bin/binhost-agent and the /var/db/pkg entry gone"
rm -f "$H/upper/etc/portage/repos.conf/binhost-agent.conf"
echo "== done: $OUT"
