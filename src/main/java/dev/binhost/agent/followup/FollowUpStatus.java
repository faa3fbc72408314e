package dev.binhost.agent.followup;

import dev.binhost.agent.emerge.UpdateService;
import dev.binhost.agent.spi.StatusContributor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code follow-up} section of status: what the last run left for the admin, most urgent first, what could
 * not be found out, and every item as collected.
 */
@ApplicationScoped
public class FollowUpStatus implements StatusContributor {
    private final UpdateService updates;

    @Inject
    public FollowUpStatus(UpdateService updates) {
        this.updates = updates;
    }

    @Override
    public String section() {
        return "follow-up";
    }

    @Override
    public Map<String, Object> status() {
        return of(updates.loop().runner().lastFollowUp().orElse(null));
    }

    /** The section for {@code f}; "collected": false before any run was followed up. */
    public static Map<String, Object> of(FollowUp f) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("collected", f != null);
        if (f == null) {
            return m;
        }
        m.put("afterRun", f.afterRun());
        m.put("collectedAt", f.collectedAt());
        m.put("attention", f.attention());
        m.put("unknown", f.unknown());
        Map<String, Object> items = new LinkedHashMap<>();
        f.items().forEach((kind, item) -> {
            Map<String, Object> i = new LinkedHashMap<>();
            i.put("status", item.status().tag());
            i.put("count", item.count());
            i.put("items", List.copyOf(item.items()));
            i.put("detail", item.detail());
            items.put(kind.tag(), i);
        });
        m.put("items", items);
        return m;
    }
}
