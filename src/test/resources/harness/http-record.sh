#!/bin/bash
# Records fixtures/records/60-77 (issue 15: an HTTP binhost with signed binary packages) from the REAL Portage, in
# the shared harness's sandbox (/work/shared/harness is only read and run). Needs root, unshare, overlayfs, rsync,
# python3, gpg (like the harness) and the Portage source tree at $PORTAGE_SRC (never copied into the project).
# About 15 minutes, most of it the master's build.
#
#   src/test/resources/harness/http-record.sh          # rebuilds $WORK, writes $OUT (default /tmp/h15/out)
#
# Then copy $OUT/records/6?-* into fixtures/records/ and append $OUT/records/index.tsv to its index.tsv.
#
# The arrangement, as an admin would set it up:
#  - master: FEATURES="buildpkg binpkg-signing", a signing key without passphrase in /root/.gnupg
#    (BINPKG_GPG_SIGNING_GPG_HOME, BINPKG_GPG_SIGNING_KEY); its PKGDIR served read-only by a web server
#    (python3 -m http.server on 127.0.0.1:$BINHOST_PORT here);
#  - slave: an empty local PKGDIR of its own (the harness binds the shared one at /var/cache/binpkgs, which an
#    http slave does not have), /etc/portage/binrepos.conf/binhost-agent.conf pointing at the binhost, the
#    master's public key imported into /etc/portage/gnupg with ultimate ownertrust.
set -uo pipefail
SHARED_HARNESS=${SHARED_HARNESS:-/work/shared/harness}
export WORK=${WORK:-/tmp/portage-work} HARNESS_PORT=${HARNESS_PORT:-18080} PORTAGE_SRC=${PORTAGE_SRC:-/tmp/portage-src}
BINHOST_PORT=${BINHOST_PORT:-18090}
OUT=${OUT:-/tmp/h15/out}
LOG=$OUT/log
case $WORK:$OUT in /tmp/*:/tmp/*) ;; *) echo "WORK and OUT must be under /tmp" >&2; exit 1 ;; esac
. "$SHARED_HARNESS/env.sh"
E=$SHARED_HARNESS/emerge-sandbox
SNAP=$WORK/snapshots-h15
unset TERM
rm -rf "$OUT"
mkdir -p "$OUT/records" "$LOG" "$SNAP"
: >"$OUT/records/index.tsv"

if [[ ${SKIP_BUILD:-} != 1 ]]; then
	echo "== build-sandbox"
	"$SHARED_HARNESS/build-sandbox.sh" >"$LOG/build-sandbox.log" 2>&1 || { tail -30 "$LOG/build-sandbox.log"; exit 1; }
fi

# ------------------------------------------------------------ servers (loopback only), stopped by PID
pids=()
answers() { python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$1)))"; }
# serve PORT DIR: a web server of our own on the port, which nothing else may hold (an earlier server left running
# would answer in its place, from another directory, and the record would say what did not happen)
serve() {
	if answers "$1"; then
		echo "127.0.0.1:$1 is already served by someone else" >&2
		exit 1
	fi
	python3 -m http.server "$1" --bind 127.0.0.1 --directory "$2" >>"$LOG/httpd-$1.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do
		if answers "$1"; then
			kill -0 "${pids[-1]}" 2>/dev/null && return 0
			echo "the server on 127.0.0.1:$1 is not ours" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "no server on 127.0.0.1:$1" >&2
	exit 1
}
binhost_pid=
# binhost_up [DIR]: the binhost serving DIR (default the master's PKGDIR), replacing one already up
binhost_up() { binhost_down; serve "$BINHOST_PORT" "${1:-$PKGDIR_SHARED}"; binhost_pid=${pids[-1]}; }
binhost_down() {
	if [[ -n $binhost_pid ]]; then
		kill "$binhost_pid" && wait "$binhost_pid" 2>/dev/null
		binhost_pid=
	fi
	if answers "$BINHOST_PORT"; then
		echo "127.0.0.1:$BINHOST_PORT still answers with the binhost down" >&2
		exit 1
	fi
}
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[[ -n ${MASTER_GNUPG:-} ]] && gpgconf --homedir "$MASTER_GNUPG" --kill gpg-agent 2>/dev/null
}
trap cleanup EXIT
serve "$HARNESS_PORT" "$UPSTREAM_DIR"

hroot() { echo "$WORK/hosts/$1/rootfs"; }
hetc() { echo "$WORK/hosts/$1/upper/etc"; }
save() { mkdir -p "$SNAP/$1"; rsync -a --delete "$WORK/hosts/$2/" "$SNAP/$1/host/"; rsync -a --delete "$PKGDIR_SHARED/" "$SNAP/$1/binpkgs/"; }
restore() { rsync -a --delete "$SNAP/$1/host/" "$WORK/hosts/$2/"; rsync -a --delete "$SNAP/$1/binpkgs/" "$PKGDIR_SHARED/"; }

# ------------------------------------------------------------ the master signs
MASTER_GNUPG=$(hroot master)/root/.gnupg
install -d -m 0700 "$MASTER_GNUPG"
gpg --homedir "$MASTER_GNUPG" --batch --passphrase '' --quick-gen-key 'Harness Master <master@harness.invalid>' \
	ed25519 sign never >"$LOG/gpg-gen.txt" 2>&1 || { cat "$LOG/gpg-gen.txt"; exit 1; }
FPR=$(gpg --homedir "$MASTER_GNUPG" --with-colons --list-secret-keys | awk -F: '$1=="fpr"{print $10; exit}')
gpg --homedir "$MASTER_GNUPG" --armor --export "$FPR" >"$OUT/master.asc"
gpgconf --homedir "$MASTER_GNUPG" --kill gpg-agent
cat >>"$(hetc master)/portage/make.conf" <<EOF

# issue 15: sign every binpkg (gpkg) with the master's key
FEATURES="\${FEATURES} binpkg-signing"
BINPKG_GPG_SIGNING_GPG_HOME="/root/.gnupg"
BINPKG_GPG_SIGNING_KEY="0x$FPR"
EOF
# Portage verifies each binpkg it has just signed, with the keys in the master's own /etc/portage/gnupg
trust_master_key() { # gnupg-home
	install -d -m 0755 "$1"
	gpg --homedir "$1" --batch --import "$OUT/master.asc" >>"$LOG/gpg-trust.txt" 2>&1
	echo "$FPR:6:" | gpg --homedir "$1" --batch --import-ownertrust >>"$LOG/gpg-trust.txt" 2>&1
	# verification runs with --no-auto-check-trustdb as nobody, who cannot write the trustdb: compute it now
	gpg --homedir "$1" --batch --check-trustdb >>"$LOG/gpg-trust.txt" 2>&1
	gpgconf --homedir "$1" --kill gpg-agent 2>/dev/null
	chmod -R go+rX "$1" # verification runs as nobody (GPG_VERIFY_USER_DROP)
}
trust_master_key "$(hetc master)/portage/gnupg"
echo "== master: build and sign (key $FPR)"
HARNESS_HOST=master "$E" --update --deep --newuse --with-bdeps y @world >"$LOG/master-build.txt" 2>&1 </dev/null
rc=$?
echo "  master build: rc $rc"
[[ $rc == 0 && -f $PKGDIR_SHARED/Packages ]] || { tail -40 "$LOG/master-build.txt"; exit 1; }
gpgconf --homedir "$MASTER_GNUPG" --kill gpg-agent

# ------------------------------------------------------------ an http slave
http_slave() { # host
	local etc
	etc=$(hetc "$1")
	mkdir -p "$etc/portage/binrepos.conf" "$(hroot "$1")/var/cache/binpkgs-local"
	cat >"$etc/portage/binrepos.conf/binhost-agent.conf" <<EOF
# as binhost-agent writes it (binhost.packages.url=http://127.0.0.1:$BINHOST_PORT)
[binhost-agent]
priority = 10
sync-uri = http://127.0.0.1:$BINHOST_PORT
EOF
	cat >>"$etc/portage/make.conf" <<EOF

# issue 15: binaries come from the master's http binhost, not from a shared PKGDIR
PKGDIR="/var/cache/binpkgs-local"
EOF
	trust_master_key "$etc/portage/gnupg"
}
http_slave slave
http_slave slave-mixed
save slave-fresh slave
save mixed-fresh slave-mixed

# ------------------------------------------------------------ record helpers
vdb_trim() { # root dest
	local root=$1 dest=$2 f e
	mkdir -p "$dest"
	for e in "$root"/var/db/pkg/*/*/; do
		[[ -d $e ]] || continue
		e=${e%/}
		local rel=${e#"$root"/var/db/pkg/}
		mkdir -p "$dest/$rel"
		for f in COUNTER BUILD_ID BINPKGMD5 USE IUSE CHOST SLOT repository BUILD_TIME DEFINED_PHASES KEYWORDS; do
			[[ -f $e/$f ]] && cp "$e/$f" "$dest/$rel/$f"
		done
	done
	[[ -n $(ls -A "$dest") ]] || : >"$dest/.empty"
}
FIRST_PACKAGES=
downloads() { # root dest
	(cd "$1" && find var/cache/binhost var/cache/binpkgs-local -type f -printf '%p\t%s\n' 2>/dev/null | sort) >"$2"
}
# record NN-name host "what it shows" -- emerge-args
record() {
	local name=$1 host=$2 dir=$OUT/records/$1 shows=$3 root etc
	shift 4
	root=$(hroot "$host")
	etc=$(hetc "$host")
	mkdir -p "$dir"
	echo "emerge $*" >"$dir/command"
	vdb_trim "$root" "$dir/vdb-before"
	[[ -f $root/var/cache/edb/mtimedb ]] && cp "$root/var/cache/edb/mtimedb" "$dir/mtimedb-before"
	cp "$etc/portage/make.conf" "$dir/make.conf"
	cp "$etc/portage/binrepos.conf/binhost-agent.conf" "$dir/binrepos.conf"
	cp "$root/var/lib/portage/world" "$dir/world"
	if [[ -z $FIRST_PACKAGES ]] || ! cmp -s "$PKGDIR_SHARED/Packages" "$OUT/records/$FIRST_PACKAGES/Packages"; then
		cp "$PKGDIR_SHARED/Packages" "$dir/Packages"
		[[ -n $FIRST_PACKAGES ]] || FIRST_PACKAGES=$name
	else
		echo "../$FIRST_PACKAGES/Packages" >"$dir/Packages.see"
	fi
	local size=0 rc hsize=0 hlog=$LOG/httpd-$BINHOST_PORT.log
	[[ -f $root/var/log/emerge.log ]] && size=$(stat -c %s "$root/var/log/emerge.log")
	[[ -f $hlog ]] && hsize=$(stat -c %s "$hlog")
	HARNESS_HOST=$host "$E" "$@" >"$dir/.out" 2>&1 </dev/null
	rc=$?
	mv "$dir/.out" "$dir/output.rc$rc.txt"
	if [[ -f $root/var/log/emerge.log ]]; then
		tail -c +$((size + 1)) "$root/var/log/emerge.log" >"$dir/emerge.log"
	else
		: >"$dir/emerge.log"
	fi
	vdb_trim "$root" "$dir/vdb-after"
	[[ -f $root/var/cache/edb/mtimedb ]] && cp "$root/var/cache/edb/mtimedb" "$dir/mtimedb"
	downloads "$root" "$dir/downloads.txt"
	[[ -s $dir/downloads.txt ]] || rm "$dir/downloads.txt"
	# what the binhost was asked for during the call (its access log, the requests only)
	if [[ -f $hlog ]]; then
		tail -c +$((hsize + 1)) "$hlog" | grep -o '"[A-Z]* [^ ]* HTTP/[0-9.]*" [0-9]*' >"$dir/binhost-requests.txt"
		[[ -s $dir/binhost-requests.txt ]] || rm "$dir/binhost-requests.txt"
	fi
	printf '%s\t%s\t%d\temerge %s\t%s\n' "$name" "$host" "$rc" "$*" "$shows" >>"$OUT/records/index.tsv"
	echo "  record $name: rc $rc"
}
SLAVE_ARGS=(--usepkg --getbinpkg --update --deep --changed-use --with-bdeps y @world)

# ------------------------------------------------------------ scenarios
binhost_up
record 60-http-pretend slave "fresh slave, signed http binhost: the plan with remote binaries" -- \
	--pretend --verbose "${SLAVE_ARGS[@]}"
record 61-http-update slave "fresh slave: the real update, every binary fetched and its signature verified" -- \
	"${SLAVE_ARGS[@]}"
record 62-http-mixed slave-mixed "slave-mixed (other USE): binaries fetched where USE matches, the rest built" -- \
	"${SLAVE_ARGS[@]}"

restore slave-fresh slave
binhost_down
record 63-http-down-pretend slave "binhost not running: the plan falls back to building everything" -- \
	--pretend --verbose "${SLAVE_ARGS[@]}"
record 64-http-down-getbinpkgonly slave "binhost not running, binaries only (--getbinpkgonly)" -- \
	--getbinpkgonly --update --deep --changed-use --with-bdeps y @world

# the slave does not trust the master's key: an empty gnupg home
restore slave-fresh slave
binhost_up
mv "$(hetc slave)/portage/gnupg" "$(hetc slave)/portage/gnupg.trusted"
install -d -m 0755 "$(hetc slave)/portage/gnupg"
gpg --homedir "$(hetc slave)/portage/gnupg" --batch --list-keys >/dev/null 2>&1
gpgconf --homedir "$(hetc slave)/portage/gnupg" --kill gpg-agent 2>/dev/null
chmod -R go+rX "$(hetc slave)/portage/gnupg"
record 65-http-untrusted-key slave "the slave lacks the master's key: the first binary fails verification" -- \
	"${SLAVE_ARGS[@]}"
restore slave-fresh slave

# a binpkg on the binhost that does not match the index: one with bytes appended (size), one with a byte changed
# (same size, other digest). The web server serves a copy of PKGDIR so the master's stays as built.
binhost_down
SERVED=$WORK/served-h15
rsync -a --delete "$PKGDIR_SHARED/" "$SERVED/"
victim=$(cd "$SERVED" && ls app-misc/demo-cli/*.gpkg.tar | head -1)
printf 'garbage' >>"$SERVED/$victim"
binhost_up "$SERVED"
record 66-http-size-mismatch slave "the binhost's demo-cli binpkg is longer than its index entry says" -- \
	"${SLAVE_ARGS[@]}"
# what binhost.packages.on-bad-binary=build-locally runs next, from the state 66 left: that package built here
EXCLUDE=(--usepkg --getbinpkg --update --deep --changed-use --with-bdeps y --usepkg-exclude app-misc/demo-cli @world)
record 72-http-build-here-pretend slave "after 66: the follow-on plan, demo-cli built here, demo-daemon fetched" -- \
	--pretend --verbose "${EXCLUDE[@]}"
record 73-http-build-here slave "after 66: the follow-on run, demo-cli built here, demo-daemon fetched" -- \
	"${EXCLUDE[@]}"
restore slave-fresh slave
binhost_down
rsync -a --delete "$PKGDIR_SHARED/" "$SERVED/"
python3 - "$SERVED/$victim" <<'EOF'
import sys
p = sys.argv[1]
with open(p, 'r+b') as f:
    f.seek(2048)
    b = f.read(1)
    f.seek(2048)
    f.write(bytes([b[0] ^ 0xff]))
EOF
binhost_up "$SERVED"
record 67-http-digest-mismatch slave "the binhost's demo-cli binpkg has one byte changed (same size)" -- \
	"${SLAVE_ARGS[@]}"
restore slave-fresh slave

# the follow-on run of binhost.packages.on-bad-binary=build-locally: the bad binary's package built here
binhost_up
record 71-http-usepkg-exclude-pretend slave "--usepkg-exclude app-misc/demo-cli: built here, the rest still fetched" -- \
	--pretend --verbose --usepkg --getbinpkg --usepkg-exclude app-misc/demo-cli --update --deep --changed-use \
	--with-bdeps y @world
binhost_down

# a cut Packages index: Portage asks for Packages.gz first, so both are the cut one
binhost_down
rsync -a --delete "$PKGDIR_SHARED/" "$SERVED/"
head -c $(($(stat -c %s "$SERVED/Packages") / 2)) "$PKGDIR_SHARED/Packages" >"$SERVED/Packages"
gzip -9nc "$SERVED/Packages" >"$SERVED/Packages.gz"
binhost_up "$SERVED"
record 68-http-index-cut slave "the binhost's Packages index is cut in the middle" -- \
	--pretend --verbose "${SLAVE_ARGS[@]}"
binhost_down

# prefetch, then the install with the binhost down
binhost_up
restore slave-fresh slave
record 69-http-fetchonly slave "download only (--fetchonly): what is fetched, and what is written" -- \
	--fetchonly "${SLAVE_ARGS[@]}"
binhost_down
record 70-http-after-prefetch-down slave "after the prefetch, the install with the binhost down" -- \
	"${SLAVE_ARGS[@]}"

# the prefetch as the agent runs it (issue 15): with the binhost up, then the install with the binhost still up,
# which needs only the index (Portage's download_required: the cached file's size and mtime match the index)
restore slave-fresh slave
binhost_up
record 74-http-prefetch slave "prefetch: download only, the binhost up" -- \
	--fetchonly "${SLAVE_ARGS[@]}"
record 75-http-install-after-prefetch slave "after 74, the install with the binhost up: what it fetches again" -- \
	"${SLAVE_ARGS[@]}"
# a prefetch with the binhost down (the agent does not start one then; this is what it would get)
restore slave-fresh slave
binhost_down
record 76-http-prefetch-down slave "prefetch with the binhost down" -- \
	--fetchonly "${SLAVE_ARGS[@]}"
# a prefetch that meets a binpkg longer than its index entry
rsync -a --delete "$PKGDIR_SHARED/" "$SERVED/"
printf 'garbage' >>"$SERVED/$victim"
binhost_up "$SERVED"
record 77-http-prefetch-size-mismatch slave "prefetch: demo-cli's binpkg longer than its index entry" -- \
	--fetchonly "${SLAVE_ARGS[@]}"
binhost_down
echo "== done: $OUT/records"
