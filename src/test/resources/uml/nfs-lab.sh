# Sourced inside a UML guest (init.sh): the NFS lab. Two masters and one slave, each in a network namespace of
# its own, joined by veth pairs. They exist only in the guest's kernel, which has no network device to the
# outside, so no packet of the lab can leave the machine.
#   masterk 10.99.1.1  kernel nfsd, exporting /srv/k (fsid=0) with packages/ in it, and an rsync daemon
#   masterg 10.99.2.1  nfs-ganesha (VFS), exporting /srv/g as /g, and an rsync daemon
#   slave   10.99.1.2 and 10.99.2.2, no default route
# Functions: lab_up, knfsd_start, knfsd_stop, knfsd_swap_export, ganesha_start, ganesha_kill, link_down NS,
# link_up NS, rsyncd_start NS ADDR TREE, in_slave CMD..., drop_caches.
K_IP=10.99.1.1 G_IP=10.99.2.1
K_DIR=/srv/k G_DIR=/srv/g

lab_log() { echo "lab: $*" >&2; }

in_slave() { nsenter --net=/run/netns/slave "$@"; }

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

# A small PKGDIR in an export: a Packages index and one binary package, and a marker naming the export.
fill_pkgdir() {
	mkdir -p "$1/app-misc"
	printf 'ARCH: amd64\nVERSION: 0\nTIMESTAMP: %s\nPACKAGES: 1\n\nCPV: app-misc/hello-1\n\n' "$(date +%s)" \
		> "$1/Packages"
	head -c 262144 /dev/urandom > "$1/app-misc/hello-1.gpkg.tar"
	echo "$2" > "$1/marker"
}

lab_up() {
	[ -e /etc/mtab ] || lab_log "no /etc/mtab on the host root: ganesha needs it"
	for m in nfsd nfs nfsv4 veth; do modprobe "$m" || return 1; done
	ip link set lo up
	for ns in masterk masterg slave; do ip netns add "$ns" && ip -n "$ns" link set lo up || return 1; done
	ip link add vk-m type veth peer name vk-s && ip link add vg-m type veth peer name vg-s || return 1
	ip link set vk-m netns masterk && ip link set vk-s netns slave || return 1
	ip link set vg-m netns masterg && ip link set vg-s netns slave || return 1
	ip -n masterk addr add "$K_IP/24" dev vk-m && ip -n masterk link set vk-m up
	ip -n masterg addr add "$G_IP/24" dev vg-m && ip -n masterg link set vg-m up
	ip -n slave addr add 10.99.1.2/24 dev vk-s && ip -n slave link set vk-s up
	ip -n slave addr add 10.99.2.2/24 dev vg-s && ip -n slave link set vg-s up
	if [ -n "$(ip -n slave route show default)" ]; then lab_log "the slave has a default route"; return 1; fi
	mkdir -p "$K_DIR" "$G_DIR"
	mount -t tmpfs -o size=32m lab-k "$K_DIR" && mount -t tmpfs -o size=32m lab-g "$G_DIR" || return 1
	fill_pkgdir "$K_DIR/packages" k1
	fill_pkgdir "$G_DIR" g1
	[ -e /etc/exports ] || lab_log "no /etc/exports on the host root (exportfs still works from the command line)"
}

# Kernel nfsd in masterk, NFSv4 only, lease and grace 10 s (the shortest it takes) so a restart is quick.
knfsd_start() {
	ip netns exec masterk sh -c '
		mount -t nfsd nfsd /proc/fs/nfsd 2>/dev/null
		echo 10 > /proc/fs/nfsd/nfsv4leasetime 2>/dev/null
		echo 10 > /proc/fs/nfsd/nfsv4gracetime 2>/dev/null
		exportfs -o ro,fsid=0,no_subtree_check,insecure,no_root_squash "*:$1" 2>/dev/null
		rpc.mountd -N 3 --no-udp >/dev/null 2>&1
		rpc.nfsd -N 3 -U 4' sh "$K_DIR"
	for _ in $(seq 1 50); do
		ip netns exec masterk ss -Hltn 'sport = :2049' | grep -q 2049 && return 0
		sleep 0.2
	done
	lab_log "kernel nfsd does not listen"; return 1
}

knfsd_stop() {
	ip netns exec masterk sh -c 'mount -t nfsd nfsd /proc/fs/nfsd 2>/dev/null; rpc.nfsd 0; exportfs -ua
		for p in $(pidof rpc.mountd); do kill "$p"; done' 2>/dev/null
}

# The exported PKGDIR replaced while nfsd keeps running, as when the master's admin recreates it (or restores it
# from a backup): a new directory with new inodes and the same layout under the same export and fsid. Every file
# handle the client holds for the old one, the mount's root among them, is now stale (ESTALE). (Stopping nfsd
# for the swap would also put the client through nfsd's grace period, which shows as "no answer" instead.)
knfsd_swap_export() {
	mv "$K_DIR/packages" "$K_DIR/packages.old" || return 1
	fill_pkgdir "$K_DIR/packages" k2
	rm -rf "$K_DIR/packages.old"
}

ganesha_start() {
	cat > /etc/ganesha/lab.conf <<CONF
NFS_CORE_PARAM { Protocols = 4; NFS_Port = 2049; Enable_NLM = false; Enable_RQUOTA = false; }
NFSv4 { Graceless = true; Lease_Lifetime = 10; }
EXPORT { Export_Id = 1; Path = $G_DIR; Pseudo = /g; Access_Type = RO; Squash = No_Root_Squash;
	Protocols = 4; Transports = TCP; SecType = sys; FSAL { Name = VFS; } }
LOG { Default_Log_Level = WARN; }
CONF
	rm -f /run/ganesha.pid
	ip netns exec masterg ganesha.nfsd -f /etc/ganesha/lab.conf -L "$OUT/ganesha.log" -p /run/ganesha.pid -N NIV_WARN
	for _ in $(seq 1 100); do
		if [ -s /run/ganesha.pid ] && ip netns exec masterg ss -Hltn 'sport = :2049' | grep -q 2049; then
			GANESHA=$(cat /run/ganesha.pid); return 0
		fi
		sleep 0.2
	done
	lab_log "ganesha does not listen"; return 1
}

ganesha_kill() { kill -9 "$GANESHA" 2>/dev/null; rm -f /run/ganesha.pid; }

link_down() { ip -n "$1" link set "$([ "$1" = masterk ] && echo vk-m || echo vg-m)" down; }
link_up() { ip -n "$1" link set "$([ "$1" = masterk ] && echo vk-m || echo vg-m)" up; }

# rsyncd_start NS ADDR TREE: the master's rsync daemon serving TREE as [portage-config], as the seed has it.
rsyncd_start() {
	local conf=/run/rsyncd-$1.conf
	printf 'use chroot = no\nuid = nobody\ngid = nogroup\nread only = yes\npid file = /run/rsyncd-%s.pid\n[portage-config]\n\tpath = %s\n' \
		"$1" "$3" > "$conf"
	ip netns exec "$1" rsync --daemon --config="$conf" --address="$2" --port=873 || return 1
	for _ in $(seq 1 50); do
		ip netns exec "$1" ss -Hltn 'sport = :873' | grep -q 873 && return 0
		sleep 0.2
	done
	lab_log "rsync daemon in $1 does not listen"; return 1
}
