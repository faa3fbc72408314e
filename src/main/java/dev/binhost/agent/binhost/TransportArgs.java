package dev.binhost.agent.binhost;

import java.util.ArrayList;
import java.util.List;

/**
 * emerge's arguments for an HTTP binhost: binaries come through {@code --getbinpkg}; "binaries only" is
 * {@code --getbinpkgonly} there ({@code --usepkgonly} would take only what is already in the local PKGDIR).
 * Pure; an NFS slave's arguments are left as they are.
 */
public final class TransportArgs {
    private TransportArgs() {
    }

    public static List<String> http(List<String> args) {
        List<String> out = new ArrayList<>(args.size() + 1);
        boolean fetches = false;
        for (String a : args) {
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (name.equals("--usepkgonly") || a.equals("-K")) {
                out.add(a.equals("-K") ? "--getbinpkgonly" : a.replace("--usepkgonly", "--getbinpkgonly"));
                fetches = true;
                continue;
            }
            if (name.equals("--getbinpkg") || name.equals("--getbinpkgonly") || a.equals("-g") || a.equals("-G")) {
                fetches = true;
            }
            out.add(a);
        }
        if (!fetches) {
            int at = out.indexOf("--resume");
            if (at < 0) {
                out.add(firstAtom(out), "--getbinpkg");
            }
        }
        return out;
    }

    /** Options go before the first atom or set, so the line reads like the admin would type it. */
    private static int firstAtom(List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("-") && (i == 0 || !takesValue(args.get(i - 1)))) {
                return i;
            }
        }
        return args.size();
    }

    private static boolean takesValue(String option) {
        return List.of("--with-bdeps", "--exclude", "--usepkg-exclude", "--jobs", "--load-average",
                "--binpkg-respect-use", "--binpkg-changed-deps", "--keep-going", "--getbinpkg-exclude")
                .contains(option);
    }
}
