package dev.binhost.agent.health;

import dev.binhost.agent.master.MasterState;
import dev.binhost.agent.master.MasterWatch;
import dev.binhost.agent.metrics.MetricsReady;
import io.micrometer.core.instrument.Metrics;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent as monitoring sees it: a real rsync daemon as the master; stopping it turns readiness DOWN with the
 * reason once the hysteresis threshold is reached, while liveness stays UP.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalRsyncMaster.class, restrictToAnnotatedClass = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HealthAndMetricsTest {
    @Inject
    MasterWatch watch;
    @Inject
    MetricsReady metricsReady;

    @Test
    @Order(0)
    void theLoopsWereLetGo_onceQuarkusHadAddedItsRegistry() {
        assertTrue(metricsReady.open());
        assertFalse(Metrics.globalRegistry.getRegistries().isEmpty(), "the global registry has one behind it");
    }

    @Test
    @Order(1)
    void ready_whenMastersRsyncDaemonAnswers_isUpAndNamesTheGreeting() {
        assertEquals(MasterState.Status.UP, watch.probeNow().status());
        // Overall readiness also needs mounts and a fresh config, which this test does not provide.
        given().get("/q/health/ready").then()
                .body("checks.find { it.name == 'master' }.status", equalTo("UP"))
                .body("checks.find { it.name == 'master' }.data.reason", startsWith("all probes answered: rsync: @RSYNCD:"));
        given().get("/q/health/started").then()
                .body("checks.find { it.name == 'first-attempts' }.data.'first-master-probe'",
                        equalTo("done: master UP"));
        given().get("/q/health/live").then().statusCode(200)
                .body("checks.find { it.name == 'agent-loops' }.status", equalTo("UP"));
    }

    @Test
    @Order(2)
    void ready_whenMastersDaemonStops_goesDownOnlyAfterTheThresholdAndSaysWhy() throws Exception {
        LocalRsyncMaster.stopDaemon();
        int threshold = watch.config().downAfterFailures();
        for (int i = 1; i < threshold; i++) {
            assertEquals(MasterState.Status.UP, watch.probeNow().status(), "still UP after " + i + " failures");
        }
        assertEquals(MasterState.Status.DOWN, watch.probeNow().status());
        given().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'master' }.status", equalTo("DOWN"))
                .body("checks.find { it.name == 'master' }.data.reason", containsString("connection refused by 127.0.0.1:"))
                .body("checks.find { it.name == 'master' }.data.'probe.rsync'", startsWith("failed: connection refused"));
        given().get("/q/health/live").then().statusCode(200);
    }

    @Test
    @Order(3)
    void metrics_exposeMasterStateProbeTimesAndTransitionsInPrometheusFormat() {
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("binhost_master_up 0.0"))
                .body(containsString("binhost_master_transitions_total{to=\"down\"} 1.0"))
                .body(containsString("binhost_master_probe_duration_seconds_count{outcome=\"success\",probe=\"rsync\"}"))
                .body(containsString("binhost_master_probe_duration_seconds_count{outcome=\"failure\",probe=\"rsync\"}"));
    }
}
