package dev.binhost.agent.emerge;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.config.Durations;
import dev.binhost.agent.followup.FollowUpConfig;
import dev.binhost.agent.followup.FollowUpHolds;
import dev.binhost.agent.followup.FollowUps;
import dev.binhost.agent.health.Heartbeats;
import dev.binhost.agent.master.MasterTransition;
import dev.binhost.agent.metrics.MetricsReady;
import dev.binhost.agent.portage.EmergeActivity;
import dev.binhost.agent.posix.Posix;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.spi.RunPrecondition;
import dev.binhost.agent.spi.StatusContributor;
import dev.binhost.agent.sync.ConfigSync;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The update runs as the agent runs them: scheduled (cron + random delay, catch-up), triggered by the control
 * API (coalesced), checked against every {@link RunPrecondition} bean, reported in status and metrics. The
 * {@link UpdateLoop} sleeps until the next run is due; nothing here ticks.
 */
@ApplicationScoped
public class UpdateService implements StatusContributor {
    private final UpdateConfig config;
    private final UpdateLoop loop;

    @Inject
    public UpdateService(UpdateConfig config, FollowUpConfig followUpConfig, AgentConfig agent,
            ProcessRunner processes, Posix posix, Instance<RunPrecondition> preconditions, ConfigSync configSync,
            Clock clock, MeterRegistry registry, Heartbeats heartbeats, EmergeActivity emerges,
            dev.binhost.agent.binhost.Binhost binhost) {
        this.config = config;
        FollowUps followUps = new FollowUps(followUpConfig, config.eroot(), config.makeConf(), config.emergeCommand(),
                processes, clock);
        List<RunPrecondition> holds = new java.util.ArrayList<>(FollowUpHolds.of(followUpConfig, followUps));
        binhost.precondition().ifPresent(holds::add);
        UpdateRunner runner = new UpdateRunner(config, agent.stateDir(), agent.logDir(), agent.procDir(), processes, posix,
                () -> java.util.stream.Stream.concat(preconditions.stream(), holds.stream()).toList(),
                () -> Optional.of(configSync::refreshBeforeRun),
                clock, registry, followUps);
        if (binhost.http()) {
            runner.binhost(binhost);
        }
        UpdateSchedule schedule = new UpdateSchedule(config.cron(), config.randomDelay(), config.retryInterval(),
                config.catchUp(), clock, runner.lastRun());
        Prefetch prefetch = binhost.http() ? binhost.config().prefetchCron().map(cron -> new Prefetch(cron,
                binhost.config().prefetchDeadline(), () -> binhost.downloadDir(config.eroot()), runner,
                () -> HostChecks.power(config.powerSupplyDir()), processes, config.emergeCommand(), agent.logDir(),
                agent.stateDir(), clock, registry)).orElse(null) : null;
        this.loop = new UpdateLoop(runner, schedule, config, clock, heartbeats, prefetch);
        // The agent's run counts once its emerge runs (plan or apply), not while it checks preconditions or pulls.
        emerges.watchAgentRun(() -> runner.current()
                .filter(c -> c.phase() == RunPhase.PLAN || c.phase() == RunPhase.APPLY)
                .map(UpdateRunner.Current::id));
    }

    /**
     * After {@link dev.binhost.agent.config.ConfigCheck} (priority 1) checked the config and took the state dir's
     * lock: starts the loop, whose first step records a run the last agent left unfinished (that reads files,
     * so start-up does not wait for it).
     */
    void onStart(@Observes @Priority(100) StartupEvent event, MetricsReady metrics) {
        metrics.then(loop::start);
        Log.infof("Update runs: cron '%s' (+0..%s), next at %s%s", config.cron(),
                Durations.human(config.randomDelay()), loop.schedule().nextDue(),
                loop.schedule().owed() ? " (catch-up of a missed run)" : "");
        loop.prefetchDue().ifPresent(due -> Log.infof("Prefetch (emerge --fetchonly, on mains with the binhost UP):"
                + " next at %s", due));
    }

    /** The master came UP: what it blocked need not wait for its retry time. */
    void onMaster(@ObservesAsync MasterTransition transition) {
        if (transition.cameUp()) {
            loop.masterCameUp();
        }
    }

    /** Asks for a run now (the control API's trigger); coalesced with one queued or running. */
    public TriggerOutcome trigger(String requestedBy) {
        return loop.request(UpdateRunner.Reason.TRIGGER, requestedBy);
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
        loop.close();
        loop.runner().removeGauges();
    }

}
