#!/bin/bash
# What NFS mount options do on a real kernel NFS client when the master goes away: the figures behind the
# agent's default options (config/binhost-agent.properties, binhost.mount.mounts.NAME.options).
#   bench/nfs-options.sh [runs]            (default 3 runs of each fault; the table shows medians)
# Boots a User-Mode Linux guest (src/test/resources/uml: the host's / as its root, kernel nfsd and nfs-ganesha
# as masters, a client namespace; nothing leaves the guest) and, for each option set, mounts both servers and
# times a reader (stat -f, cat of a file not in the cache) after each fault until it gets an error, killing it
# at 60 s:
#   stopped  - kernel nfsd stopped (rpc.nfsd 0), ganesha killed
#   cut      - the server's end of the link down
# and, first of all (a client that has talked to a server keeps its state for it), how long mount(8) takes to
# give up on a server that refuses connections, with and without retry=0, and on a cut link. Needs root, user-mode-linux, kmod, nfs-common, nfs-kernel-server, nfs-ganesha, nfs-ganesha-vfs.
# Prints a table and exits 1 when the guest did not run or a figure is missing.
set -euo pipefail
runs=${1:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
lab=$repo/src/test/resources/uml
out=$repo/target/bench/nfs-options
rm -rf "$out"
mkdir -p "$out"
OPTION_SETS=${OPTION_SETS:-"soft,timeo=10,retrans=1 soft,timeo=30,retrans=2 soft,timeo=50,retrans=2 soft,timeo=100,retrans=2"}

cat > "$out/run.sh" <<EOF
set -u
. '$lab/nfs-lab.sh'
runs=$runs
R=\$OUT/figures.tsv
: > "\$R"
lab_up && knfsd_start && ganesha_start || { echo "lab did not come up" >&2; exit 1; }
el() { awk -v a="\$1" -v b="\$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
# reader LIMIT CMD...: seconds until CMD ends (rc in \$RC), SIGKILL after LIMIT s ("killed")
reader() {
	local lim=\$1 t0=\$EPOCHREALTIME; shift
	"\$@" > /dev/null 2>&1 & local p=\$!
	while kill -0 \$p 2>/dev/null; do
		if awk -v a="\$t0" -v b="\$EPOCHREALTIME" -v l="\$lim" 'BEGIN { exit !(b - a > l) }'; then
			kill -9 \$p; wait \$p 2>/dev/null; echo killed; return
		fi
		sleep 0.05
	done
	wait \$p; RC=\$?; el "\$t0"
}
mnt() { in_slave timeout 60 mount -t nfs4 -o "ro,\$1,retry=0" "\$2" "\$3"; }
# First, while the client has never talked to ganesha (a client that has keeps its own state for the server):
# mount(8) against a server that refuses connections (no nfsd; killed = still retrying after 30 s), and against
# a cut link
mkdir -p /mnt/k /mnt/g
ganesha_kill
for run in \$(seq 1 \$runs); do
	for retry in "retry=0" "default-retry"; do
		o="ro,soft,timeo=50,retrans=2"; [ "\$retry" = "retry=0" ] && o="\$o,retry=0"
		printf 'mount\trefused\tganesha\t%s\t%s\n' "\$retry" "\$(reader 30 in_slave mount -t nfs4 -o "\$o" "\$G_IP:/g" /mnt/g)" >> "\$R"
	done
	ganesha_start; link_down masterg
	printf 'mount\tcut\tganesha\tretry=0\t%s\n' "\$(reader 60 in_slave mount -t nfs4 -o ro,soft,timeo=50,retrans=2,retry=0 "\$G_IP:/g" /mnt/g)" >> "\$R"
	link_up masterg; ganesha_kill
done
ganesha_start
for opts in $OPTION_SETS; do
	mkdir -p /mnt/k /mnt/g
	for run in \$(seq 1 \$runs); do
		mnt "\$opts" "\$K_IP:/packages" /mnt/k && mnt "\$opts" "\$G_IP:/g" /mnt/g || { echo "mount failed" >&2; exit 1; }
		knfsd_stop; ganesha_kill; drop_caches
		printf '%s\tstopped\tknfsd\tstat-f\t%s\n' "\$opts" "\$(reader 60 stat -f /mnt/k)" >> "\$R"
		printf '%s\tstopped\tganesha\tstat-f\t%s\n' "\$opts" "\$(reader 60 stat -f /mnt/g)" >> "\$R"
		printf '%s\tstopped\tganesha\tcat\t%s\n' "\$opts" "\$(reader 60 cat /mnt/g/app-misc/hello-1.gpkg.tar)" >> "\$R"
		umount -l /mnt/k; umount -l /mnt/g
		knfsd_start; ganesha_start
		mnt "\$opts" "\$G_IP:/g" /mnt/g || { echo "mount failed" >&2; exit 1; }
		link_down masterg; drop_caches
		printf '%s\tcut\tganesha\tstat-f (first)\t%s\n' "\$opts" "\$(reader 60 stat -f /mnt/g)" >> "\$R"
		printf '%s\tcut\tganesha\tcat (next)\t%s\n' "\$opts" "\$(reader 60 cat /mnt/g/app-misc/hello-1.gpkg.tar)" >> "\$R"
		umount -l /mnt/g; link_up masterg
	done
done
EOF

chmod +x "$out/run.sh"
echo "booting the guest ($runs runs per fault) ..." >&2
if ! bash "$lab/boot.sh" "$out" 3000; then
	echo "nfs-options: the guest failed; see $out/payload.log and $out/console.log" >&2
	tail -20 "$out/payload.log" >&2 || true
	exit 1
fi
[ -s "$out/figures.tsv" ] || { echo "nfs-options: no figures recorded" >&2; exit 1; }
if grep -qP '\t$' "$out/figures.tsv"; then
	echo "nfs-options: a figure is missing:" >&2; grep -P '\t$' "$out/figures.tsv" >&2; exit 1
fi
echo
printf '%-28s %-8s %-8s %-16s %s\n' "options" "fault" "server" "operation" "seconds to an error (median, all runs)"
awk -F'\t' '{ k = $1 FS $2 FS $3 FS $4; v[k] = v[k] " " $5; if (!(k in seen)) { seen[k] = 1; order[n++] = k } }
	END { for (i = 0; i < n; i++) { k = order[i]; split(k, f, FS); m = split(substr(v[k], 2), a, " ");
		# median of numbers; "killed" sorts last
		for (x = 1; x <= m; x++) for (y = x + 1; y <= m; y++) if ((a[y] == "killed" ? 1e9 : a[y]) < (a[x] == "killed" ? 1e9 : a[x])) { t = a[x]; a[x] = a[y]; a[y] = t }
		printf "%-28s %-8s %-8s %-16s %s  (%s)\n", f[1], f[2], f[3], f[4], a[int((m + 1) / 2)], substr(v[k], 2) } }' \
	"$out/figures.tsv"
