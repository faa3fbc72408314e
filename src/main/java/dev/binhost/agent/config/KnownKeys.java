package dev.binhost.agent.config;

import dev.binhost.agent.demo.DemoConfig;
import dev.binhost.agent.process.ProcessRunnerConfig;
import io.smallrye.config.ConfigMappingInterface;
import io.smallrye.config.ConfigMappings;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.SmallRyeConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Refuses what SmallRye would let pass: a {@code binhost.*} key (or {@code BINHOST_*} variable) no mapping
 * has, which would otherwise be ignored (a typo then silently keeps the default), and a boolean spelt other
 * than {@code true} or {@code false} (SmallRye reads anything it does not know as false).
 */
public final class KnownKeys {
    /** Keys only the CLI reads (binhost-agent check), not the daemon's mappings. */
    private static final List<String> CLI_KEYS = List.of("binhost.check.portage-dir", "binhost.check.cpuinfo",
            "binhost.check.mountinfo", "binhost.check.tools");
    /**
     * Variables the launcher, the OpenRC service (conf.d, which exports some of them) and the systemd unit read;
     * they are not configuration keys, and an agent started by them must not refuse them.
     */
    static final Set<String> NOT_KEYS = Set.of("BINHOST_AGENT_CONFIG", "BINHOST_AGENT_JAVA",
            "BINHOST_AGENT_JAVA_OPTS", "BINHOST_AGENT_HOME", "BINHOST_AGENT_LOG", "BINHOST_AGENT_HEALTH_URL",
            "BINHOST_AGENT_HEALTHCHECK_DELAY", "BINHOST_AGENT_HEALTHCHECK_TIMER", "BINHOST_AGENT_RESPAWN_DELAY",
            "BINHOST_AGENT_RESPAWN_MAX", "BINHOST_AGENT_RESPAWN_PERIOD", "BINHOST_AGENT_STOP_RETRY",
            "BINHOST_AGENT_COMMAND");

    private KnownKeys() {
    }

    /**
     * Every key of the agent's mappings ({@link ConfigCheck#MAPPINGS} and the unchecked ones), "*" standing for a
     * map key, mapped to whether its value is a boolean. Computed once, when the class is initialised: SmallRye
     * reads the mapping interfaces by reflection, which a native image does not allow at run time, but Quarkus
     * initialises this class in the image builder, so the image holds the finished map (issue 17: without it the
     * native agent called every key unknown).
     */
    static final Map<String, Boolean> KEYS = keys(ConfigCheck.MAPPINGS);

    static Map<String, Boolean> keys(List<? extends Class<?>> mappings) {
        Map<String, Boolean> keys = new LinkedHashMap<>();
        List<Class<?>> all = new ArrayList<>(mappings);
        all.addAll(List.of(AgentConfig.class, ProcessRunnerConfig.class, DemoConfig.class));
        for (Class<?> mapping : all) {
            ConfigMappings.getProperties(ConfigMappings.ConfigClass.configClass(mapping)).forEach((name, p) ->
                    keys.put(name.replace("[*]", ""), isBoolean(p)));
        }
        CLI_KEYS.forEach(k -> keys.put(k, false));
        return java.util.Collections.unmodifiableMap(keys);
    }

    private static boolean isBoolean(ConfigMappingInterface.Property p) {
        if (p.isPrimitive()) {
            return p.asPrimitive().getPrimitiveType() == boolean.class;
        }
        if (p.isOptional() && p.asOptional().getNestedProperty().isLeaf()) {
            return p.asOptional().getNestedProperty().asLeaf().getValueRawType() == Boolean.class;
        }
        return p.isLeaf() && p.asLeaf().getValueRawType() == Boolean.class;
    }

    /** One "key: why" line per unknown key and per boolean that is not true or false. */
    public static List<String> problems(SmallRyeConfig config) {
        Map<String, Boolean> keys = KEYS;
        // Most keys are matched by name; only the few with a map key ("*") need a pattern (compiling one per
        // key was a large part of this check's time at start-up).
        Map<String, String> byEnv = new HashMap<>();
        Map<Pattern, String> patterns = new LinkedHashMap<>();
        Map<Pattern, String> envPatterns = new LinkedHashMap<>();
        keys.keySet().forEach(k -> {
            if (k.contains("*")) {
                patterns.put(Pattern.compile(Pattern.quote(k).replace("*", "\\E[^.]+\\Q")), k);
                envPatterns.put(Pattern.compile(Pattern.quote(env(k)).replace("*", "\\E[A-Z0-9_]+\\Q")), k);
            } else {
                byEnv.put(env(k), k);
            }
        });
        List<String> problems = new ArrayList<>();
        for (String name : config.getPropertyNames()) {
            String key = name.startsWith("%") && name.indexOf('.') > 0 ? name.substring(name.indexOf('.') + 1) : name;
            boolean env = key.startsWith("BINHOST_");
            if (!(key.startsWith("binhost.") || env) || NOT_KEYS.contains(key) || key.startsWith("BINHOST_TEST_")) {
                continue;
            }
            if (!env && fromEnvironment(config, name)) {
                continue; // SmallRye's dotted twin of a BINHOST_ variable: the variable itself is checked
            }
            // A list may be given element by element: binhost.update.exclude[0]=...
            String plain = env ? key : key.replaceAll("\\[\\d+]", "");
            String known = env ? byEnv.get(plain) : keys.containsKey(plain) ? plain : null;
            if (known == null) {
                known = match(env ? envPatterns : patterns, plain);
            }
            if (known == null) {
                problems.add(key + ": unknown key" + suggestion(keys.keySet(), key, env));
                continue;
            }
            if (keys.get(known) && !name.startsWith("%")) {
                ConfigValue value = config.getConfigValue(name);
                String raw = value.getValue();
                if (raw != null && !raw.equals("true") && !raw.equals("false")) {
                    problems.add((env ? key : known) + ": must be true or false, was '" + raw + "'");
                }
            }
        }
        return problems;
    }

    private static boolean fromEnvironment(SmallRyeConfig config, String name) {
        String source = config.getConfigValue(name).getSourceName();
        return source != null && source.startsWith("EnvConfigSource");
    }

    private static String match(Map<Pattern, String> patterns, String key) {
        for (var e : patterns.entrySet()) {
            if (e.getKey().matcher(key).matches()) {
                return e.getValue();
            }
        }
        return null;
    }

    /** The environment variable SmallRye maps to {@code key}: upper case, every other character an underscore. */
    static String env(String key) {
        return key.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9*]", "_");
    }

    private static String suggestion(Set<String> keys, String key, boolean env) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : keys) {
            String candidate = env ? env(k) : k;
            int d = distance(candidate, key);
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        return best != null && bestDistance <= Math.max(3, key.length() / 5) ? ", did you mean " + best + "?"
                : " (see config/binhost-agent.properties for every key)";
    }

    /** Levenshtein distance, enough to find the key a typo meant. */
    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
