/**
 * The bootstrap operator token: the one credential that exists before any
 * operator account (it acts as admin and is audited as "bootstrap"), now
 * rotatable without a restart.
 *
 * Given a file, the token is re-read every `pollMs` (default 2 s; its text
 * compared, so an editor's or `mv`'s replace is seen too) and on
 * `reload()` (the server calls it on SIGHUP). After a rotation the previous token is still
 * accepted for `overlapMs` (default 5 minutes), so every process and every
 * script can pick up the new one without a request failing in between;
 * then only the new one works. A file that cannot be read or holds a token
 * under 16 characters changes nothing (the reason goes to `onEvent`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const MIN_BOOTSTRAP_TOKEN_LENGTH = 16;
export const DEFAULT_BOOTSTRAP_OVERLAP_MS = 5 * 60_000;

export type BootstrapEvent =
  | { kind: 'rotated'; overlapUntil: number }
  | { kind: 'unchanged' }
  | { kind: 'refused'; reason: string };

export interface BootstrapTokenOptions {
  /** The token as given (no file: never rotates). */
  token?: string;
  /** The file holding the token: read now, re-read on change and on reload(). */
  file?: string;
  /** How long the previous token stays valid after a rotation (ms). */
  overlapMs?: number;
  /** The time (the service's clock). */
  now: () => number;
  /** How often the file is polled for a change (ms; default 2000). */
  pollMs?: number;
  onEvent?: (event: BootstrapEvent) => void;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function checked(token: string): string {
  if (token.length < MIN_BOOTSTRAP_TOKEN_LENGTH) {
    throw new RangeError(`operator token must be at least ${MIN_BOOTSTRAP_TOKEN_LENGTH} characters`);
  }
  return token;
}

export class BootstrapTokens {
  readonly #file: string | undefined;
  readonly #overlapMs: number;
  readonly #now: () => number;
  readonly #onEvent: (event: BootstrapEvent) => void;
  #current: Buffer;
  #currentText: string;
  #previous: { digest: Buffer; until: number } | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lastRefusal: string | null = null;
  readonly #pollMs: number;

  constructor(options: BootstrapTokenOptions) {
    this.#file = options.file;
    this.#overlapMs = options.overlapMs ?? DEFAULT_BOOTSTRAP_OVERLAP_MS;
    this.#now = options.now;
    this.#pollMs = options.pollMs ?? 2_000;
    this.#onEvent = options.onEvent ?? (() => undefined);
    const text = options.token ?? (options.file ? readFileSync(options.file, 'utf8').trim() : undefined);
    if (text === undefined) throw new TypeError('BootstrapTokens needs a token or a file');
    this.#currentText = checked(text);
    this.#current = digest(text);
  }

  /** The token now in force (for the process that created it to print or hand on). */
  get current(): string {
    return this.#currentText;
  }

  /** True if `secret` is the current token, or the previous one within its overlap (constant time). */
  matches(secret: string): boolean {
    const d = digest(secret);
    const current = timingSafeEqual(d, this.#current);
    const previous = this.#previous !== null && timingSafeEqual(d, this.#previous.digest);
    return current || (previous && this.#now() < (this.#previous?.until ?? 0));
  }

  /** Re-reads the file; what happened. */
  reload(): BootstrapEvent {
    const event = this.#reload();
    this.#onEvent(event);
    return event;
  }

  #reload(): BootstrapEvent {
    if (!this.#file) return { kind: 'unchanged' };
    let text: string;
    try {
      text = readFileSync(this.#file, 'utf8').trim();
      checked(text);
    } catch (error) {
      return { kind: 'refused', reason: `${this.#file}: ${(error as Error).message}` };
    }
    if (text === this.#currentText) return { kind: 'unchanged' };
    const overlapUntil = this.#now() + this.#overlapMs;
    this.#previous = { digest: this.#current, until: overlapUntil };
    this.#current = digest(text);
    this.#currentText = text;
    return { kind: 'rotated', overlapUntil };
  }

  /**
   * Re-reads the file every `pollMs` until stop() (reload() changes nothing
   * while the text is the same). The text is compared, not the file's
   * stat: a replace at any moment is seen, even one made before the first
   * poll. The timer does not keep the process alive.
   */
  watch(): void {
    if (!this.#file || this.#timer) return;
    this.#timer = setInterval(() => {
      const event = this.#reload();
      if (event.kind === 'unchanged') return;
      // A refusal is reported once per different reason, not every poll.
      const key = event.kind === 'refused' ? event.reason : null;
      if (event.kind === 'refused' && key === this.#lastRefusal) return;
      this.#lastRefusal = key;
      this.#onEvent(event);
    }, this.#pollMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
