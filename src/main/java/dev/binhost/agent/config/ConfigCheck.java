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
import java.util.ServiceLoader;

/**
 * Checks every feature's configuration before anything starts, and stops start-up with one line per problem.
 * Features list their mappings through {@link Mappings} (META-INF/services), so this class needs no edit when
 * a feature is added.
 */
@ApplicationScoped
public class ConfigCheck {

    /** A feature's contribution: the mapping interfaces to check. */
    public interface Mappings {
        List<Class<? extends Checked>> mappings();
    }

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
        List<Class<?>> mappings = new ArrayList<>();
        for (Mappings feature : ServiceLoader.load(Mappings.class, ConfigCheck.class.getClassLoader())) {
            for (Class<? extends Checked> mapping : feature.mappings()) {
                mappings.add(mapping);
                Checked checked = config.getConfigMapping(mapping);
                problems.addAll(checked.problems());
                paths.addAll(checked.paths(agent));
            }
        }
        problems.addAll(OwnedDir.problems(paths));
        problems.addAll(KnownKeys.problems(config, mappings));
        return problems;
    }
}
