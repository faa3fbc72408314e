package dev.binhost.agent.binhost;

import dev.binhost.agent.config.AgentConfigs;

import java.util.HashMap;
import java.util.Map;

/** Test configurations of an HTTP binhost slave. */
final class HttpBinhosts {
    private HttpBinhosts() {
    }

    static PackagesConfig config(String... keyValues) {
        Map<String, String> p = new HashMap<>();
        p.put("binhost.master.host", "master");
        for (int i = 0; i < keyValues.length; i += 2) {
            p.put(keyValues[i], keyValues[i + 1]);
        }
        return AgentConfigs.of(p).getConfigMapping(PackagesConfig.class);
    }
}
