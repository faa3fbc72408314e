package dev.binhost.agent;

import dev.binhost.agent.control.ControlProtocol;
import dev.binhost.agent.emerge.Prefetch;
import dev.binhost.agent.emerge.UpdateRunner;
import dev.binhost.agent.history.RunRecord;
import dev.binhost.agent.portage.Finding;
import io.quarkus.runtime.annotations.RegisterForReflection;
import org.junit.jupiter.api.Test;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every record (and enum) Jackson meets from the serialised roots is registered for the native image. */
class NativeRegistrationsTest {
    /** The types handed to Jackson's readValue/writeValue (grep them: RunHistory, UpdateRunner, Prefetch, control). */
    private static final List<Class<?>> ROOTS = List.of(RunRecord.class, UpdateRunner.Marker.class,
            Prefetch.Result.class, ControlProtocol.Request.class, ControlProtocol.Response.class, Finding.class);

    static Set<Class<?>> reachable() {
        Set<Class<?>> seen = new LinkedHashSet<>();
        Deque<Type> todo = new ArrayDeque<>(ROOTS);
        while (!todo.isEmpty()) {
            Type t = todo.pop();
            if (t instanceof ParameterizedType p) {
                todo.add(p.getRawType());
                todo.addAll(List.of(p.getActualTypeArguments()));
            } else if (t instanceof Class<?> c && c.getName().startsWith("dev.binhost.") && seen.add(c)) {
                if (c.isRecord()) {
                    for (RecordComponent rc : c.getRecordComponents()) {
                        todo.add(rc.getGenericType());
                    }
                }
            }
        }
        return seen;
    }

    @Test
    void everyRecordAndEnumJacksonMeets_isRegistered() {
        Set<Class<?>> registered = Set.of(NativeRegistrations.class.getAnnotation(RegisterForReflection.class).targets());
        Set<Class<?>> reachable = reachable();
        Set<String> missing = new TreeSet<>();
        for (Class<?> c : reachable) {
            boolean annotated = c.isAnnotationPresent(RegisterForReflection.class);
            if (!registered.contains(c) && !annotated) {
                missing.add(c.getName().replace('$', '.') + ".class");
            }
        }
        assertTrue(reachable.size() >= 10, "the walk found only " + reachable);
        assertTrue(missing.isEmpty(), "not registered for the native image: " + String.join(", ", missing));
    }
}
