/**
 * Failed-login limits, per account and per source address, in bounded maps
 * (this process's memory; each server process counts its own).
 *
 * A key (an account's username, or a source address) that fails `max`
 * times within `windowMs` is locked for `lockMs`: every login on it is then
 * refused with login_locked and the time left, before any password is
 * checked. A successful login clears the account's count (not the
 * source's). Each map holds at most `maxEntries` keys: when full, expired
 * entries go first, then the oldest unlocked ones, then the oldest.
 */
import { ProtocolError } from '@holdfast/protocol';

export interface LimitOptions {
  max: number;
  windowMs: number;
  lockMs: number;
  maxEntries: number;
}

export const ACCOUNT_LIMIT: LimitOptions = { max: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000, maxEntries: 10_000 };
export const SOURCE_LIMIT: LimitOptions = { max: 20, windowMs: 15 * 60_000, lockMs: 15 * 60_000, maxEntries: 10_000 };

interface Entry {
  failures: number;
  firstAt: number;
  lockedUntil: number;
}

class FailureCounter {
  readonly #options: LimitOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(options: LimitOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Milliseconds `key` stays locked, or 0. */
  lockedFor(key: string, now: number): number {
    const e = this.#entries.get(key);
    return e && e.lockedUntil > now ? e.lockedUntil - now : 0;
  }

  /** Counts a failure; the lock time it starts, or 0. */
  fail(key: string, now: number): number {
    const { max, windowMs, lockMs } = this.#options;
    let e = this.#entries.get(key);
    if (!e || now - e.firstAt >= windowMs) {
      if (!e) this.#makeRoom(now);
      e = { failures: 0, firstAt: now, lockedUntil: e?.lockedUntil ?? 0 };
      this.#entries.delete(key);
      this.#entries.set(key, e);
    }
    e.failures++;
    if (e.failures >= max) {
      e.lockedUntil = now + lockMs;
      e.failures = 0;
      e.firstAt = now;
      return lockMs;
    }
    return 0;
  }

  clear(key: string): void {
    this.#entries.delete(key);
  }

  #makeRoom(now: number): void {
    if (this.#entries.size < this.#options.maxEntries) return;
    for (const [k, e] of this.#entries) {
      if (e.lockedUntil <= now && now - e.firstAt >= this.#options.windowMs) this.#entries.delete(k);
    }
    if (this.#entries.size < this.#options.maxEntries) return;
    for (const [k, e] of this.#entries) {
      if (e.lockedUntil <= now) {
        this.#entries.delete(k);
        return;
      }
    }
    const oldest = this.#entries.keys().next();
    if (!oldest.done) this.#entries.delete(oldest.value);
  }
}

export class LoginLimiter {
  readonly accounts: FailureCounter;
  readonly sources: FailureCounter;

  constructor(account: LimitOptions = ACCOUNT_LIMIT, source: LimitOptions = SOURCE_LIMIT) {
    this.accounts = new FailureCounter(account);
    this.sources = new FailureCounter(source);
  }

  /** Throws login_locked (with the time left) if the account or the source is locked. */
  check(username: string, source: string, now: number): void {
    const account = this.accounts.lockedFor(username, now);
    if (account > 0) throw locked(`account ${username}`, account);
    const from = this.sources.lockedFor(source, now);
    if (from > 0) throw locked(`source ${source}`, from);
  }

  /** Counts a failed login; the lock it starts now, if any, as a login_locked error to answer instead. */
  fail(username: string, source: string, now: number): ProtocolError | null {
    const account = this.accounts.fail(username, now);
    const from = this.sources.fail(source, now);
    if (account > 0) return locked(`account ${username}`, account);
    if (from > 0) return locked(`source ${source}`, from);
    return null;
  }

  succeed(username: string): void {
    this.accounts.clear(username);
  }
}

function locked(what: string, ms: number): ProtocolError {
  return new ProtocolError(
    'login_locked',
    `too many failed logins for ${what}: try again in ${Math.ceil(ms / 1000)} s`,
    { retryAfterMs: ms },
  );
}
