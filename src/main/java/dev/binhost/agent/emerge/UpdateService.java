package dev.binhost.agent.emerge;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.config.Durations;
import dev.binhost.agent.posix.Posix;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.spi.RunPrecondition;
import dev.binhost.agent.spi.StatusContributor;
import dev.binhost.agent.spi.UpdateActivity;
import dev.binhost.agent.spi.UpdateTrigger;
import dev.binhost.agent.sync.ConfigSync;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The update runs as the agent runs them: scheduled (cron + random delay, catch-up), triggered by the control
 * API (coalesced), checked against every {@link RunPrecondition} bean, reported in status and metrics.
 */
@ApplicationScoped
public class UpdateService implements UpdateTrigger, UpdateActivity, StatusContributor {
    private final UpdateConfig config;
    private final UpdateLoop loop;
    private final Path procDir;

    @Inject
    public UpdateService(UpdateConfig config, AgentConfig agent, ProcessRunner processes, Posix posix,
            Instance<RunPrecondition> preconditions, Instance<ConfigSync> configSync, Clock clock,
            MeterRegistry registry) {
        this.config = config;
        this.procDir = agent.procDir();
        UpdateRunner runner = new UpdateRunner(config, agent.stateDir(), agent.logDir(), agent.procDir(), processes, posix,
                () -> preconditions.stream().toList(),
                () -> configSync.isResolvable() ? Optional.of(configSync.get()::refreshBeforeRun) : Optional.empty(),
                clock, registry);
        UpdateSchedule schedule = new UpdateSchedule(config.cron(), config.randomDelay(), config.retryInterval(),
                config.catchUp(), clock, runner.lastRun());
        this.loop = new UpdateLoop(runner, schedule);
    }

    void onStart(@Observes StartupEvent event) {
        try {
            loop.runner().recoverInterrupted().ifPresent(r -> {
                if (config.resumeInterrupted() && r.log() != null) {
                    Log.infof("Resuming interrupted run %s with emerge --resume", r.id());
                    loop.request(UpdateRunner.Reason.RESUME, "restart");
                }
            });
        } catch (IOException | RuntimeException e) {
            // a state-file fault must not stop the agent (its supervisor would restart it into the same fault)
            Log.errorf(e, "Cannot check for an interrupted update run");
        }
        Log.infof("Update runs: cron '%s' (+0..%s), next at %s%s", config.cron(),
                Durations.human(config.randomDelay()), loop.schedule().nextDue(), loop.schedule().owed() ? " (catch-up of a missed run)" : "");
    }

    @Scheduled(identity = "update-schedule", every = "15s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void tick() {
        loop.tick();
    }

    @Override
    public Outcome trigger(String requestedBy) {
        return loop.request(UpdateRunner.Reason.TRIGGER, requestedBy);
    }

    @Override
    public boolean emergeRunning() {
        return loop.runner().current().isPresent() || !HostChecks.emergePids(procDir).isEmpty();
    }

    @Override
    public String section() {
        return "update";
    }

    @Override
    public Map<String, Object> status() {
        return loop.status();
    }

    public UpdateLoop loop() {
        return loop;
    }

    void stop(@Observes ShutdownEvent event) {
        loop.shutdown();
        loop.runner().removeGauges();
    }

}
