package dev.binhost.agent.master;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The running agent with credentials in binhost.master.http-binhost: readiness and /status never show them. */
@QuarkusTest
@TestProfile(CredentialsHiddenAgentTest.WithCredentials.class)
class CredentialsHiddenAgentTest {
    /** A closed port: the probe fails and its message, quoting the URL, reaches readiness and status. */
    public static class WithCredentials implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("binhost.master.http-binhost", "http://binuser:s3cret@127.0.0.1:1/packages/Packages");
        }
    }

    @Inject
    MasterWatch watch;

    @Test
    void readinessAndStatus_showTheUrlWithoutThePassword() {
        MasterState state = watch.probeNow();
        String ready = given().get("/q/health/ready").then().extract().asString();
        String status = given().get("/status").then().statusCode(200).extract().asString();

        assertTrue(state.lastRound().stream().anyMatch(r -> r.probe().equals("http")), state.toString());
        assertTrue(ready.contains("binuser:***@127.0.0.1:1"), ready);
        for (String shown : new String[] {ready, status, state.reason(), state.toString()}) {
            assertFalse(shown.contains("s3cret"), shown);
        }
    }
}
