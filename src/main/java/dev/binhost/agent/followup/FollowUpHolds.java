package dev.binhost.agent.followup;

import dev.binhost.agent.spi.RunPrecondition;
import dev.binhost.agent.spi.Verdict;

/**
 * The holds an admin may turn on: no run while unread news items exist ({@code hold-on-unread-news}), or while
 * more than N config files wait for a merge ({@code hold-on-config-files}). Each names what holds the run, so
 * the admin knows what to read or merge. Off by default; {@link #of} gives the ones turned on.
 */
public final class FollowUpHolds {
    private FollowUpHolds() {
    }

    /** The holds {@code config} turns on, as preconditions of every run. */
    public static java.util.List<RunPrecondition> of(FollowUpConfig config, FollowUps followUps) {
        java.util.List<RunPrecondition> holds = new java.util.ArrayList<>();
        if (config.holdOnUnreadNews()) {
            holds.add(news(followUps));
        }
        config.holdOnConfigFiles().ifPresent(max -> holds.add(configFiles(max, followUps)));
        return holds;
    }

    /** {@code no-unread-news}: blocks while Portage lists unread news items. */
    public static RunPrecondition news(FollowUps followUps) {
        return new RunPrecondition() {
            @Override
            public String name() {
                return "no-unread-news";
            }

            @Override
            public Verdict check() {
                Item news = followUps.news();
                if (news.status() != Item.Status.OK) {
                    return Verdict.ok("news lists unreadable, not holding: " + news.detail());
                }
                return news.pending()
                        ? Verdict.no(FollowUp.Kind.NEWS.phrase(news.count()) + ": " + String.join(", ", news.items()))
                        : Verdict.ok("no unread news");
            }
        };
    }

    /** {@code config-files-merged}: blocks while more than N protected config files wait for a merge. */
    public static RunPrecondition configFiles(int max, FollowUps followUps) {
        return new RunPrecondition() {
            @Override
            public String name() {
                return "config-files-merged";
            }

            @Override
            public Verdict check() {
                Item files;
                try {
                    files = followUps.configFiles();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return Verdict.no("interrupted while looking for config files");
                }
                if (files.status() != Item.Status.OK) {
                    return Verdict.ok("config files unknown, not holding: " + files.detail());
                }
                return files.count() > max
                        ? Verdict.no(FollowUp.Kind.CONFIG_FILES.phrase(files.count()) + ", more than "
                                + "binhost.followup.hold-on-config-files=" + max + ": " + String.join(", ", files.items()))
                        : Verdict.ok(files.count() + " config files wait (at most " + max + ")");
            }
        };
    }
}
