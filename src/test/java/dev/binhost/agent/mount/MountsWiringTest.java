package dev.binhost.agent.mount;

import io.quarkus.test.junit.QuarkusTest;
import dev.binhost.agent.spi.RunPrecondition;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent starts with the %test mount (a target that does not exist, under target/): the master is not UP in
 * tests, so nothing is mounted, and readiness lists the "mounts" check as DOWN with the reason.
 */
@QuarkusTest
class MountsWiringTest {
    @Inject
    MountsPrecondition precondition;

    @Inject
    @Any
    Instance<RunPrecondition> preconditions;

    @Inject
    MountManager mounts;

    @Test
    void readiness_listsTheMountsCheck_downWhileNothingIsMounted() {
        given().when().get("/q/health/ready").then()
                .statusCode(503)
                .body("checks.name", hasItem("mounts"));
        assertTrue(preconditions.stream().anyMatch(p -> p.name().equals("mounts-healthy")),
                "the update run finds the mount precondition");
        assertFalse(precondition.check().ok());
        assertTrue(precondition.check().detail().contains("packages"), precondition.check().detail());
        assertEquals("NOT_MOUNTED", ((java.util.Map<?, ?>) precondition.status().get("packages")).get("phase"));
        assertEquals(MountStatus.Phase.NOT_MOUNTED, mounts.status("packages").phase());
    }

    @Test
    void liveness_doesNotIncludeMounts() {
        given().when().get("/q/health/live").then().statusCode(200);
    }
}
