#!/bin/bash
# Records fixtures/records/42-47 and fixtures/followup/ (issue 14) from the REAL Portage, in a private copy of the
# shared harness (/work/shared/harness is only read). Needs root, unshare, overlayfs, rsync, python3 (like the
# harness) and the Portage source tree at $PORTAGE_SRC (never copied into the project). About 15 minutes.
#
#   sudo src/test/resources/harness/followup-record.sh            # writes $OUT (default /tmp/h14/out)
#   WORK=/tmp/pw14 HARNESS_PORT=18081 OUT=/tmp/h14/out ...        # the defaults
#
# Then copy $OUT/records/4[2-7]-* into fixtures/records/ (and append $OUT/records/index.tsv to its index.tsv),
# and $OUT/followup/* into fixtures/followup/.
#
# What it stages (in the COPY at $H14/harness, whose build-sandbox.sh gets a hook run before the metadata regen):
#  - a mock sys-apps/portage (3.0.82; 3.0.83 package.mask'ed until the update) in the profile's @system set; it
#    installs only /usr/share/portage-mock/VERSION; 3.0.83's pkg_postinst prints one harmless eerror line;
#  - demo-daemon-1.6's pkg_postinst gets an unconditional ewarn;
#  - the slave's make.conf gets PORT_LOGDIR, PORTAGE_ELOG_CLASSES and PORTAGE_ELOG_SYSTEM (elog saved to files);
#  - an orphan: app-misc/demo-legacy merged with --usepkg --oneshot on the slave (built locally, no binpkg);
#  - released together with the update (package.mask emptied): a news item (Display-If-Installed:
#    net-misc/demo-daemon) and two GLSAs (one affects demo-daemon <= 1.6, one libdemo < 1.2.0: not affected);
#  - glsa-check is Portage's own bin/glsa-check (it left gentoolkit long ago); the copy of emerge-sandbox gets a
#    `glsa-check` tool name that runs /usr/lib/portage/bin/glsa-check inside the host's chroot.
set -uo pipefail
SHARED_HARNESS=${SHARED_HARNESS:-/work/shared/harness}
H14=${H14:-/tmp/h14}
export WORK=${WORK:-/tmp/pw14} HARNESS_PORT=${HARNESS_PORT:-18081} PORTAGE_SRC=${PORTAGE_SRC:-/tmp/portage-src}
OUT=${OUT:-$H14/out}
case $WORK:$H14:$OUT in /tmp/*:/tmp/*:/tmp/*) ;; *) echo "WORK, H14 and OUT must be under /tmp" >&2; exit 1 ;; esac
unset TERM

# ------------------------------------------------------------ private copy of the harness, patched
rm -rf "$H14/harness"
mkdir -p "$H14"
cp -r "$SHARED_HARNESS" "$H14/harness"
chmod -R u+w "$H14/harness"
HD=$H14/harness
# glsa-check as a tool of emerge-sandbox
sed -i 's#^\temaint | env-update |#\tglsa-check) tool=/usr/lib/portage/bin/glsa-check ;;\n&#' "$HD/emerge-sandbox"
grep -q 'glsa-check) tool=' "$HD/emerge-sandbox" || { echo "patching emerge-sandbox failed" >&2; exit 1; }
# a hook in build-sandbox.sh, run before its final metadata regeneration
sed -i 's#^"\$HARNESS_DIR/regen-metadata.sh"$#[[ -n ${HARNESS_PRE_REGEN:-} ]] \&\& . "$HARNESS_PRE_REGEN"\n&#' \
	"$HD/build-sandbox.sh"
grep -q HARNESS_PRE_REGEN "$HD/build-sandbox.sh" || { echo "patching build-sandbox.sh failed" >&2; exit 1; }

cat >"$H14/pre-regen.sh" <<'HOOK'
# sourced by build-sandbox.sh (copy) before the metadata regeneration: $REPO_DIR, $WORK are set
for pv in 3.0.82 3.0.83; do
	d=$REPO_DIR/sys-apps/portage
	mkdir -p "$d"
	{
		cat <<EOF
# Harness test ebuild (not from the Gentoo repository): a mock of sys-apps/portage.
# It installs a marker file only; the real Portage runs from its source tree.

EAPI=8

DESCRIPTION="Harness mock of the package manager (installs a marker file only)"
HOMEPAGE="http://127.0.0.1/"
S="\${WORKDIR}"

LICENSE="GPL-2"
SLOT="0"
KEYWORDS="amd64"

src_install() {
	insinto /usr/share/portage-mock
	newins - VERSION <<<"\${PVR}"
}
EOF
		[[ $pv == 3.0.83 ]] && cat <<'EOF'

pkg_postinst() {
	eerror "Harness: a harmless eerror line from the mock ${CATEGORY}/${PF} (nothing is wrong)."
}
EOF
	} >"$d/portage-$pv.ebuild"
done
echo "*sys-apps/portage" >>"$REPO_DIR/profiles/default/linux/amd64/23.0/packages"
echo ">=sys-apps/portage-3.0.83" >>"$REPO_DIR/profiles/package.mask"
(cd "$REPO_DIR" && find . -name '*.ebuild' | cut -d/ -f2 | sort -u >profiles/categories)
# demo-daemon-1.6: an unconditional ewarn in pkg_postinst
sed -i 's#^pkg_postinst() {$#&\n\tewarn "demo-daemon ${PV}: the listen= syntax changed, check ${EROOT}/etc/demo-daemon.conf"#' \
	"$REPO_DIR/net-misc/demo-daemon/demo-daemon-1.6.ebuild"
# the slave saves elog messages to files
cat >>"$WORK/hosts/slave/upper/etc/portage/make.conf" <<'EOF'

# elog saved to files (issue 14 fixtures)
PORT_LOGDIR="/var/log/portage"
PORTAGE_ELOG_CLASSES="log warn error"
PORTAGE_ELOG_SYSTEM="save save_summary"
EOF
mkdir -p "$WORK/hosts/slave/rootfs/var/log/portage"
HOOK
export HARNESS_PRE_REGEN=$H14/pre-regen.sh

. "$HD/env.sh"
E=$HD/emerge-sandbox
HR=$WORK/hosts/slave/rootfs
HE=$WORK/hosts/slave/upper/etc
LOG=$H14/log
rm -rf "$OUT" "$LOG"
mkdir -p "$OUT/records" "$OUT/followup" "$LOG"
: >"$OUT/records/index.tsv"

echo "== build-sandbox (copy)"
"$HD/build-sandbox.sh" >"$LOG/build-sandbox.log" 2>&1 || { tail -30 "$LOG/build-sandbox.log"; exit 1; }

# ------------------------------------------------------------ distfile server (loopback only)
httpd_pid=
python3 -m http.server "$HARNESS_PORT" --bind 127.0.0.1 --directory "$UPSTREAM_DIR" >>"$LOG/httpd.log" 2>&1 &
httpd_pid=$!
trap '[[ -n $httpd_pid ]] && kill "$httpd_pid" 2>/dev/null' EXIT
for _ in $(seq 50); do
	python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$HARNESS_PORT)))" && break
	sleep 0.1
done

run() { # host logname -- args   (not recorded: output to $LOG)
	local host=$1 name=$2
	shift 3
	HARNESS_HOST=$host "$E" "$@" >"$LOG/$name.txt" 2>&1 </dev/null
	local rc=$?
	echo "  $name: rc $rc"
	return 0
}
MASTER_ARGS=(--update --deep --newuse --with-bdeps y @world)
SLAVE_ARGS=(--usepkg --update --deep --changed-use --with-bdeps y @world)

# ------------------------------------------------------------ record helpers
vdb_trim() { # dest
	local dest=$1 f e
	mkdir -p "$dest"
	for e in "$HR"/var/db/pkg/*/*/; do
		[[ -d $e ]] || continue
		e=${e%/}
		local rel=${e#"$HR"/var/db/pkg/}
		mkdir -p "$dest/$rel"
		for f in COUNTER BUILD_ID BINPKGMD5 USE IUSE CHOST SLOT repository BUILD_TIME DEFINED_PHASES KEYWORDS; do
			[[ -f $e/$f ]] && cp "$e/$f" "$dest/$rel/$f"
		done
	done
	[[ -n $(ls -A "$dest") ]] || : >"$dest/.empty"
}
PKG_COPIES=()
packages_copy() { # dir
	local d=$1 c
	for c in "${PKG_COPIES[@]}"; do
		if cmp -s "$PKGDIR_SHARED/Packages" "$OUT/records/$c/Packages"; then
			echo "../$c/Packages" >"$d/Packages.see"
			return
		fi
	done
	cp "$PKGDIR_SHARED/Packages" "$d/Packages"
	PKG_COPIES+=("${d##*/}")
}
# record NN-name "what it shows" -- emerge-args   (host slave)
record() {
	local name=$1 dir=$OUT/records/$1 shows=$2
	shift 3
	mkdir -p "$dir"
	echo "emerge $*" >"$dir/command"
	vdb_trim "$dir/vdb-before"
	[[ -f $HR/var/cache/edb/mtimedb ]] && cp "$HR/var/cache/edb/mtimedb" "$dir/mtimedb-before"
	cp "$HE/portage/make.conf" "$dir/make.conf"
	cp "$HR/var/lib/portage/world" "$dir/world"
	packages_copy "$dir"
	local size=0 rc
	[[ -f $HR/var/log/emerge.log ]] && size=$(stat -c %s "$HR/var/log/emerge.log")
	HARNESS_HOST=slave "$E" "$@" >"$dir/.out" 2>&1 </dev/null
	rc=$?
	mv "$dir/.out" "$dir/output.rc$rc.txt"
	if [[ -f $HR/var/log/emerge.log ]]; then
		tail -c +$((size + 1)) "$HR/var/log/emerge.log" >"$dir/emerge.log"
	else
		: >"$dir/emerge.log"
	fi
	vdb_trim "$dir/vdb-after"
	[[ -f $HR/var/cache/edb/mtimedb ]] && cp "$HR/var/cache/edb/mtimedb" "$dir/mtimedb"
	printf '%s\tslave\t%d\temerge %s\t%s\n' "$name" "$rc" "$*" "$shows" >>"$OUT/records/index.tsv"
	echo "  record $name: rc $rc"
}

# followup CASE "one line: state"   (host slave)
followup() {
	local d=$OUT/followup/$1 rc f
	mkdir -p "$d"
	echo "$2" >"$d/case"
	HARNESS_HOST=slave HARNESS_TOOL=portageq "$E" envvar CONFIG_PROTECT CONFIG_PROTECT_MASK >"$d/.o" 2>"$LOG/$1-envvar.err" </dev/null
	rc=$?; mv "$d/.o" "$d/portageq-envvar.rc$rc.txt"
	HARNESS_HOST=slave HARNESS_TOOL=portageq "$E" list_preserved_libs / >"$d/.o" 2>"$LOG/$1-preserved.err" </dev/null
	rc=$?; mv "$d/.o" "$d/portageq-preserved.rc$rc.txt"
	HARNESS_HOST=slave "$E" --pretend --depclean >"$d/.o" 2>&1 </dev/null
	rc=$?; mv "$d/.o" "$d/depclean.rc$rc.txt"
	HARNESS_HOST=slave "$E" --pretend --depclean --quiet >"$d/.o" 2>&1 </dev/null
	rc=$?; mv "$d/.o" "$d/depclean-quiet.rc$rc.txt"
	HARNESS_HOST=slave HARNESS_TOOL=glsa-check "$E" -t all >"$d/.o" 2>"$d/.e" </dev/null
	rc=$?; mv "$d/.o" "$d/glsa-check.rc$rc.stdout"; mv "$d/.e" "$d/glsa-check.rc$rc.stderr"
	# the GLSA that does not affect the slave, alone
	if [[ -f $REPO_DIR/metadata/glsa/glsa-202611-02.xml ]]; then
		HARNESS_HOST=slave HARNESS_TOOL=glsa-check "$E" -t 202611-02 >"$d/.o" 2>"$d/.e" </dev/null
		rc=$?; mv "$d/.o" "$d/glsa-check-202611-02.rc$rc.stdout"; mv "$d/.e" "$d/glsa-check-202611-02.rc$rc.stderr"
	fi
	# what the agent reads from the host, paths as on the host
	local r=$d/root
	mkdir -p "$r/etc/portage"
	cp "$HE/portage/make.conf" "$r/etc/portage/make.conf"
	(cd "$HE" && find . -name '._cfg????_*' -printf '%P\n') | while read -r f; do
		mkdir -p "$r/etc/$(dirname "$f")"
		cp -p "$HE/$f" "$r/etc/$f"
		local b=${f##*/}
		b=$(dirname "$f")/${b#._cfg????_}
		b=${b#./}
		[[ -f $HE/$b ]] && cp -p "$HE/$b" "$r/etc/$b"
	done
	if [[ -d $HR/var/lib/gentoo/news ]]; then
		mkdir -p "$r/var/lib/gentoo"
		cp -rp "$HR/var/lib/gentoo/news" "$r/var/lib/gentoo/"
	fi
	if [[ -f $HR/var/lib/portage/preserved_libs_registry ]]; then
		mkdir -p "$r/var/lib/portage"
		cp -p "$HR/var/lib/portage/preserved_libs_registry" "$r/var/lib/portage/"
	fi
	if [[ -d $HR/var/log/portage/elog ]]; then
		mkdir -p "$r/var/log/portage"
		cp -rp "$HR/var/log/portage/elog" "$r/var/log/portage/"
	fi
	for f in metadata/news metadata/glsa; do
		if [[ -d $REPO_DIR/$f ]]; then
			mkdir -p "$r/var/db/repos/gentoo/$f"
			cp -rp "$REPO_DIR/$f/." "$r/var/db/repos/gentoo/$f/"
		fi
	done
	echo "  followup $1"
}

# ------------------------------------------------------------ the scenario
echo "== master: initial build"
run master master-initial -- "${MASTER_ARGS[@]}"
echo "== slave: initial install from the master's binpkgs"
run slave slave-initial -- "${SLAVE_ARGS[@]}"
followup 00-clean "slave after installing the master's initial build (all binary), nothing pending; before the update is released; no orphan yet"

echo "== slave: an orphan"
run slave slave-orphan -- --usepkg --oneshot app-misc/demo-legacy
followup 01-orphan "slave as in 00-clean plus app-misc/demo-legacy-1.0 merged with --usepkg --oneshot (built locally, not in @world, nothing depends on it)"

echo "== release the update: package.mask emptied, news item and GLSAs added"
: >"$REPO_DIR/profiles/package.mask"
n=2026-12-02-demo-daemon-config
mkdir -p "$REPO_DIR/metadata/news/$n" "$REPO_DIR/metadata/glsa"
cat >"$REPO_DIR/metadata/news/$n/$n.en.txt" <<'EOF'
Title: demo-daemon 1.6 changes its listen= syntax
Author: Harness Recorder <harness@example.invalid>
Posted: 2026-12-02
Revision: 1
News-Item-Format: 2.0
Display-If-Installed: net-misc/demo-daemon

Harness news item (not from the Gentoo repository). demo-daemon 1.6 reads
the listen= line of /etc/demo-daemon.conf differently. Merge the new
configuration file with dispatch-conf or etc-update after the update.
EOF
glsa() { # id title pkg vulnerable-range vulnerable-version unaffected-range unaffected-version
	cat >"$REPO_DIR/metadata/glsa/glsa-$1.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE glsa SYSTEM "http://www.gentoo.org/dtd/glsa.dtd">
<glsa id="$1">
  <title>$2</title>
  <synopsis>Harness GLSA (not a real advisory): $2.</synopsis>
  <product type="ebuild">${3#*/}</product>
  <announced>2026-11-30</announced>
  <revised count="1">2026-11-30</revised>
  <bug>900001</bug>
  <access>remote</access>
  <affected>
    <package name="$3" auto="yes" arch="*">
      <unaffected range="$6">$7</unaffected>
      <vulnerable range="$4">$5</vulnerable>
    </package>
  </affected>
  <background>
    <p>A package of the binhost-agent test harness.</p>
  </background>
  <description>
    <p>A made-up flaw, for testing only.</p>
  </description>
  <impact type="normal">
    <p>None: this advisory is made up.</p>
  </impact>
  <workaround>
    <p>There is no known workaround at this time.</p>
  </workaround>
  <resolution>
    <p>All users should upgrade to the latest version:</p>
    <code>
      # emerge --sync
      # emerge --ask --oneshot --verbose "&gt;=$3-$7"
    </code>
  </resolution>
  <references>
    <uri link="http://127.0.0.1/">Harness</uri>
  </references>
  <metadata tag="requester" timestamp="2026-11-30T00:00:00Z">harness</metadata>
  <metadata tag="submitter" timestamp="2026-11-30T00:00:00Z">harness</metadata>
</glsa>
EOF
}
glsa 202611-01 "demo-daemon: made-up remote flaw" net-misc/demo-daemon le 1.6 ge 1.7
glsa 202611-02 "libdemo: made-up flaw in old versions" dev-libs/libdemo lt 1.2.0 ge 1.2.0
"$HD/regen-metadata.sh" >>"$LOG/build-sandbox.log" 2>&1

echo "== master: update build and @preserved-rebuild"
run master master-update -- "${MASTER_ARGS[@]}"
run master master-preserved-rebuild -- @preserved-rebuild
# the slave's admin edited the protected config file
echo "# local edit by the slave's admin" >>"$HE/demo-daemon.conf"

echo "== slave: records 42-47"
record 42-slave-portage-first-plan-pretend "the update plan with the mock sys-apps/portage-3.0.83 among the others, all [binary]" -- \
	--pretend --verbose "${SLAVE_ARGS[@]}"
record 43-slave-portage-first "portage alone first: sys-apps/portage-3.0.83 from its binpkg (eerror in pkg_postinst)" -- \
	--usepkg --update --deep --changed-use --with-bdeps y --oneshot sys-apps/portage
followup 02-after-portage-first "slave after record 43 (mock sys-apps/portage 3.0.83 merged alone; the rest of the update pending)"
record 44-slave-update-rest-pretend "the @world plan again, portage no longer in it" -- --pretend --verbose "${SLAVE_ARGS[@]}"
record 45-slave-update-rest "the real @world update from binpkgs: preserved libs, ._cfg0000_ file, news, elog warn/error" -- \
	"${SLAVE_ARGS[@]}"
followup 03-after-update "slave after record 45 (update merged: preserved libdemo.so.1, ._cfg0000_demo-daemon.conf, unread news, elog files, orphan still installed)"
record 46-slave-preserved-rebuild-pretend "emerge --usepkg -pv @preserved-rebuild after the update" -- --usepkg --pretend --verbose @preserved-rebuild
record 47-slave-preserved-rebuild "emerge --usepkg @preserved-rebuild (real)" -- --usepkg @preserved-rebuild
followup 04-after-preserved-rebuild "slave after record 47 (@preserved-rebuild done; ._cfg file, news and orphan still there)"

HARNESS_HOST=slave "$E" --version >"$LOG/emerge--version.txt" 2>&1
echo "done: $OUT"
