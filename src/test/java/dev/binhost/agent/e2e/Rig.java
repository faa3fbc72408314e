package dev.binhost.agent.e2e;

import dev.binhost.agent.testing.Sh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A master and a slave network namespace joined by a veth pair, with nothing else: neither namespace has a default
 * route, so no packet can leave the machine. The master runs a real rsync daemon with the portage-config module
 * over a realistic /etc/portage, and has a PKGDIR to export. Everything is named with the test JVM's PID and torn
 * down by name or PID.
 */
final class Rig implements AutoCloseable {
    private static final AtomicInteger SEQ = new AtomicInteger();

    final String masterNs;
    final String slaveNs;
    final String masterIp;
    final String slaveIp;
    final Path root;
    final Path masterPortage;
    final Path masterPkgdir;
    private final String masterIf;
    private final String slaveIf;
    private Process rsyncd;
    /** PID 1 of the rig's own PID namespace (its host PID), whose procfs is mounted at {@link #proc}. */
    private Process pidNamespace;
    private long pidNamespaceInit;
    /** The rig's private /proc: only the processes started in the rig's PID namespace appear in it. */
    final Path proc;

    /** Builds the namespaces, the link and the master's files under {@code root}; the daemon is not started. */
    Rig(Path root) throws IOException, InterruptedException {
        long pid = ProcessHandle.current().pid();
        int n = SEQ.incrementAndGet();
        String id = (pid % 100000) + "x" + n;
        this.root = root;
        masterNs = "bh-e2e-m-" + id;
        slaveNs = "bh-e2e-s-" + id;
        // Interface names have 15 characters at most.
        masterIf = "bm" + (pid % 100000) + "x" + (n % 100);
        slaveIf = "bs" + (pid % 100000) + "x" + (n % 100);
        int octet = (int) (pid % 200) + 20;
        int block = (n % 60) * 4;
        masterIp = "10.214." + octet + "." + (block + 1);
        slaveIp = "10.214." + octet + "." + (block + 2);
        masterPortage = root.resolve("master/etc/portage");
        masterPkgdir = root.resolve("master/var/cache/binpkgs");
        proc = root.resolve("slave/proc");
        // The daemon serves as nobody, as the seed's rsyncd.conf has it: the tree must be readable by others.
        Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        MasterTree.write(masterPortage);
        MasterTree.writePkgdir(masterPkgdir);
        try {
            Sh.run("ip netns add " + masterNs + " && ip netns add " + slaveNs
                    + " && ip link add " + masterIf + " netns " + masterNs + " type veth peer name " + slaveIf
                    + " netns " + slaveNs
                    + " && ip -n " + masterNs + " addr add " + masterIp + "/30 dev " + masterIf
                    + " && ip -n " + slaveNs + " addr add " + slaveIp + "/30 dev " + slaveIf
                    + " && ip -n " + masterNs + " link set lo up && ip -n " + slaveNs + " link set lo up"
                    + " && ip -n " + masterNs + " link set " + masterIf + " up"
                    + " && ip -n " + slaveNs + " link set " + slaveIf + " up");
            startPidNamespace();
            for (String ns : new String[] {masterNs, slaveNs}) {
                String routes = Sh.run("ip -n " + ns + " route show default");
                if (!routes.isBlank()) {
                    throw new IOException("namespace " + ns + " has a default route: " + routes);
                }
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * A PID namespace of the rig's own, held by a sleeping init, with its procfs mounted at {@link #proc} in the
     * host's mount namespace. Agents start inside it and read that /proc, so an emerge elsewhere on the machine
     * (an admin's, another test's) is invisible to them, while an emerge that outlives an agent stays visible to
     * the next one, as on a real slave.
     */
    private void startPidNamespace() throws IOException, InterruptedException {
        Files.createDirectories(proc);
        // unshare --fork execs the shell as PID 1 of the new namespace; its mount of proc shows that namespace.
        pidNamespace = new ProcessBuilder("unshare", "--pid", "--fork", "--kill-child", "sh", "-c",
                "mount -t proc proc \"$0\" && exec sleep infinity", proc.toString())
                .redirectErrorStream(true).redirectOutput(root.resolve("pid-namespace.out").toFile()).start();
        for (int i = 0; i < 200; i++) {
            if (!pidNamespace.isAlive()) {
                throw new IOException("PID namespace holder exited: "
                        + Files.readString(root.resolve("pid-namespace.out")));
            }
            List<Long> children = childrenOf(pidNamespace.pid());
            if (!children.isEmpty() && Files.exists(proc.resolve("1/cmdline"))) {
                pidNamespaceInit = children.get(0);
                return;
            }
            Thread.sleep(20);
        }
        throw new IOException("the rig's PID namespace did not come up");
    }

    /** The argv prefix that starts a program in the rig's PID namespace (nsenter forks: the program is its child). */
    List<String> inPidNamespace() {
        return List.of("nsenter", "--target", Long.toString(pidNamespaceInit), "--pid", "--");
    }

    /** Host PIDs of the children of {@code pid}. */
    static List<Long> childrenOf(long pid) throws IOException {
        Path file = Path.of("/proc", Long.toString(pid), "task", Long.toString(pid), "children");
        List<Long> pids = new ArrayList<>();
        try {
            for (String p : Files.readString(file).trim().split("\\s+")) {
                if (!p.isEmpty()) {
                    pids.add(Long.parseLong(p));
                }
            }
        } catch (java.nio.file.NoSuchFileException gone) {
            // the process has ended
        }
        return pids;
    }

    /** Starts the master's rsync daemon on its veth address, port 873, serving /etc/portage as portage-config. */
    void startMaster() throws IOException, InterruptedException {
        if (rsyncd != null && rsyncd.isAlive()) {
            return;
        }
        Path conf = root.resolve("master/rsyncd.conf");
        Files.writeString(conf, """
                use chroot = no
                uid = nobody
                gid = nogroup
                read only = yes
                log file = %s
                pid file = %s
                [portage-config]
                    path = %s
                    comment = Portage configuration
                """.formatted(root.resolve("master/rsyncd.log"), root.resolve("master/rsyncd.pid"), masterPortage));
        // ip netns exec and rsync --no-detach exec in place: the Process is the daemon itself.
        rsyncd = new ProcessBuilder("ip", "netns", "exec", masterNs, "rsync", "--daemon", "--no-detach",
                "--config=" + conf, "--port=873", "--address=" + masterIp)
                .redirectErrorStream(true).redirectOutput(root.resolve("master/rsyncd.out").toFile()).start();
        for (int i = 0; i < 200; i++) {
            if (!rsyncd.isAlive()) {
                throw new IOException("rsync daemon exited: " + Files.readString(root.resolve("master/rsyncd.out")));
            }
            if (Sh.run("ip netns exec " + masterNs + " ss -Htln 'sport = :873'").contains(":873")) {
                return;
            }
            Thread.sleep(20);
        }
        throw new IOException("rsync daemon did not listen in " + masterNs);
    }

    /** Stops the master's rsync daemon (by its PID). */
    void stopMaster() throws InterruptedException {
        if (rsyncd != null) {
            rsyncd.destroy();
            if (!rsyncd.waitFor(5, TimeUnit.SECONDS)) {
                rsyncd.destroyForcibly().waitFor();
            }
            rsyncd = null;
        }
    }

    /** Cuts the cable: the master's end of the link goes down, so the slave sees no carrier. */
    void linkDown() throws IOException, InterruptedException {
        Sh.run("ip -n " + masterNs + " link set " + masterIf + " down");
    }

    /** Limits what the master sends to {@code rate} (tc tbf), so a pull takes long enough to cut it midway. */
    void throttle(String rate) throws IOException, InterruptedException {
        Sh.run("ip netns exec " + masterNs + " tc qdisc replace dev " + masterIf + " root tbf rate " + rate
                + " burst 32kbit latency 400ms");
    }

    void unthrottle() throws IOException, InterruptedException {
        Sh.run("ip netns exec " + masterNs + " tc qdisc del dev " + masterIf + " root");
    }

    void linkUp() throws IOException, InterruptedException {
        Sh.run("ip -n " + masterNs + " link set " + masterIf + " up");
    }

    /** PIDs of processes whose command line contains {@code word} and names a path under this rig's root. */
    List<Long> processesNaming(String word) {
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString()
                .matches("\\d+"))) {
            for (Path dir : dirs) {
                try {
                    String cmdline = Files.readString(dir.resolve("cmdline")).replace('\0', ' ');
                    if (cmdline.contains(word) && cmdline.contains(root.toString())) {
                        pids.add(Long.parseLong(dir.getFileName().toString()));
                    }
                } catch (IOException gone) {
                    // the process ended while we looked
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return pids;
    }

    /** The FUSE daemon serving the master's export to the slave, as the agent's mount started it. */
    long exportServer() {
        List<Long> pids = processesNaming("bindfs");
        if (pids.size() != 1) {
            throw new AssertionError("expected one bindfs serving " + masterPkgdir + ", found " + pids);
        }
        return pids.get(0);
    }

    static void signal(long pid, String signal) throws IOException, InterruptedException {
        Sh.run("kill -" + signal + " " + pid);
    }

    @Override
    public void close() throws InterruptedException {
        // A frozen bindfs never exits on its own: thaw and kill what serves this rig's files, by PID.
        for (long pid : processesNaming("bindfs")) {
            Sh.quietly("kill -CONT " + pid + "; kill -KILL " + pid);
        }
        for (long pid : processesNaming("emerge-standin")) {
            Sh.quietly("kill -KILL " + pid);
        }
        stopMaster();
        // Deleting a namespace deletes its end of the veth pair, and with it the other end.
        Sh.quietly("ip netns del " + masterNs);
        Sh.quietly("ip netns del " + slaveNs);
        if (pidNamespace != null) {
            Sh.quietly("umount -l '" + proc + "'");
            // Killing the namespace's init kills whatever is left in it (the kernel's rule for PID 1).
            pidNamespace.destroyForcibly();
            pidNamespace.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
