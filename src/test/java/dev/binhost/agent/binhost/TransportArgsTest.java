package dev.binhost.agent.binhost;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TransportArgsTest {
    private static final List<String> SEED = List.of("--usepkg", "--update", "--deep", "--changed-use", "--with-bdeps",
            "y", "@world");

    @Test
    void theSeedsLine_fetchesFromTheBinhost() {
        assertEquals(List.of("--usepkg", "--update", "--deep", "--changed-use", "--with-bdeps", "y", "--getbinpkg",
                "@world"), TransportArgs.http(SEED));
    }

    @Test
    void binariesOnly_isGetbinpkgonly_notTheLocalUsepkgonly() {
        List<String> args = new java.util.ArrayList<>(SEED);
        args.add("--usepkgonly");
        List<String> http = TransportArgs.http(args);
        assertEquals(1, http.stream().filter(a -> a.equals("--getbinpkgonly")).count(), http.toString());
        assertEquals(0, http.stream().filter(a -> a.equals("--usepkgonly") || a.equals("--getbinpkg")).count());
        assertEquals(List.of("--getbinpkgonly", "@world"), TransportArgs.http(List.of("-K", "@world")));
    }

    @Test
    void theAdminsOwnFetchOptions_andResume_areLeftAlone() {
        assertEquals(List.of("-g", "@world"), TransportArgs.http(List.of("-g", "@world")));
        assertEquals(List.of("--getbinpkg=y", "@world"), TransportArgs.http(List.of("--getbinpkg=y", "@world")));
        assertEquals(List.of("--resume"), TransportArgs.http(List.of("--resume")));
        assertEquals(List.of("--usepkg", "--getbinpkg", "@preserved-rebuild"),
                TransportArgs.http(List.of("--usepkg", "@preserved-rebuild")));
        assertEquals(List.of("--oneshot", "--getbinpkg", "sys-apps/portage"),
                TransportArgs.http(List.of("--oneshot", "sys-apps/portage")));
    }
}
