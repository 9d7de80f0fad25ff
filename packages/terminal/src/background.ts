/**
 * Background: the Terminal's one scheduler for the server contact that is
 * not op delivery (the SyncLoop's): enrollment, risk policy refreshes,
 * device feed polls, the feed read after a manual sync, and retries of
 * online authorizations. Each is a BackgroundJob with an explicit state.
 *
 *   after a successful sync ──▶ policy refresh   (enforce only; at most every policyRefreshMs)
 *                          ──▶ feed poll        (enforce only; at most every FEED_POLL_MIN_INTERVAL_MS)
 *                          ──▶ online retry     (one round at a time, if any is pending)
 *   after enrollment, start ──▶ policy refresh / feed poll as above (enforce only)
 *   feed names another policy ──▶ policy refresh (enforce only)
 *
 * A background failure the next chance may not have (a network error, a
 * retryable feed error) waits for that chance; anything else goes to
 * onError. Nothing here is ever thrown at the clerk.
 */
import type { Clock } from '@holdfast/domain';
import { policyRef, type SignedPolicy } from '@holdfast/protocol';
import { BackgroundJob } from './background-job.js';
import type { Emitter } from './emitter.js';
import { EnrollmentInProgressError, FeedError, PolicyRefreshError, TransportError } from './errors.js';
import type { DeviceFeed, FeedPollResult } from './feed.js';
import type { OfflinePolicy } from './offline-policy.js';
import type { OnlineSales } from './online-sales.js';
import type { Credentials, SyncReport } from './sync-events.js';
import type { TerminalEvents } from './terminal-types.js';
import type { Transport } from './transport.js';

/** Background feed polls (after a successful sync) happen at most this often. */
export const FEED_POLL_MIN_INTERVAL_MS = 10_000;

export interface BackgroundOptions {
  clock: Clock;
  transport: Transport;
  timeoutMs: number;
  policy: OfflinePolicy;
  feed: DeviceFeed;
  online: OnlineSales;
  events: Emitter<TerminalEvents>;
  /** offlineCardPolicy 'enforce': only such a terminal asks for policies and its feed on its own. */
  enforceCards: boolean;
  policyRefreshMs: number;
  /** The device's credentials; throws (closed, not enrolled, revoked) when it may not record. */
  canRecord: () => Credentials;
  /** Open, enrolled and not revoked: background work may start. */
  mayContactServer: () => boolean;
  onError: (error: unknown) => void;
}

export class Background {
  readonly #options: BackgroundOptions;
  readonly #enroll = new BackgroundJob<{ deviceId: string }>();
  readonly #policyRefresh = new BackgroundJob<SignedPolicy | null>();
  readonly #feedPoll = new BackgroundJob<FeedPollResult>();
  readonly #feedAfterSync = new BackgroundJob<SyncReport>();
  readonly #onlineRetry = new BackgroundJob<unknown>();

  constructor(options: BackgroundOptions) {
    this.#options = options;
    // Only an enforcing terminal asks for policies and its feed on its own, so 'off' terminals send what they always sent.
    if (options.enforceCards) {
      options.events.on('sync', (event) => {
        if (event.outcome !== 'ok') return;
        this.#refreshPolicySoon();
        this.#pollFeedSoon();
      });
    }
    // A successful sync means the server is reachable: ask again about what is pending confirmation.
    options.events.on('sync', (event) => {
      if (event.outcome === 'ok') this.#retryOnlineSoon();
    });
  }

  /** One enrollment at a time: the same token joins the one running, another is refused. */
  enroll(token: string, work: () => Promise<{ deviceId: string }>): Promise<{ deviceId: string }> {
    const state = this.#enroll.state;
    if (state.state === 'running') {
      if (state.key === token) return state.run;
      return Promise.reject(new EnrollmentInProgressError());
    }
    return this.#enroll.start(this.#options.clock.now(), work, token);
  }

  /** The terminal just enrolled or started: an enforcing one asks for its policy and feed. */
  contactSoon(what: 'enrolled' | 'started'): void {
    if (!this.#options.enforceCards) return;
    if (what === 'enrolled') this.#refreshPolicySoon();
    this.#pollFeedSoon();
  }

  /** Fetches and keeps the risk policy (OfflinePolicy.refresh); explicit calls never wait for the interval. */
  async refreshPolicy(): Promise<SignedPolicy | null> {
    const credentials = this.#options.canRecord();
    const { policy, transport, clock, timeoutMs } = this.#options;
    return this.#policyRefresh.start(clock.now(), () => policy.refresh(transport, credentials, clock, timeoutMs));
  }

  /**
   * Learns the server's key set after an answer signed by a key not pinned
   * (every terminal, enforcing or not: OfflinePolicy.learnKeys). False when
   * it may not record or the request fails; only a bug throws.
   */
  async learnServerKeys(): Promise<boolean> {
    const { policy, transport, clock, timeoutMs } = this.#options;
    let credentials: Credentials;
    try {
      credentials = this.#options.canRecord();
    } catch {
      return false;
    }
    return policy.learnKeys(transport, credentials, clock, timeoutMs);
  }

  /** Reads the device feed; a call while a poll runs gets that one. */
  pollFeed(): Promise<FeedPollResult> {
    const credentials = this.#options.canRecord();
    const running = this.#feedPoll.running;
    if (running) return running;
    const { feed, transport, clock, timeoutMs } = this.#options;
    return this.#feedPoll.start(clock.now(), () =>
      feed.poll(transport, credentials, clock, timeoutMs).then((result) => this.#applied(result)),
    );
  }

  /** The clerk's sync, followed (enforce only) by a feed read; presses while one runs get the same promise. */
  syncThenFeed(sync: Promise<SyncReport>): Promise<SyncReport> {
    if (!this.#options.enforceCards) return sync;
    const state = this.#feedAfterSync.state;
    if (state.state === 'running' && state.key === sync) return state.run;
    return this.#feedAfterSync.start(
      this.#options.clock.now(),
      () =>
        sync.then(async (report) => {
          if (this.#options.mayContactServer())
            await this.pollFeed().catch((error: unknown) => this.#feedFailed(error));
          return report;
        }),
      sync,
    );
  }

  /** Resolves once the background work in flight has finished (for close()). */
  async settled(): Promise<void> {
    await this.#onlineRetry.settled();
    await this.#enroll.settled();
    await this.#policyRefresh.settled();
    await this.#feedPoll.settled();
  }

  #applied(result: FeedPollResult): FeedPollResult {
    const { events, policy, enforceCards } = this.#options;
    for (const decline of result.declines) events.emit('postAuthDecline', decline);
    for (const notice of result.notices) events.emit('feedItem', notice);
    const held = policy.policy();
    if (enforceCards && result.policy !== null && (held === null || policyRef(held.policy) !== result.policy)) {
      this.refreshPolicy().catch((error: unknown) => this.#refreshFailed(error));
    }
    return result;
  }

  /** A policy refresh in the background, at most every policyRefreshMs; a failure waits for the next chance. */
  #refreshPolicySoon(): void {
    if (!this.#options.mayContactServer()) return;
    if (!this.#policyRefresh.isDue(this.#options.clock.now(), this.#options.policyRefreshMs)) return;
    this.refreshPolicy().catch((error: unknown) => this.#refreshFailed(error));
  }

  /** A feed poll in the background, at most every FEED_POLL_MIN_INTERVAL_MS; a failure waits for the next chance. */
  #pollFeedSoon(): void {
    if (!this.#options.mayContactServer()) return;
    if (!this.#feedPoll.isDue(this.#options.clock.now(), FEED_POLL_MIN_INTERVAL_MS)) return;
    this.pollFeed().catch((error: unknown) => this.#feedFailed(error));
  }

  /** One retry round of pending online authorizations at a time. */
  #retryOnlineSoon(): void {
    if (!this.#options.mayContactServer() || this.#onlineRetry.running) return;
    const online = this.#options.online;
    if (online.pending().length === 0) return;
    // The run reports its own errors (the catch inside), so nothing is left to handle here.
    void this.#onlineRetry.start(this.#options.clock.now(), () =>
      online.retry().catch((error: unknown) => this.#options.onError(error)),
    );
  }

  #refreshFailed(error: unknown): void {
    if (error instanceof TransportError || error instanceof PolicyRefreshError) return;
    this.#options.onError(error);
  }

  /** A feed poll that failed for a reason the next poll may not have: reported, never thrown at the clerk. */
  #feedFailed(error: unknown): void {
    if (error instanceof TransportError || (error instanceof FeedError && error.retryable)) return;
    this.#options.onError(error);
  }
}
