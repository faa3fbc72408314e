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
    void trigger_inTheAgentWithTheMasterDown_refusedAtOnceNamingMasterUp_nothingQueuedOrRecorded() throws Exception {
        Object before = service.status().get("last");
        TriggerOutcome o = service.trigger("test");
        assertEquals(TriggerOutcome.Result.REFUSED, o.result(), o.message());
        assertTrue(o.message().startsWith("not queued: a run now would be blocked by "), o.message());
        assertTrue(o.message().contains("master-up (master 127.0.0.1 is DOWN"), o.message());
        var status = sections.stream().filter(s -> s.section().equals("update")).findFirst().orElseThrow().status();
        assertTrue(status.containsKey("nextScheduled"));
        assertEquals(before, status.get("last"), "a refused trigger runs nothing and records nothing: " + status);
        assertEquals("idle", status.get("state"), "a refused trigger leaves nothing owed");
        service.loop().awaitIdle();
        assertEquals(service.loop().schedule().nextDue(), service.loop().due(),
                "the loop sleeps until the next cron time, no tick");
        assertFalse(activity.any());
    }
}
