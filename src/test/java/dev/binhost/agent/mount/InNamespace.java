package dev.binhost.agent.mount;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * Entry point of the child JVM that {@link MountNamespaceTest} starts inside {@code unshare -m}: runs one
 * scenario method of {@link MountScenarios}; a failed assertion prints its stack trace and exits 1.
 */
public final class InNamespace {
    private InNamespace() {
    }

    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        java.nio.file.Path dir = java.nio.file.Path.of(args[1]);
        Method method = MountScenarios.class.getDeclaredMethod(scenario);
        method.setAccessible(true);
        int code = 0;
        try (MountScenarios scenarios = new MountScenarios(dir, args[2])) {
            method.invoke(scenarios);
            System.out.println("SCENARIO PASSED: " + scenario);
        } catch (InvocationTargetException e) {
            e.getCause().printStackTrace(System.out);
            code = 1;
        } catch (Throwable e) {
            e.printStackTrace(System.out);
            code = 2;
        }
        System.out.flush();
        // halt, not exit: a worker thread stuck in a test failure must not keep the namespace alive.
        Runtime.getRuntime().halt(code);
    }
}
