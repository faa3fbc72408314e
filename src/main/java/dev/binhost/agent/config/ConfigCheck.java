package dev.binhost.agent.config;

import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.ConfigurationException;
import io.smallrye.config.SmallRyeConfig;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import dev.binhost.agent.state.AgentLock;
import org.eclipse.microprofile.config.ConfigProvider;

import java.util.ArrayList;
import java.util.List;

/**
 * Checks every feature's configuration before anything starts, and stops start-up with one line per problem.
 */
@ApplicationScoped
public class ConfigCheck {

    /**
     * Every feature's checked mapping. A plain list rather than a ServiceLoader: a native image has no service
     * providers unless each is registered, and a missed one silently skipped the check (issue 17).
     * {@code ConfigCheckTest} fails when a {@link Checked} mapping is missing here.
     */
    public static final List<Class<? extends Checked>> MAPPINGS = List.of(
            dev.binhost.agent.master.MasterConfig.class,
            dev.binhost.agent.emerge.UpdateConfig.class,
            dev.binhost.agent.mount.MountConfig.class,
            dev.binhost.agent.sync.SyncConfig.class,
            dev.binhost.agent.control.ControlConfig.class,
            dev.binhost.agent.followup.FollowUpConfig.class,
            dev.binhost.agent.binhost.PackagesConfig.class);

    @Inject
    AgentLock lock;

    /**
     * First of all start-up observers: the configuration is checked and this agent takes the state directory.
     * The loops start from observers ordered after it ({@code @Priority(100)}), so if this throws, none runs.
     */
    void onStart(@Observes @Priority(1) StartupEvent event) {
        List<String> problems = problems(ConfigProvider.getConfig().unwrap(SmallRyeConfig.class));
        if (!problems.isEmpty()) {
            throw new ConfigurationException(String.join("\n", problems));
        }
        lock.acquire();
    }

    public static List<String> problems(SmallRyeConfig config) {
        List<String> problems = new ArrayList<>();
        AgentConfig agent = config.getConfigMapping(AgentConfig.class);
        List<OwnedDir.Use> paths = new ArrayList<>(List.of(
                OwnedDir.Use.of("binhost.agent.state-dir", agent.stateDir(), OwnedDir.Kind.WORK),
                OwnedDir.Use.of("binhost.agent.log-dir", agent.logDir(), OwnedDir.Kind.WORK)));
        for (Class<? extends Checked> mapping : MAPPINGS) {
            Checked checked = config.getConfigMapping(mapping);
            problems.addAll(checked.problems());
            paths.addAll(checked.paths(agent));
        }
        problems.addAll(OwnedDir.problems(paths));
        problems.addAll(KnownKeys.problems(config));
        return problems;
    }
}
