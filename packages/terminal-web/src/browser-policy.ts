/**
 * The risk policy in the browser till: the counterpart of
 * terminal/src/offline-policy.ts `OfflinePolicy`, whose signature checks are
 * node:crypto calls. Here the policy's signature is checked with WebCrypto
 * Ed25519 (asynchronous) against the policy keys pinned in the journal, and
 * the offline decisions are the Terminal SDK's own (`OfflineDecisions`,
 * offline-decisions.ts): same rules, same exposure in the same meta key, so a
 * browser till and a Node till holding the same policy and exposure decide a
 * card tender the same way.
 *
 * What it keeps, in the same journal meta keys as the Node till:
 *   policy                  the newest verified SignedPolicy (never replaced by an older one)
 *   last_server_contact_at  device clock of the last accepted policy answer
 *   offline_exposure        (OfflineDecisions) card approvals not yet settled or declined
 * The policy held is re-verified when the till starts (`load`): the journal is
 * not trusted more than the wire; until it verifies, nothing is approved offline.
 */
import {
  canonicalJson,
  comparePolicies,
  type PolicyKeySet,
  type PolicyRequest,
  PolicyVerificationError,
  policyMessage,
  policyRef,
  policyRequestMessage,
  type SignedPolicy,
  signedPolicySchema,
  ValidationError,
} from '@holdfast/protocol';
import {
  type HeldPolicy,
  type HttpTransport,
  type JournalCore,
  META,
  OfflineDecisions,
  PolicyRefreshError,
  TransportError,
} from '@holdfast/terminal/portable';
import { answerProblemWebCrypto, signWithKeyWebCrypto, verifyMessageWebCrypto } from './webcrypto-signing.js';

/** A raw Ed25519 public key in base64url (32 bytes: 43 characters). */
const RAW_KEY = /^[A-Za-z0-9_-]{43}$/;

/**
 * protocol's `verifyPolicy` on WebCrypto: the same checks in the same order,
 * the same PolicyVerificationError codes. `invalid_policy` when a field breaks
 * the format (naming it), `unknown_key` when `keyId` is not among `keys` or
 * its key is unusable, `bad_signature` when the signature does not verify over
 * the canonical JSON of `{ ctx: "holdfast.policy.v1", policy }`. Validity in
 * time and scope is the domain's `evaluateOffline`, as on Node.
 */
export async function verifyPolicyWebCrypto(
  signed: unknown,
  keys: Readonly<Record<string, string>>,
): Promise<SignedPolicy> {
  let parsed: SignedPolicy;
  try {
    parsed = signedPolicySchema.parse(signed);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new PolicyVerificationError('invalid_policy', `risk policy refused: ${error.message}`, {
      field: error.field,
      rule: error.rule,
    });
  }
  const key = Object.hasOwn(keys, parsed.keyId) ? keys[parsed.keyId] : undefined;
  if (key === undefined) {
    throw new PolicyVerificationError('unknown_key', `risk policy refused: no policy key with id "${parsed.keyId}"`);
  }
  if (typeof key !== 'string' || !RAW_KEY.test(key)) {
    throw new PolicyVerificationError(
      'unknown_key',
      `risk policy refused: policy key "${parsed.keyId}" is unusable (not a raw Ed25519 key)`,
    );
  }
  let ok = false;
  try {
    ok = await verifyMessageWebCrypto(policyMessage(parsed.policy), parsed.sig, key);
  } catch {
    ok = false; // a key WebCrypto will not import: no signature of ours verifies with it
  }
  if (!ok) {
    throw new PolicyVerificationError(
      'bad_signature',
      `risk policy ${policyRef(parsed.policy)} refused: signature does not verify with key "${parsed.keyId}"`,
    );
  }
  return parsed;
}

export interface BrowserPolicyOptions {
  journal: JournalCore;
  transport: HttpTransport;
  timeoutMs: number;
}

export class BrowserPolicy extends OfflineDecisions {
  readonly #transport: HttpTransport;
  readonly #timeoutMs: number;
  /** undefined until `load` has re-verified what the journal holds. */
  #held: HeldPolicy | null | undefined;

  constructor(options: BrowserPolicyOptions) {
    super(options.journal);
    this.#transport = options.transport;
    this.#timeoutMs = options.timeoutMs;
  }

  /** The pinned policy keys, or null before enrollment pinned some. */
  pinnedKeys(): PolicyKeySet | null {
    const raw = this.journal.getMeta(META.policyKeys);
    return raw === null ? null : (JSON.parse(raw) as PolicyKeySet);
  }

  /** Re-verifies the policy the journal holds with the pinned keys (at start). */
  async load(): Promise<void> {
    const raw = this.journal.getMeta(META.policy);
    if (raw === null) {
      this.#held = null;
      return;
    }
    const signed = JSON.parse(raw) as SignedPolicy;
    let valid = true;
    try {
      await verifyPolicyWebCrypto(signed, this.pinnedKeys() ?? {});
    } catch {
      valid = false;
    }
    this.#held = { signed, valid };
  }

  /** The signed policy held, or null. */
  policy(): SignedPolicy | null {
    return this.#held?.signed ?? null;
  }

  /** Whether the policy held verified with the pinned keys. */
  policyValid(): boolean {
    return this.#held?.valid ?? false;
  }

  /**
   * Asks the server for the policy in force (`POST /v1/policy`, signed with
   * the device key), verifies it with the pinned keys and keeps it if it is
   * newer than the one held, with the time of this server contact. Throws
   * TransportError (no answer, or an answer not signed by a pinned key when
   * the server signs answers), PolicyRefreshError (the server refused) or
   * PolicyVerificationError (tampered, or signed by a key not pinned); in every
   * such case nothing is stored, not even the contact time.
   */
  async refresh(credentials: { deviceId: string; key: CryptoKey }, now: () => number): Promise<SignedPolicy | null> {
    const at = now();
    const sig = await signWithKeyWebCrypto(policyRequestMessage(credentials.deviceId, at), credentials.key);
    const req: PolicyRequest = { device: credentials.deviceId, at, sig };
    const res = await this.#transport.fetchPolicy(req, this.#timeoutMs);
    if (!res.ok) throw new PolicyRefreshError(res.status, res.error);
    const answeredAt = now();
    const meta: Record<string, string> = {};
    let keys = this.pinnedKeys();
    // Trust on first use, as on Node: keys are pinned at enrollment; a journal without them takes these.
    if (keys === null && isKeySet(res.body.keys) && Object.keys(res.body.keys).length > 0) {
      keys = res.body.keys;
      meta[META.policyKeys] = JSON.stringify(keys);
    }
    keys ??= {};
    if (this.journal.getMeta(META.signsAnswers) === '1') {
      const problem = await answerProblemWebCrypto('policy', req.sig, res.body, keys);
      if (problem !== null) throw new TransportError('bad_response', `unverifiable policy answer: ${problem}`);
    }
    let held = this.#held ?? null;
    let verified: SignedPolicy | null = null;
    if (res.body.policy !== null && !(held?.valid && samePolicy(res.body.policy, held.signed))) {
      verified = await verifyPolicyWebCrypto(res.body.policy, keys);
    }
    // Awaits are over: what another refresh stored meanwhile is what this one compares with.
    held = this.#held ?? null;
    if (verified !== null && (!held?.valid || comparePolicies(verified.policy, held.signed.policy) > 0)) {
      meta[META.policy] = JSON.stringify(verified);
      held = { signed: verified, valid: true };
    }
    meta[META.lastServerContactAt] = String(answeredAt);
    this.journal.setMeta(meta);
    this.#held = held;
    return held?.signed ?? null;
  }

  protected override heldPolicy(): HeldPolicy | null {
    return this.#held ?? null;
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

/** Whether an answered policy is exactly the one held: same key, signature and canonical policy. */
function samePolicy(answered: unknown, held: SignedPolicy): boolean {
  if (typeof answered !== 'object' || answered === null) return false;
  const a = answered as Partial<SignedPolicy>;
  return a.keyId === held.keyId && a.sig === held.sig && canonicalJson(a.policy) === canonicalJson(held.policy);
}
