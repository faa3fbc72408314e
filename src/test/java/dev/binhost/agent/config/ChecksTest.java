package dev.binhost.agent.config;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChecksTest {
    @ParameterizedTest
    @ValueSource(strings = {"master", "master.lan", "build-master.example.org", "10.0.0.2", "fd00::2", "[fd00::2]",
            "fe80::1%eth0", "bücher.example", "master.lan."})
    void host_acceptsNamesAndAddresses(String host) {
        assertNull(Checks.hostProblem(host), host);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " master", "bad_host!", "master:873", "300.1.1.1", "10.0.0", "-master", "a..b",
            "master/portage", "[master]"})
    void host_rejectsWhatIsNoHost(String host) {
        assertNotNull(Checks.hostProblem(host), host);
    }

    @ParameterizedTest
    @ValueSource(strings = {"-5s", "0s"})
    void positive_namesTheKeyAndTheValue(String value) {
        List<String> problems = new ArrayList<>();
        Duration d = value.startsWith("-") ? Duration.ofSeconds(-5) : Duration.ZERO;
        Checks.positive(problems, "binhost.master.probe-interval", d);
        assertEquals(1, problems.size());
        assertTrue(problems.get(0).startsWith("binhost.master.probe-interval: must be a positive duration"));
        assertTrue(problems.get(0).endsWith("was " + value), problems.get(0));
    }
}
