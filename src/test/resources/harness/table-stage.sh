#!/bin/bash
# Puts a harness host (/work/shared/harness) into a scenario's known state for HarnessTableTest (never in CI):
#   table-stage.sh STAGE      STAGE: fresh-mixed, mixed-jobs3, mixed-02slave, fresh-fail, mixed-dep-vanished
#   table-stage.sh cleanup    every host and the repo back as they were before the first stage
# Snapshots (host tree + shared PKGDIR) live in $HARNESS_TABLE_SNAP (default /tmp/harness-table-snap); the first
# call saves the fresh ones. mixed-dep-vanished stages scenario 12 of fixtures/records: slave-mixed after its
# merge, demo-cli-2.1 released whose new RDEPEND dev-libs/demo-vanished exists nowhere. The repo change is undone
# by cleanup (the repo and master host are saved before it and put back with rsync --delete).
set -euo pipefail
. "${HARNESS_DIR:-/work/shared/harness}/env.sh"
SNAP=${HARNESS_TABLE_SNAP:-/tmp/harness-table-snap}
E=$HARNESS_DIR/emerge-sandbox
SEED=(--usepkg --update --deep --changed-use --with-bdeps y @world)
unset TERM

save() { mkdir -p "$SNAP/$1"; rsync -a --delete "$WORK/hosts/$2/" "$SNAP/$1/host/"; rsync -a --delete "$PKGDIR_SHARED/" "$SNAP/$1/binpkgs/"; }
restore() { rsync -a --delete "$SNAP/$1/host/" "$WORK/hosts/$2/"; rsync -a --delete "$SNAP/$1/binpkgs/" "$PKGDIR_SHARED/"; }
mc() { echo "$WORK/hosts/$1/upper/etc/portage/make.conf"; }

for h in slave-mixed slave-fail; do
	[[ -d $SNAP/fresh-$h ]] || save "fresh-$h" "$h"
done

# every stage but mixed-dep-vanished starts from the repo as it was
unstage_repo() {
	if [[ -d $SNAP/repos ]]; then
		rsync -a --delete "$SNAP/repos/" "$WORK/repos/"
		rm -rf "$SNAP/repos"
		restore master-before-regen master
	fi
	if [[ -f $SNAP/remove-demo-cli-2.1.tar.gz ]]; then
		rm -f "$UPSTREAM_DIR/demo-cli-2.1.tar.gz" "$SNAP/remove-demo-cli-2.1.tar.gz"
	fi
}
[[ $1 == mixed-dep-vanished ]] || unstage_repo

case ${1:?stage} in
	fresh-mixed) restore fresh-slave-mixed slave-mixed ;;
	fresh-fail) restore fresh-slave-fail slave-fail ;;
	mixed-jobs3)
		restore fresh-slave-mixed slave-mixed
		printf '\nEMERGE_DEFAULT_OPTS="--jobs 3"\n' >>"$(mc slave-mixed)"
		;;
	mixed-02slave)
		restore fresh-slave-mixed slave-mixed
		m=$(mc slave-mixed)
		cp "$m" "$SNAP/make.conf.base"
		rm -f "$m"
		mkdir "$m"
		cp "$SNAP/make.conf.base" "$m/01base"
		printf '# the seed'"'"'s /etc/portage/make.conf/02slave\nMAKEOPTS="-j2 -l2"\n\nEMERGE_DEFAULT_OPTS="--jobs 2 --load-average 2 --quiet-build y"\n' >"$m/02slave"
		;;
	mixed-dep-vanished)
		if [[ ! -d $SNAP/after-mixed ]]; then
			restore fresh-slave-mixed slave-mixed
			HARNESS_HOST=slave-mixed "$E" "${SEED[@]}" >"$SNAP/after-mixed.log" 2>&1 </dev/null
			save after-mixed slave-mixed
		fi
		if [[ ! -d $SNAP/repos ]]; then
			rsync -a "$WORK/repos/" "$SNAP/repos/"
			save master-before-regen master
		fi
		R=$REPO_DIR
		if [[ ! -f $UPSTREAM_DIR/demo-cli-2.1.tar.gz ]]; then
			t=$(mktemp -d)
			tar -xzf "$UPSTREAM_DIR/demo-cli-2.0.tar.gz" -C "$t"
			mv "$t/demo-cli-2.0" "$t/demo-cli-2.1"
			tar -czf "$UPSTREAM_DIR/demo-cli-2.1.tar.gz" -C "$t" demo-cli-2.1
			rm -rf "$t"
			: >"$SNAP/remove-demo-cli-2.1.tar.gz"
		fi
		sed 's|^\tdev-libs/libdemo:=$|\tdev-libs/libdemo:=\n\tdev-libs/demo-vanished|' \
			"$R/app-misc/demo-cli/demo-cli-2.0.ebuild" >"$R/app-misc/demo-cli/demo-cli-2.1.ebuild"
		grep -q demo-vanished "$R/app-misc/demo-cli/demo-cli-2.1.ebuild"
		"$HARNESS_DIR/regen-metadata.sh" >"$SNAP/regen.log" 2>&1
		restore after-mixed slave-mixed
		;;
	cleanup)
		restore fresh-slave-fail slave-fail
		restore fresh-slave-mixed slave-mixed
		;;
	*) echo "table-stage.sh: unknown stage '$1'" >&2; exit 2 ;;
esac
