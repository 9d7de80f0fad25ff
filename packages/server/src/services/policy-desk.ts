/**
 * Risk policies on the server: the signing keys, issuing a policy from an
 * operator's draft, the list of every policy, the one in force for a
 * device, and the exposure bound they allow (docs/risk-policy.md).
 */

import type { KeyObject } from 'node:crypto';
import type { Clock, DevicePlacement, ExposureGroup } from '@holdfast/domain';
import { exposureBound } from '@holdfast/domain';
import {
  type AnswerRoute,
  type AnswerSignature,
  importPrivateKey,
  OP_KINDS,
  type PolicyDraft,
  type PolicyKeySet,
  policyDraftSchema,
  type RiskPolicy,
  riskPolicySchema,
  type SignedKeySet,
  type SignedPolicy,
  signAnswer,
  signKeySet,
  ValidationError,
} from '@holdfast/protocol';
import type { DeviceRecord } from '../model/device.js';
import type { ServerKeyRecord } from '../model/policy.js';
import { newServerKey, policyKeySet } from '../policy-keys.js';
import { type ExposureAnswer, nextIssuedAt, policyForDevice, policyFromDraft } from '../risk-policies.js';
import { policyScopeKey } from '../storage/policy-records.js';
import type { Storage } from '../storage/storage.js';

/**
 * How long a key rotated away from stays trusted at least (docs/security.md,
 * "Key lifecycle"): a terminal that is offline for less than this learns the
 * new key from the next policy answer, signed by the old one.
 */
export const SERVER_KEY_OVERLAP_MS = 7 * 24 * 3_600_000;

/** A server key as operators see it: never the private half. */
export interface ServerKeyView {
  id: string;
  publicKey: string;
  createdAt: number;
  retiredAt: number | null;
}

function keyView(k: ServerKeyRecord): ServerKeyView {
  return { id: k.id, publicKey: k.publicKey, createdAt: k.createdAt, retiredAt: k.retiredAt };
}

/** `POST /v1/admin/policies/dry-run`: a draft checked and its bound previewed, nothing issued. */
export interface PolicyDryRun {
  /** The policy the draft would become if issued now (unsigned; id, version and issuedAt provisional). */
  policy: RiskPolicy;
  /** The instant of the bound: now, or the draft's validFrom if later. */
  at: number;
  /** `exposureBound` per placement at `at` with every policy issued and this one. */
  bound: ExposureGroup[];
  /** Placed devices no policy would cover at `at`, this one included. */
  uncovered: string[];
  /** The same bound without this policy: what is in force today. */
  current: ExposureGroup[];
}

/** How long a process signs answers with the key it read before reading the active key again. */
const SIGNER_REFRESH_MS = 60_000;

export class PolicyDesk {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #newId: () => string;
  /** The active key, imported, and when it was read: answers are signed on every batch, the key read once a minute. */
  #signer: { id: string; privateKey: KeyObject; readAt: number } | null = null;
  /**
   * Imported server keys by their stored text: re-reading the key every
   * SIGNER_REFRESH_MS (and each key-set answer) must not parse the PKCS#8
   * DER again each time (it showed as ~4 % of a simulated run). Keys are few;
   * the map is emptied should it ever grow past a handful.
   */
  readonly #imported = new Map<string, KeyObject>();
  /** True once a server key was read or created (keys are never deleted). */
  #keyExists = false;
  /** The last key set signed and the trusted keys (ids and public halves) it was signed for. */
  #signedSet: { fingerprint: string; set: SignedKeySet } | null = null;

  constructor(storage: Storage, clock: Clock, newId: () => string) {
    this.#storage = storage;
    this.#clock = clock;
    this.#newId = newId;
  }

  /**
   * The public policy keys a terminal may verify with now: the active one
   * (created if the database has none yet) and the keys rotated away from
   * that are still in their overlap (docs/security.md, "Key lifecycle").
   */
  async keys(): Promise<PolicyKeySet> {
    return policyKeySet(await this.#trustedKeys());
  }

  /**
   * The trusted keys signed by each of them (protocol key-set.ts): a terminal
   * that pinned any one of them learns the others, the new active key
   * included, from a statement only the server could make.
   */
  async keySet(): Promise<SignedKeySet> {
    const trusted = await this.#trustedKeys();
    // The same trusted keys get the same signed set (its `at` the time it was first signed): every policy
    // answer carries the set, and signing it anew each time was a signature per key per answer for nothing.
    // A key added (rotation, here or in another process) or dropped (overlap over) makes a new set.
    const fingerprint = trusted.map((k) => `${k.id}=${k.publicKey}`).join(',');
    const cached = this.#signedSet;
    if (cached !== null && cached.fingerprint === fingerprint) return cached.set;
    const signers = trusted.map((k) => ({ id: k.id, privateKey: this.#import(k.privateKey) }));
    const set = signKeySet(policyKeySet(trusted), this.#clock.now(), signers);
    this.#signedSet = { fingerprint, set };
    return set;
  }

  /**
   * Rotates the server's signing key without downtime: a new key becomes
   * active (it signs policies and answers from now on) and the previous one
   * stays trusted for `SERVER_KEY_OVERLAP_MS`, or until the last policy it
   * signed expires if that is later. Other processes pick the new key up
   * within SIGNER_REFRESH_MS; until then they sign with the old key, which
   * every terminal still trusts.
   */
  async rotate(): Promise<{ active: ServerKeyView; retired: ServerKeyView | null }> {
    await this.#activeServerKey();
    const { active, retired } = await this.#storage.rotateServerKey(
      newServerKey(this.#clock.now()),
      SERVER_KEY_OVERLAP_MS,
    );
    this.#signer = null;
    this.#signedSet = null;
    return { active: keyView(active), retired: retired === null ? null : keyView(retired) };
  }

  /** Every key ever used, oldest first, public halves only. */
  async listKeys(): Promise<{ keys: ServerKeyView[] }> {
    await this.#activeServerKey();
    return { keys: (await this.#storage.listAllServerKeys()).map(keyView) };
  }

  async #trustedKeys(): Promise<ServerKeyRecord[]> {
    // Keys are never deleted: once this process has seen one, only the trusted list needs reading (every
    // feed and policy answer asks for it).
    if (!this.#keyExists) await this.#activeServerKey();
    return this.#storage.listTrustedServerKeys(this.#clock.now());
  }

  /**
   * Issues a policy from an operator's draft: the server assigns `id`,
   * `version` (the scope's next, decided in the storage transaction),
   * `issuedAt` and, unless given, `validFrom`; signs it and stores it.
   * A draft that would make an invalid policy is refused naming the field.
   */
  async issue(body: unknown): Promise<SignedPolicy> {
    const { draft, id, now } = this.#checkedDraft(body);
    await this.#activeServerKey();
    return this.#storage.issuePolicy({ draft, id, now });
  }

  /**
   * The draft checked exactly as `issue` checks it (ValidationError naming
   * the field otherwise), with the id and instant it would be issued with.
   */
  #checkedDraft(body: unknown): { draft: PolicyDraft; id: string; now: number } {
    const draft = policyDraftSchema.parse(body);
    const now = this.#clock.now();
    const id = this.#newId();
    // The rules across fields (expiresAt after issuedAt, at most 90 days) need the assigned fields:
    // check the whole policy now, so a bad draft is refused before anything is locked.
    riskPolicySchema.parse(policyFromDraft(draft, { id, version: 1, issuedAt: now }));
    refuseUnknownKinds(draft.online.kinds);
    return { draft, id, now };
  }

  /**
   * What issuing `body` now would do, without issuing it: the draft is
   * validated as `issue` validates it (the same refusal, naming the field),
   * and the answer is the policy it would become (version and issuedAt as
   * of now; the real ones are decided when it is issued) with the exposure
   * bound per placement at the instant it starts (now, or its later
   * `validFrom`), with it and without it. Nothing is stored or signed.
   */
  async dryRun(body: unknown): Promise<PolicyDryRun> {
    const { draft, id, now } = this.#checkedDraft(body);
    const [policies, devices] = await Promise.all([this.#storage.listPolicies(), this.#storage.listDevices()]);
    const scopeKey = policyScopeKey(draft.scope);
    let version = 0;
    let latest: number | null = null;
    for (const { policy: p } of policies) {
      if (policyScopeKey(p.scope) === scopeKey) version = Math.max(version, p.version);
      latest = latest === null ? p.issuedAt : Math.max(latest, p.issuedAt);
    }
    const policy = policyFromDraft(draft, { id, version: version + 1, issuedAt: nextIssuedAt(now, latest) });
    riskPolicySchema.parse(policy);
    const placed: DevicePlacement[] = [];
    for (const d of devices) {
      if (d.merchant !== null) placed.push({ id: d.id, merchant: d.merchant, location: d.location, event: d.event });
    }
    const at = Math.max(now, policy.validFrom);
    const issued = policies.map((p) => p.policy);
    const withIt = exposureBound([...issued, policy], placed, at);
    const without = exposureBound(issued, placed, at);
    return { policy, at, bound: withIt.groups, uncovered: withIt.uncovered, current: without.groups };
  }

  /** Every policy issued, oldest first, with the keys that verify them. */
  async list(): Promise<{ policies: SignedPolicy[]; keys: PolicyKeySet }> {
    const [policies, keys] = await Promise.all([this.#storage.listPolicies(), this.keys()]);
    return { policies, keys };
  }

  /**
   * The newest policy in force covering `device` at `now` (null: none, or
   * the device was never placed), with the keys. The key set (signed by
   * every trusted key) only when `withKeySet`: the policy answer carries it,
   * the feed, polled far more often, needs the policy alone.
   */
  async inForce(
    device: DeviceRecord,
    now: number,
    withKeySet = false,
  ): Promise<{ policy: SignedPolicy | null; keys: PolicyKeySet; keySet?: SignedKeySet }> {
    const keySet = withKeySet ? await this.keySet() : undefined;
    const keys = keySet ? keySet.keys : await this.keys();
    const extra = keySet ? { keySet } : {};
    if (device.merchant === null) return { policy: null, keys, ...extra };
    const placement = { id: device.id, merchant: device.merchant, location: device.location, event: device.event };
    const candidates = await this.#storage.listPolicies({ merchant: device.merchant, unexpiredAt: now });
    return { policy: policyForDevice(candidates, placement, now, keys), keys, ...extra };
  }

  /**
   * The exposure at `at`: the bound every policy issued allows the placed
   * devices (`exposureBound`), and the offline-approved payments not yet
   * settled.
   */
  async exposure(at: number): Promise<ExposureAnswer> {
    const [policies, devices, actual] = await Promise.all([
      this.#storage.listPolicies(),
      this.#storage.listDevices(),
      this.#storage.exposureActual(),
    ]);
    const placed: DevicePlacement[] = [];
    const unplaced: string[] = [];
    for (const d of devices) {
      if (d.merchant === null) unplaced.push(d.id);
      else placed.push({ id: d.id, merchant: d.merchant, location: d.location, event: d.event });
    }
    // Every policy ever issued, expired ones included: the forwarder settles only the payments the
    // server holds, and a device still offline may hold approvals it has not sent yet, made under any
    // policy it was given. `worst*` must count them (docs/risk-policy.md, section 4).
    const report = exposureBound(
      policies.map((p) => p.policy),
      placed,
      at,
    );
    return { at, bound: report.groups, uncovered: report.uncovered, unplaced, actual };
  }

  /**
   * `answer` signed with the active server key, bound to the request signed
   * `requestSig` (docs/protocol.md §2, "Signed answers").
   */
  async signAnswer<A extends object>(route: AnswerRoute, requestSig: string, answer: A): Promise<A & AnswerSignature> {
    const now = this.#clock.now();
    if (this.#signer === null || now - this.#signer.readAt >= SIGNER_REFRESH_MS || now < this.#signer.readAt) {
      const key = await this.#activeServerKey();
      this.#signer = { id: key.id, privateKey: this.#import(key.privateKey), readAt: now };
    }
    return signAnswer(route, requestSig, answer, this.#signer);
  }

  #import(privateKey: string): KeyObject {
    let key = this.#imported.get(privateKey);
    if (key === undefined) {
      if (this.#imported.size >= 16) this.#imported.clear();
      key = importPrivateKey(privateKey);
      this.#imported.set(privateKey, key);
    }
    return key;
  }

  /** The active signing key; the first caller on an empty database creates it. */
  async #activeServerKey(): Promise<ServerKeyRecord> {
    const keys = await this.#storage.listServerKeys();
    const active = keys[0] ?? (await this.#storage.ensureServerKey(newServerKey(this.#clock.now())));
    this.#keyExists = true;
    return active;
  }
}

/**
 * A kind no op has (a typo such as `ticket.placed` for `ticket.issued`)
 * passes the pattern yet would never match anything: the policy would
 * silently not do what its issuer meant. Refused here, on the server that
 * issues, rather than in the wire schema, so terminals keep accepting signed
 * policies naming kinds a newer server knows.
 */
function refuseUnknownKinds(kinds: readonly string[]): void {
  const known = new Set<string>(OP_KINDS);
  const i = kinds.findIndex((kind) => !known.has(kind));
  if (i >= 0) {
    throw new ValidationError(
      `online.kinds[${i}]`,
      `an op kind this server knows (${OP_KINDS.join(', ')})`,
      JSON.stringify(kinds[i]),
    );
  }
}
