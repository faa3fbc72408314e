package dev.binhost.agent.sync;

import java.util.List;

/** Files (paths relative to the portage dir) a pull or rollback added, changed and removed. */
public record Changes(List<String> added, List<String> changed, List<String> removed) {
    public static final Changes NONE = new Changes(List.of(), List.of(), List.of());

    public Changes {
        added = List.copyOf(added);
        changed = List.copyOf(changed);
        removed = List.copyOf(removed);
    }

    public boolean isEmpty() {
        return added.isEmpty() && changed.isEmpty() && removed.isEmpty();
    }

    /**
     * "added [a, b]; changed [c]; removed []", shortened after {@code limit} names per list; names escaped
     * ({@link Names#escape}), since they come from the master and are printed to logs and terminals.
     */
    public String describe(int limit) {
        return "added " + names(added, limit) + "; changed " + names(changed, limit) + "; removed "
                + names(removed, limit);
    }

    private static String names(List<String> list, int limit) {
        List<String> shown = list.stream().map(Names::escape).toList();
        if (shown.size() <= limit) {
            return shown.toString();
        }
        return shown.subList(0, limit).toString().replaceFirst("]$", ", … and " + (list.size() - limit) + " more]");
    }
}
