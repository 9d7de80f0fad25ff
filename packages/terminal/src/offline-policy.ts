/**
 * OfflinePolicy: the terminal's side of the risk policy (docs/risk-policy.md,
 * "Terminal enforcement"). It keeps, in the journal's meta table:
 *
 *   policy_keys             the server's policy keys, pinned on first use
 *   policy                  the newest verified SignedPolicy (never replaced by an older one)
 *   last_server_contact_at  device clock of the last accepted policy answer
 *   offline_exposure        the card payments approved offline, not yet released
 *                           (released by the device feed's settlement notices, feed.ts)
 *
 * The exposure is written in the SAME transaction as the op that approved
 * it (the caller passes `authorizeCardSale`'s meta to `Journal.append`), so a
 * power cut leaves both or neither.
 *
 * The decisions and the exposure are offline-decisions.ts (portable, shared
 * with the browser till); this file adds what needs node:crypto: verifying,
 * pinning and refreshing the policy.
 */
import type { Clock } from '@holdfast/domain';
import {
  answerProblem,
  canonicalJson,
  comparePolicies,
  type PolicyKeySet,
  type PolicyRequest,
  policyRequestMessage,
  type SignedPolicy,
  signMessage,
  verifyKeySet,
  verifyPolicy,
} from '@holdfast/protocol';
import { PolicyRefreshError, TransportError } from './errors.js';
import type { Journal } from './journal.js';
import { META } from './journal-schema.js';
import { type HeldPolicy, OfflineDecisions } from './offline-decisions.js';
import type { Credentials } from './sync-events.js';
import type { Transport } from './transport.js';

export { approvalId, type TerminalPlacement } from './offline-decisions.js';

export class OfflinePolicy extends OfflineDecisions {
  readonly #journal: Journal;
  #held: HeldPolicy | null | undefined;

  constructor(journal: Journal) {
    super(journal);
    this.#journal = journal;
  }

  /** The pinned policy keys, or null before the first enrollment or policy answer that carried some. */
  pinnedKeys(): PolicyKeySet | null {
    const raw = this.#journal.getMeta(META.policyKeys);
    return raw === null ? null : (JSON.parse(raw) as PolicyKeySet);
  }

  /** Meta entries that pin `keys`, unless keys are pinned already (trust on first use) or `keys` is empty. */
  pinMeta(keys: PolicyKeySet | undefined): Record<string, string> {
    if (!isKeySet(keys) || Object.keys(keys).length === 0 || this.pinnedKeys() !== null) return {};
    return { [META.policyKeys]: JSON.stringify(keys) };
  }

  /**
   * Meta entries that replace the pinned keys with a key set the server sent
   * (docs/protocol.md §2, "Server key rotation"), when a key pinned here
   * signed it and it is newer than the last one adopted. Anything else (no
   * set, nothing pinned yet, a set not signed by a pinned key, a forged or
   * older one) changes nothing: the keys pinned stay the only ones trusted.
   */
  keySetMeta(raw: unknown): Record<string, string> {
    const pinned = this.pinnedKeys();
    if (raw === undefined || pinned === null) return {};
    const lastAt = this.#journal.getMeta(META.keySetAt);
    // A set no newer than the one adopted changes nothing, valid or not: no signature to check (every
    // policy answer carries the set, and the server re-sends the same one until its keys change).
    if (lastAt !== null && !newerThan(raw, Number(lastAt))) return {};
    const checked = verifyKeySet(raw, pinned);
    if (!checked.ok) return {};
    if (lastAt !== null && checked.set.at <= Number(lastAt)) return {};
    return { [META.policyKeys]: JSON.stringify(checked.set.keys), [META.keySetAt]: String(checked.set.at) };
  }

  /** The signed policy held, or null. */
  policy(): SignedPolicy | null {
    return this.heldPolicy()?.signed ?? null;
  }

  /**
   * Asks the server for the policy in force, verifies it with the pinned keys
   * and keeps it if it is newer than the one held. Throws TransportError
   * (unknown outcome, or an answer the server did not sign: docs/protocol.md
   * §2, "Signed answers"), PolicyRefreshError (server refused) or protocol's
   * PolicyVerificationError (tampered or signed by a key not pinned); in
   * every such case nothing is stored, not even the contact time.
   */
  async refresh(transport: Transport, credentials: Credentials, clock: Clock, timeoutMs: number) {
    const at = clock.now();
    const req: PolicyRequest = {
      device: credentials.deviceId,
      at,
      sig: signMessage(policyRequestMessage(credentials.deviceId, at), credentials.key),
    };
    const res = await transport.fetchPolicy(req, timeoutMs);
    if (!res.ok) throw new PolicyRefreshError(res.status, res.error);
    const answeredAt = clock.now();
    const meta: Record<string, string> = { ...this.pinMeta(res.body.keys), ...this.keySetMeta(res.body.keySet) };
    const learned = meta[META.policyKeys];
    const keys: PolicyKeySet =
      learned !== undefined
        ? (JSON.parse(learned) as PolicyKeySet)
        : (this.pinnedKeys() ?? (isKeySet(res.body.keys) ? res.body.keys : {}));
    // The answer as a whole is signed by a server that signs answers (the key set in it
    // verifies on its own, so a rotated key is learned first): anything else is no answer,
    // and nothing of it is kept, not even the contact time offline approvals count from.
    if (this.#journal.getMeta(META.signsAnswers) === '1') {
      const problem = answerProblem('policy', req.sig, res.body, keys);
      if (problem !== null) throw new TransportError('bad_response', `unverifiable policy answer: ${problem}`);
    }
    let held = this.heldPolicy();
    // The policy held (verified with these pinned keys) answered again byte for byte: nothing new to verify.
    if (res.body.policy !== null && !(held?.valid && samePolicy(res.body.policy, held.signed))) {
      const verified = verifyPolicy(res.body.policy, new Map(Object.entries(keys)));
      if (!held?.valid || comparePolicies(verified.policy, held.signed.policy) > 0) {
        meta[META.policy] = JSON.stringify(verified);
        held = { signed: verified, valid: true };
      }
    }
    meta[META.lastServerContactAt] = String(answeredAt);
    this.#journal.setMeta(meta);
    this.#held = held;
    return held?.signed ?? null;
  }

  /**
   * Asks the server for its key set only (a `POST /v1/policy`; the policy in
   * the answer is left to `refresh`), adopting it as `keySetMeta` says. True
   * when a new set was adopted; false for anything else, network errors and
   * refusals included (the caller treats the answer it could not verify as
   * no answer).
   */
  async learnKeys(transport: Transport, credentials: Credentials, clock: Clock, timeoutMs: number): Promise<boolean> {
    const at = clock.now();
    const req: PolicyRequest = {
      device: credentials.deviceId,
      at,
      sig: signMessage(policyRequestMessage(credentials.deviceId, at), credentials.key),
    };
    let res: Awaited<ReturnType<Transport['fetchPolicy']>>;
    try {
      res = await transport.fetchPolicy(req, timeoutMs);
    } catch (error) {
      if (error instanceof TransportError) return false;
      throw error;
    }
    if (!res.ok) return false;
    const meta = this.keySetMeta(res.body.keySet);
    if (Object.keys(meta).length === 0) return false;
    this.#journal.setMeta(meta);
    return true;
  }

  protected override heldPolicy(): HeldPolicy | null {
    if (this.#held === undefined) {
      const raw = this.#journal.getMeta(META.policy);
      if (raw === null) this.#held = null;
      else {
        const signed = JSON.parse(raw) as SignedPolicy;
        // Re-verified at open: the journal file is not trusted more than the wire.
        let valid = true;
        try {
          verifyPolicy(signed, new Map(Object.entries(this.pinnedKeys() ?? {})));
        } catch {
          valid = false;
        }
        this.#held = { signed, valid };
      }
    }
    return this.#held;
  }
}

function isKeySet(keys: unknown): keys is PolicyKeySet {
  return (
    typeof keys === 'object' &&
    keys !== null &&
    !Array.isArray(keys) &&
    Object.values(keys).every((v) => typeof v === 'string')
  );
}

/** Whether `raw` claims (unverified) a key set time after `at`; anything without a numeric `at` does not. */
function newerThan(raw: unknown, at: number): boolean {
  if (typeof raw !== 'object' || raw === null) return false;
  const claimed = (raw as { at?: unknown }).at;
  // Not `claimed > at`: a meta value that is not a number (NaN) must not stop a set from being checked.
  return typeof claimed === 'number' && !(claimed <= at);
}

/** Whether an answered policy is exactly the one held: same key, signature and canonical policy. */
function samePolicy(answered: unknown, held: SignedPolicy): boolean {
  if (typeof answered !== 'object' || answered === null) return false;
  const a = answered as Partial<SignedPolicy>;
  return a.keyId === held.keyId && a.sig === held.sig && canonicalJson(a.policy) === canonicalJson(held.policy);
}
