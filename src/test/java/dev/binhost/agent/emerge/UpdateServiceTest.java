package dev.binhost.agent.emerge;

import dev.binhost.agent.history.RunOutcome;
import dev.binhost.agent.history.RunRecord;
import dev.binhost.agent.spi.StatusContributor;
import dev.binhost.agent.portage.EmergeActivity;
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
    Instance<StatusContributor> sections;

    @Inject
    EmergeActivity activity;

    @Test
    void trigger_inTheAgentWithTheMasterDown_skippedNamingMasterUp_andStatusShowsIt() throws Exception {
        TriggerOutcome o = service.trigger("test");
        assertEquals(TriggerOutcome.Result.QUEUED, o.result(), o.message());
        RunRecord r = service.loop().awaitLast(30, TimeUnit.SECONDS).orElseThrow();
        assertEquals(RunOutcome.SKIPPED, r.outcome());
        assertTrue(r.message().contains("master-up"), r.message());
        var status = sections.stream().filter(s -> s.section().equals("update")).findFirst().orElseThrow().status();
        assertTrue(status.containsKey("nextScheduled"));
        assertTrue(status.get("last").toString().contains("outcome=skipped"), status.toString());
        assertEquals("idle", status.get("state"), "a skipped trigger leaves nothing owed");
        service.loop().awaitIdle();
        assertEquals(service.loop().schedule().nextDue(), service.loop().due(),
                "the loop sleeps until the next cron time, no tick");
        assertFalse(activity.any());
    }
}
