/**
 * binhost-agent: the slave side of the seed's master/slave binhost procedure, as a daemon. The cycle, in the
 * seed's order, with the component that owns each step, what starts it, and what it reads and writes:
 *
 * <ol>
 * <li><b>Start</b> — {@link dev.binhost.agent.config.ConfigCheck} checks every feature's mapping (exit 78 on a
 *     wrong key), takes the state directory's lock ({@link dev.binhost.agent.state.AgentLock}, exit 75 when
 *     another agent holds it), so no loop runs on a bad configuration; the loops start once
 *     {@link dev.binhost.agent.metrics.MetricsReady} says the metrics registry is in place.</li>
 * <li><b>Master watch</b> — {@link dev.binhost.agent.master.MasterWatch}, on its loop every probe interval
 *     (plus jitter): probes the master's
 *     services (rsync greeting, NFS RPC NULL, HTTP) with timeouts, feeds the rounds through
 *     {@link dev.binhost.agent.master.Hysteresis} and fires a {@link dev.binhost.agent.master.MasterTransition}
 *     (async CDI event) on UP/DOWN. Reads the network only.</li>
 * <li><b>Mount</b> — {@link dev.binhost.agent.mount.MountWatch} observes the transition and runs its loop when a
 *     mount's {@link dev.binhost.agent.mount.MountState} is next due (probe, retry, release re-check):
 *     {@link dev.binhost.agent.mount.MountManager} mounts on UP, probes each mount in a killable child, releases on
 *     DOWN or stale, never while emerge runs ({@link dev.binhost.agent.mount.EmergeGuard}). Reads
 *     {@code /proc/self/mountinfo}; records what it mounted in the state dir.</li>
 * <li><b>Config pull</b> — {@link dev.binhost.agent.sync.ConfigSync} observes the transition (pull on UP), runs
 *     the schedule on its own {@link dev.binhost.agent.health.Loop} (asleep until the next pull is due) and is
 *     called before each run; its state is one {@code sync.SyncState} value changed by a pure
 *     transition function; {@link dev.binhost.agent.sync.ConfigPull} checks the staging filesystem's room, runs
 *     rsync into staging under a size watch, checks the staged tree, backs up and applies {@code 01*} files by
 *     rename; {@code 02*} are never touched. Waits while emerge runs; held after a rollback.</li>
 * <li><b>Update run</b> — {@link dev.binhost.agent.emerge.UpdateService} takes triggers;
 *     {@link dev.binhost.agent.emerge.UpdateLoop} sleeps until the next cron time (or retry), coalesces
 *     requests and runs one at a time, its state one {@link dev.binhost.agent.emerge.UpdateState};
 *     {@link dev.binhost.agent.emerge.UpdateRunner} locks, checks every
 *     {@link dev.binhost.agent.spi.RunPrecondition} (master up, mounts, config fresh, no other emerge, power,
 *     load), refreshes the config, plans with {@code emerge --pretend} ({@link dev.binhost.agent.emerge.EmergePlan}),
 *     applies {@link dev.binhost.agent.emerge.UpdatePolicy}, runs emerge through
 *     {@link dev.binhost.agent.process.ProcessRunner} with a deadline.</li>
 * <li><b>Follow-up</b> — before the record is written, {@link dev.binhost.agent.followup.FollowUps} collects what
 *     the run left for the admin (config files, preserved libraries, news, GLSAs, restarts, Portage, elog,
 *     orphans) into the record's {@code followUp}; {@code UpdateRunner#next} then begins the run it calls for
 *     (the rest of {@code @world} after Portage went first, {@code @preserved-rebuild}).</li>
 * <li><b>History and notify</b> — closing a run's {@link dev.binhost.agent.emerge.RunAttempt} appends a
 *     {@link dev.binhost.agent.history.RunRecord} to
 *     {@link dev.binhost.agent.history.RunHistory} ({@code <state-dir>/history.jsonl}) and runs the notify
 *     command.</li>
 * <li><b>Health, metrics, status</b> — read memory only: {@code live} from
 *     {@link dev.binhost.agent.health.Heartbeats} (each {@link dev.binhost.agent.health.Loop} says by when it is
 *     next due; a loop past that is wedged), {@code ready} from the master, mounts and config checks,
 *     {@code started} from every
 *     {@link dev.binhost.agent.spi.StartupStep}; Micrometer meters per feature;
 *     {@link dev.binhost.agent.control.ControlServer} answers the CLI over a root-only socket.</li>
 * </ol>
 */
package dev.binhost.agent;
