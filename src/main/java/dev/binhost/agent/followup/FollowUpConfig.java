package dev.binhost.agent.followup;

import dev.binhost.agent.config.Checked;
import dev.binhost.agent.config.Checks;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * What the agent looks at after each update run, which tools it asks, and what it does about it by policy.
 * Read-only checks are on; the only action on by default is {@code emerge @preserved-rebuild} (and Portage
 * first), as the handbook advises; holds are off. Config files are never merged by the agent.
 */
@ConfigMapping(prefix = "binhost.followup")
public interface FollowUpConfig extends Checked {
    /** Collect the follow-ups after every run that got past its preconditions. */
    @WithDefault("true")
    boolean enabled();

    /** Portage's portageq: CONFIG_PROTECT and CONFIG_PROTECT_MASK, preserved libraries. */
    @WithDefault("/usr/bin/portageq")
    List<String> portageqCommand();

    /** Portage's glsa-check ({@code -t all}; it moved there from gentoolkit); "not installed" when absent. */
    @WithDefault("/usr/bin/glsa-check")
    List<String> glsaCheckCommand();

    /** needrestart in batch mode ({@code -b}); "not installed" when absent. */
    @WithDefault("/usr/sbin/needrestart")
    List<String> needrestartCommand();

    /** Count orphaned packages with {@code emerge --pretend --depclean} (report only, never removes). */
    @WithDefault("true")
    boolean depclean();

    /** Deadline of each tool; past it the tool is ended and its item reported as failed. */
    @WithDefault("5m")
    Duration toolDeadline();

    /** After a run that left preserved libraries, run {@code emerge --usepkg @preserved-rebuild} as a run. */
    @WithDefault("true")
    boolean preservedRebuild();

    /** When sys-apps/portage is in the plan with other packages, update Portage alone first, then the rest. */
    @WithDefault("true")
    boolean portageFirst();

    /** Hold runs (a blocking precondition) while unread news items exist. */
    @WithDefault("false")
    boolean holdOnUnreadNews();

    /** Hold runs while more than this many config files wait for a merge; unset for no hold. */
    OptionalInt holdOnConfigFiles();

    @Override
    default List<String> problems() {
        List<String> p = new ArrayList<>();
        Checks.positive(p, "binhost.followup.tool-deadline", toolDeadline());
        holdOnConfigFiles().ifPresent(n -> Checks.atLeast(p, "binhost.followup.hold-on-config-files", n, 0));
        for (var c : List.of(java.util.Map.entry("portageq-command", portageqCommand()),
                java.util.Map.entry("glsa-check-command", glsaCheckCommand()),
                java.util.Map.entry("needrestart-command", needrestartCommand()))) {
            if (c.getValue().isEmpty() || c.getValue().get(0).isBlank()) {
                p.add("binhost.followup." + c.getKey() + ": must name a program");
            }
        }
        return p;
    }
}
