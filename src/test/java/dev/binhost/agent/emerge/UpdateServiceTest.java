package dev.binhost.agent.emerge;

import dev.binhost.agent.history.RunRecord;
import dev.binhost.agent.spi.StatusContributor;
import dev.binhost.agent.spi.UpdateActivity;
import dev.binhost.agent.spi.UpdateTrigger;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@QuarkusTest
class UpdateServiceTest {
    @Inject
    UpdateService service;

    @Inject
    Instance<UpdateTrigger> triggers;

    @Inject
    Instance<StatusContributor> sections;

    @Inject
    Instance<UpdateActivity> activity;

    @Test
    void trigger_inTheAgentWithTheMasterDown_skippedNamingMasterUp_andStatusShowsIt() throws Exception {
        assertEquals(1, triggers.stream().count(), "one UpdateTrigger bean for the control API");
        UpdateTrigger.Outcome o = triggers.get().trigger("test");
        assertEquals(UpdateTrigger.Result.QUEUED, o.result(), o.message());
        RunRecord r = service.loop().awaitLast(30, TimeUnit.SECONDS).orElseThrow();
        assertEquals("skipped", r.outcome());
        assertTrue(r.message().contains("master-up"), r.message());
        var status = sections.stream().filter(s -> s.section().equals("update")).findFirst().orElseThrow().status();
        assertTrue(status.containsKey("nextScheduled"));
        assertTrue(status.get("last").toString().contains("skipped"), status.toString());
        assertFalse(activity.get().emergeRunning());
    }
}
