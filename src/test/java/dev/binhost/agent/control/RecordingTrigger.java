package dev.binhost.agent.control;

import dev.binhost.agent.spi.UpdateTrigger;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The update runner's side of a trigger, for {@link ControlSocketTest}: answers QUEUED once, then ALREADY_QUEUED. */
@Alternative
@ApplicationScoped
public class RecordingTrigger implements UpdateTrigger {
    private final List<String> requests = new CopyOnWriteArrayList<>();

    /** Who asked, in order (a method: fields of a CDI client proxy are not the bean's). */
    public List<String> requests() {
        return requests;
    }

    @Override
    public Outcome trigger(String requestedBy) {
        requests.add(requestedBy);
        return requests.size() == 1 ? new Outcome(Result.QUEUED, "run queued; starts within a minute")
                : new Outcome(Result.ALREADY_QUEUED, "a run is already waiting");
    }
}
