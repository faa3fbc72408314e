package dev.binhost.agent.check;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * This CPU's features in Portage's CPU_FLAGS_X86 vocabulary, from the text of /proc/cpuinfo. The kernel and
 * Portage name a few features differently (pni is sse3, fma is fma3, pclmulqdq is pclmul, sha_ni is sha).
 */
public final class CpuFlags {
    /** CPU_FLAGS_X86 name → the /proc/cpuinfo flag that proves it. */
    static final Map<String, String> KERNEL_NAME = Map.ofEntries(
            Map.entry("3dnow", "3dnow"), Map.entry("3dnowext", "3dnowext"), Map.entry("aes", "aes"),
            Map.entry("avx", "avx"), Map.entry("avx2", "avx2"), Map.entry("avx512f", "avx512f"),
            Map.entry("avx512bw", "avx512bw"), Map.entry("avx512cd", "avx512cd"), Map.entry("avx512dq", "avx512dq"),
            Map.entry("avx512er", "avx512er"), Map.entry("avx512ifma", "avx512ifma"),
            Map.entry("avx512pf", "avx512pf"), Map.entry("avx512vbmi", "avx512vbmi"),
            Map.entry("avx512vl", "avx512vl"), Map.entry("avx512_4fmaps", "avx512_4fmaps"),
            Map.entry("avx512_4vnniw", "avx512_4vnniw"), Map.entry("avx512_bf16", "avx512_bf16"),
            Map.entry("avx512_bitalg", "avx512_bitalg"), Map.entry("avx512_fp16", "avx512_fp16"),
            Map.entry("avx512_vbmi2", "avx512_vbmi2"), Map.entry("avx512_vnni", "avx512_vnni"),
            Map.entry("avx512_vp2intersect", "avx512_vp2intersect"),
            Map.entry("avx512_vpopcntdq", "avx512_vpopcntdq"), Map.entry("avx_vnni", "avx_vnni"),
            Map.entry("bmi1", "bmi1"), Map.entry("bmi2", "bmi2"), Map.entry("f16c", "f16c"),
            Map.entry("fma3", "fma"), Map.entry("fma4", "fma4"), Map.entry("gfni", "gfni"),
            Map.entry("mmx", "mmx"), Map.entry("mmxext", "mmxext"), Map.entry("pclmul", "pclmulqdq"),
            Map.entry("popcnt", "popcnt"), Map.entry("rdrand", "rdrand"), Map.entry("sha", "sha_ni"),
            Map.entry("sse", "sse"), Map.entry("sse2", "sse2"), Map.entry("sse3", "pni"),
            Map.entry("sse4_1", "sse4_1"), Map.entry("sse4_2", "sse4_2"), Map.entry("sse4a", "sse4a"),
            Map.entry("ssse3", "ssse3"), Map.entry("vaes", "vaes"), Map.entry("vpclmulqdq", "vpclmulqdq"),
            Map.entry("xop", "xop"));

    private CpuFlags() {
    }

    /** The kernel's flags of the first processor in the text (all cores of a machine report the same set). */
    public static Set<String> kernelFlags(String cpuinfo) {
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equals("flags")) {
                return new LinkedHashSet<>(Arrays.asList(line.substring(colon + 1).strip().split("\\s+")));
            }
        }
        return Set.of();
    }

    /**
     * The CPU_FLAGS_X86 values this CPU supports. Every SSE-capable CPU runs the MMX extensions even where the
     * kernel does not list mmxext (Intel), which is why cpuid2cpuflags reports it there too.
     */
    public static Set<String> portageFlags(Set<String> kernelFlags) {
        Set<String> flags = new TreeSet<>();
        KERNEL_NAME.forEach((portage, kernel) -> {
            if (kernelFlags.contains(kernel)) {
                flags.add(portage);
            }
        });
        if (kernelFlags.contains("sse")) {
            flags.add("mmxext");
        }
        return flags;
    }

    public static boolean known(String portageFlag) {
        return KERNEL_NAME.containsKey(portageFlag);
    }

    /** Splits a CPU_FLAGS_X86 value into its words, sorted, without the -flag removals Portage also allows. */
    public static Set<String> words(String value) {
        Set<String> out = new TreeSet<>();
        for (String w : value.strip().split("\\s+")) {
            if (w.isEmpty()) {
                continue;
            }
            if (w.startsWith("-")) {
                out.remove(w.substring(1));
            } else {
                out.add(w);
            }
        }
        return out;
    }
}
