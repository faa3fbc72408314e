package dev.binhost.agent.check;

import dev.binhost.agent.mount.MountTable;
import dev.binhost.agent.mount.PortageDirs;
import dev.binhost.agent.portage.Finding;
import dev.binhost.agent.portage.MakeConf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code binhost-agent check}: compares this slave with the master's pulled configuration the way the seed
 * advises (same CHOST, CPU_FLAGS_X86 for this CPU, -march=native on both sides, a writable DISTDIR) and looks
 * for what the agent needs (rsync, mount helpers, root). DISTDIR and PKGDIR are the mount preflight's
 * ({@link PortageDirs}). Pure over its inputs, so tests feed it fixtures.
 */
public final class Preflight {
    /** The Gentoo package that ships each tool the agent starts, for the "what to change" text. */
    static final Map<String, String> PACKAGE_OF = Map.of(
            "rsync", "net-misc/rsync", "mount", "sys-apps/util-linux", "umount", "sys-apps/util-linux",
            "mount.nfs", "net-fs/nfs-utils", "mount.nfs4", "net-fs/nfs-utils", "emerge", "sys-apps/portage");

    /** Everything the check looks at, read beforehand. */
    public record Inputs(
            List<MakeConf.Source> makeConf,
            boolean makeConfIsDirectory,
            String cpuinfo,
            String mountinfo,
            int euid,
            List<String> missingTools) {
    }

    private Preflight() {
    }

    public static List<Finding> run(Inputs in) {
        List<Finding> findings = new ArrayList<>();
        MakeConf.Evaluation all = MakeConf.evaluate(in.makeConf());
        List<MakeConf.Source> masterSources = in.makeConf().stream()
                .filter(s -> MakeConf.fileName(s.name()).startsWith("01")).toList();
        MakeConf.Evaluation master = MakeConf.evaluate(masterSources);
        String slaveFile = all.slaveFile();

        for (String p : all.problems()) {
            findings.add(Finding.problem("make.conf", p, "fix the line: Portage reads make.conf as VAR=\"value\" lines"));
        }
        layout(in, masterSources, findings);
        chost(all, findings);
        Set<String> cpu = CpuFlags.portageFlags(CpuFlags.kernelFlags(in.cpuinfo()));
        if (cpu.isEmpty()) {
            findings.add(Finding.advice("CPU_FLAGS_X86", "no x86 'flags' line in the CPU information",
                    "check binhost.check.cpuinfo points at /proc/cpuinfo; CPU flags were not compared"));
        } else {
            cpuFlags(all, cpu, slaveFile, findings);
            march(master, all, cpu, slaveFile, findings);
        }
        try {
            findings.addAll(PortageDirs.check(all, MountTable.parse(in.mountinfo()), Map.of()));
        } catch (IllegalArgumentException e) {
            findings.add(Finding.problem("mountinfo", "DISTDIR and PKGDIR were not checked: " + e.getMessage(),
                    "check binhost.check.mountinfo points at /proc/self/mountinfo"));
        }
        for (String tool : in.missingTools()) {
            findings.add(Finding.problem("tools", tool + " is not installed (not found in PATH, /sbin, /usr/sbin)",
                    "emerge --ask " + PACKAGE_OF.getOrDefault(tool, "the package that provides " + tool)));
        }
        if (in.euid() != 0) {
            findings.add(Finding.problem("user", "not running as root (uid " + in.euid() + ")",
                    "run the agent as root: it mounts the master's share, writes /etc/portage and runs emerge"));
        }
        return findings;
    }

    private static void layout(Inputs in, List<MakeConf.Source> masterSources, List<Finding> findings) {
        if (!in.makeConfIsDirectory()) {
            findings.add(Finding.problem("make.conf", "make.conf is a single file, so the master's 01* settings "
                            + "have nowhere to go",
                    "turn /etc/portage/make.conf into a directory: the master's files 01*, this slave's 02*"));
        } else if (masterSources.isEmpty()) {
            findings.add(Finding.problem("make.conf", "no make.conf/01* file: the master's configuration has not "
                    + "been pulled yet", "start the agent while the master is reachable (it pulls 01* files), "
                    + "or check binhost.master.host"));
        }
    }

    private static void chost(MakeConf.Evaluation all, List<Finding> findings) {
        for (MakeConf.Assignment a : all.assignments()) {
            if (a.name().equals("CHOST") && !MakeConf.fileName(a.source()).startsWith("01")) {
                findings.add(Finding.problem("CHOST", a.source() + " line " + a.line() + " sets CHOST=\""
                                + a.value() + "\"; master and slave must have the same CHOST",
                        "remove CHOST from " + a.source() + " and keep the master's"));
            }
        }
    }

    private static void cpuFlags(MakeConf.Evaluation all, Set<String> cpu, String slaveFile,
            List<Finding> findings) {
        Set<String> listed = CpuFlags.words(all.get("CPU_FLAGS_X86"));
        String origin = origin(all, "CPU_FLAGS_X86");
        String fix = "set CPU_FLAGS_X86=\"" + String.join(" ", cpu) + "\" in " + slaveFile
                + " (this CPU's flags; app-portage/cpuid2cpuflags prints the same)";
        Set<String> lacking = new TreeSet<>();
        Set<String> unknown = new TreeSet<>();
        for (String flag : listed) {
            if (!CpuFlags.known(flag)) {
                unknown.add(flag);
            } else if (!cpu.contains(flag)) {
                lacking.add(flag);
            }
        }
        if (!lacking.isEmpty()) {
            findings.add(Finding.problem("CPU_FLAGS_X86", "CPU_FLAGS_X86" + origin + " lists "
                    + String.join(" ", lacking) + ", which this CPU does not have; code built for them stops with "
                    + "SIGILL here", fix));
        }
        Set<String> unused = new TreeSet<>(cpu);
        unused.removeAll(listed);
        if (!unused.isEmpty()) {
            findings.add(Finding.advice("CPU_FLAGS_X86", "this CPU also has " + String.join(" ", unused)
                    + ", which CPU_FLAGS_X86" + origin + " does not list", fix));
        }
        if (!unknown.isEmpty()) {
            findings.add(Finding.advice("CPU_FLAGS_X86", "CPU_FLAGS_X86" + origin + " has flags this check does "
                    + "not know: " + String.join(" ", unknown), "compare them with cpuid2cpuflags' output"));
        }
    }

    private static void march(MakeConf.Evaluation master, MakeConf.Evaluation all, Set<String> cpu,
            String slaveFile, List<Finding> findings) {
        String masterMarch = march(master.get("CFLAGS"));
        String slaveMarch = march(all.get("CFLAGS"));
        if ("native".equals(masterMarch)) {
            Set<String> beyond = new TreeSet<>(CpuFlags.words(master.get("CPU_FLAGS_X86")));
            beyond.removeIf(f -> !CpuFlags.known(f) || cpu.contains(f));
            if (!beyond.isEmpty()) {
                findings.add(Finding.problem("-march", "the master builds with -march=native on a CPU that has "
                                + String.join(" ", beyond) + ", which this CPU lacks; GCC may use them anywhere",
                        "on the master, replace -march=native in make.conf/01* by a -march both CPUs run "
                                + "(e.g. the older CPU's, such as k8 for AMD, or x86-64-v2), then rebuild"));
            }
        }
        if (!masterMarch.equals(slaveMarch)) {
            findings.add(Finding.advice("-march", "CFLAGS use -march=" + masterMarch + " on the master and -march="
                            + slaveMarch + " here",
                    "the seed uses -march=native on both sides: set CFLAGS in " + slaveFile + " to match"));
        }
    }

    static String march(String cflags) {
        String march = "(none)";
        for (String w : cflags.strip().split("\\s+")) {
            if (w.startsWith("-march=")) {
                march = w.substring("-march=".length());
            }
        }
        return march;
    }

    /** " (from make.conf/02slave)" for messages: which file's assignment is in force. */
    private static String origin(MakeConf.Evaluation all, String name) {
        return all.last(name).map(a -> " (from " + a.source() + ")").orElse(" (not set)");
    }

    /** The tools in {@code tools} found in none of the directories (PATH plus sbin, where mount helpers live). */
    public static List<String> missingTools(List<String> tools, List<Path> dirs) {
        List<String> missing = new ArrayList<>();
        for (String tool : tools) {
            if (dirs.stream().noneMatch(d -> Files.isExecutable(d.resolve(tool)))) {
                missing.add(tool);
            }
        }
        return missing;
    }
}
