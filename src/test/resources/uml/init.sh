#!/bin/sh
# PID 1 of a User-Mode Linux guest whose root file system is the host's own / (hostfs, read-only), so the guest
# runs the host's mount.nfs4, rpc.nfsd, ganesha.nfsd, rsync and JDK on a real Linux kernel with an NFS client.
# Writable places are tmpfs inside the guest. The host's folder named by uml.out= on the kernel command line is
# mounted read-write at /run/out (the root is read-only); the payload is run.sh there. Its exit status goes to
# exit and its output to payload.log in that folder, and the guest powers off, so nothing it started outlives it.
export PATH=/run/uml/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for d in /run /tmp /srv /mnt /var/lib/nfs /etc/ganesha /var/tmp; do
	mount -t tmpfs -o mode=0755 tmpfs "$d"
done
chmod 1777 /tmp /var/tmp
mkdir -p /dev/pts /dev/shm /run/netns /run/uml/bin /run/uml/modroot/lib/modules /var/lib/nfs/v4recovery \
	/var/lib/nfs/ganesha /run/ganesha /run/lock
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# UML's kernel modules (package user-mode-linux) live under /usr/lib/uml/modules/<release>, not /lib/modules.
ln -s "/usr/lib/uml/modules/$(uname -r)" /run/uml/modroot/lib/modules/
printf '#!/bin/sh\nexec /usr/sbin/modprobe -d /run/uml/modroot "$@"\n' > /run/uml/bin/modprobe
chmod 755 /run/uml/bin/modprobe
echo /run/uml/bin/modprobe > /proc/sys/kernel/modprobe
out=$(sed -n 's/.*uml\.out=\([^ ]*\).*/\1/p' /proc/cmdline)
mkdir -p /run/out
if mount -t hostfs -o "$out" none /run/out && [ -x /run/out/run.sh ]; then
	echo "uml-init: payload starts at uptime $(cut -d' ' -f1 /proc/uptime)s"
	OUT=/run/out /bin/bash /run/out/run.sh > /run/out/payload.log 2>&1
	echo $? > /run/out/exit.tmp && mv /run/out/exit.tmp /run/out/exit
else
	echo "uml-init: cannot mount the host folder '$out' or it has no run.sh"
fi
sync
echo o > /proc/sysrq-trigger
sleep 10
