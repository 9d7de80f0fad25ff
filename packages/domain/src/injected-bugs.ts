/**
 * Deliberate bugs, for proving that the simulator's invariant checker
 * catches the failures it exists to catch (a checker that never fails
 * proves nothing).
 *
 * Each bug sits at the one spot in production code where a real
 * implementation could get it wrong. A component runs a bug only when it is
 * given it in its `bugs` option (`InjectedBugs`: the server's storage and
 * service, the forwarder, the terminal); nothing reads a process-wide
 * switch. The simulator builds that set from `--inject-bug` names with
 * `injectedBugs`, which refuses unless the process was started with
 * HOLDFAST_INJECT_BUGS=1 — a test-only run in effect. The environment is
 * read once, at load.
 */

export const INJECTABLE_BUGS = {
  /** The server re-applies an op it already holds instead of answering duplicate. */
  'dedupe-disabled': 'server',
  /** The server answers a duplicate with a freshly made result instead of the stored one. */
  'results-not-stored': 'server',
  /** The server acknowledges a batch before committing it (commits a moment later). */
  'commit-after-ack': 'server',
  /** After a crash the terminal drops its pending ops and reuses their seqs. */
  'seq-reuse-after-crash': 'terminal',
  /** The terminal treats a timeout as a failure and dead-letters the batch. */
  'timeout-is-failure': 'terminal',
  /** After an unknown outcome the forwarder resubmits under a fresh idempotency key instead of asking by the first. */
  'forward-fresh-key': 'server',
  /** A post-authorization decline is settled without its post_auth_decline exception. */
  'decline-without-exception': 'server',
  /** After an unknown outcome the fiscal submitter registers the bill again under a fresh key (docs/e-invoicing.md). */
  'fiscal-fresh-key': 'server',
} as const;

export type InjectableBug = keyof typeof INJECTABLE_BUGS;

export const BUG_INJECTION_ENV = 'HOLDFAST_INJECT_BUGS';

const allowed = typeof process !== 'undefined' && process.env[BUG_INJECTION_ENV] === '1';

/** Whether this process may build a set of bugs from names (it was started with HOLDFAST_INJECT_BUGS=1). */
export function bugInjectionAllowed(): boolean {
  return allowed;
}

/**
 * The deliberate bugs switched on for one component (a server, a terminal,
 * a forwarder), passed to it explicitly as an option. Empty everywhere but
 * in the simulator's and the tamper tests' own worlds.
 */
export type InjectedBugs = ReadonlySet<InjectableBug>;

export const NO_INJECTED_BUGS: InjectedBugs = new Set();

/**
 * The set of bugs named. Throws unless the process was started with
 * HOLDFAST_INJECT_BUGS=1, and a RangeError naming an unknown bug.
 */
export function injectedBugs(names: Iterable<string>): InjectedBugs {
  if (!allowed) throw new Error(`injecting bugs needs a process started with ${BUG_INJECTION_ENV}=1`);
  const bugs = new Set<InjectableBug>();
  for (const name of names) {
    if (!Object.hasOwn(INJECTABLE_BUGS, name)) throw new RangeError(`no injectable bug "${name}"`);
    bugs.add(name as InjectableBug);
  }
  return bugs;
}
