/**
 * OfflineDecisions: the portable half of the terminal's risk policy
 * (docs/risk-policy.md, "Terminal enforcement"): the offline decisions on a
 * card or wristband tender under the policy held, and the exposure they grow
 * and the device feed releases, kept in the journal's meta table
 * (`offline_exposure`, `last_server_contact_at`). No Node module beneath: the
 * Node terminal (offline-policy.ts, which verifies and refreshes policies with
 * node:crypto) and the browser till (terminal-web, WebCrypto) both decide
 * through it, so the same policy and exposure give the same answer.
 */
import {
  type DevicePlacement,
  EMPTY_EXPOSURE,
  evaluateOffline,
  exposureOf,
  type OfflineApproval,
  type OfflineExposure,
  type OfflineRequest,
  recordApproval,
  releaseSettled,
} from '@holdfast/domain';
import { type CardTender, type Decision, policyRef, type SignedPolicy, type Tender } from '@holdfast/protocol';
import { NeedsOnlineError } from './errors.js';
import type { JournalCore } from './journal-core.js';
import { META } from './journal-schema.js';

/** Where the device is placed (merchant, location, event), as the server placed it. */
export interface TerminalPlacement {
  merchant: string;
  location: string | null;
  event: string | null;
}

/**
 * The exposure key of the `cardOrdinal`-th card tender (0-based, counting
 * card tenders only) of the sale `opId`: the op id for the first, then
 * `<opId>/<ordinal>`.
 */
export function approvalId(opId: string, cardOrdinal: number): string {
  return cardOrdinal === 0 ? opId : `${opId}/${cardOrdinal}`;
}

/** The policy the terminal holds and whether it verified with the pinned keys (re-checked at open). */
export interface HeldPolicy {
  signed: SignedPolicy;
  valid: boolean;
}

/**
 * Decides offline under the policy `heldPolicy()` names (verified by the
 * subclass: synchronously on Node, before use with WebCrypto in a browser).
 */
export abstract class OfflineDecisions {
  protected readonly journal: JournalCore;
  #exposure: OfflineExposure | undefined;

  constructor(journal: JournalCore) {
    this.journal = journal;
  }

  /** The policy held and whether it verified with the pinned keys, or null. */
  protected abstract heldPolicy(): HeldPolicy | null;

  lastServerContactAt(): number | null {
    const raw = this.journal.getMeta(META.lastServerContactAt);
    return raw === null ? null : Number(raw);
  }

  exposure(): OfflineExposure {
    if (this.#exposure === undefined) {
      const raw = this.journal.getMeta(META.offlineExposure);
      this.#exposure = raw === null ? EMPTY_EXPOSURE : exposureOf(JSON.parse(raw) as OfflineApproval[]);
    }
    return this.#exposure;
  }

  /**
   * Evaluates every card tender of a sale about to be recorded as op `id` at
   * device time `at`. All approved: the decision to record and the meta to
   * commit with the op (the grown exposure). Otherwise throws NeedsOnlineError
   * and nothing changes. The second and later card tenders of one sale are
   * held as `<id>/<index>` (exposure is keyed by approval id).
   */
  authorizeCardSale(input: {
    id: string;
    at: number;
    deviceId: string;
    placement: TerminalPlacement | null;
    currency: string;
    tenders: readonly Tender[];
    /** The op kind evaluated (default `sale.recorded`; a card top-up is `wallet.topped_up`). */
    kind?: string;
  }): { decision: Decision; meta: Record<string, string>; exposure: OfflineExposure } {
    const held = this.heldPolicy();
    // An unknown placement has no merchant: no policy's scope covers it (rule policy_scope).
    const device: DevicePlacement = input.placement
      ? { id: input.deviceId, ...input.placement }
      : { id: input.deviceId, merchant: '', location: null, event: null };
    const context = {
      now: input.at,
      lastServerContactAt: this.lastServerContactAt(),
      device,
      policyValid: held?.valid ?? false,
    };
    let exposure = this.#unconfirmed();
    const cards = input.tenders.filter((t): t is CardTender => t.type === 'card');
    for (const [index, tender] of cards.entries()) {
      const request: OfflineRequest = {
        kind: input.kind ?? 'sale.recorded',
        tender: 'card',
        amount: tender.amount,
        currency: input.currency,
        instrument: tender.token,
      };
      const decided = evaluateOffline(held?.signed ?? null, exposure, request, context);
      if (decided.outcome !== 'approve') throw new NeedsOnlineError(decided.rule, decided.message, decided.policy);
      exposure = recordApproval(exposure, request, input.at, approvalId(input.id, index));
    }
    const ref = held ? policyRef(held.signed.policy) : null;
    return {
      decision: { mode: 'local', outcome: 'approved', policy: ref, rule: 'within_limits' },
      meta: { [META.offlineExposure]: JSON.stringify([...exposure.approvals.values()]) },
      exposure,
    };
  }

  /**
   * The exposure without the approvals `ids` (settled or declined, as the
   * device feed says), and the meta to commit it with; null when none of
   * them is held (a notice delivered twice releases once).
   */
  release(ids: Iterable<string>): { meta: Record<string, string>; exposure: OfflineExposure } | null {
    const before = this.exposure();
    const after = releaseSettled(before, ids);
    if (after === before) return null;
    return { meta: { [META.offlineExposure]: JSON.stringify([...after.approvals.values()]) }, exposure: after };
  }

  /**
   * Evaluates one wristband payment, top-up or refund (tender `wristband`,
   * instrument = the uid) about to be recorded as op `id`. Approved: the
   * decision and the meta to commit with the op. Otherwise throws
   * NeedsOnlineError and nothing changes. Wristband approvals the server
   * has confirmed are released first: once the server holds the chip
   * write, its overspend and clone checks cover it, so it is no longer
   * offline risk (card approvals wait for settlement notices instead).
   */
  authorizeWristband(input: {
    id: string;
    at: number;
    deviceId: string;
    placement: TerminalPlacement | null;
    kind: string;
    currency: string;
    amount: number;
    wristband: string;
    isRefund?: boolean;
  }): { decision: Decision; meta: Record<string, string>; exposure: OfflineExposure } {
    const held = this.heldPolicy();
    const device: DevicePlacement = input.placement
      ? { id: input.deviceId, ...input.placement }
      : { id: input.deviceId, merchant: '', location: null, event: null };
    const context = {
      now: input.at,
      lastServerContactAt: this.lastServerContactAt(),
      device,
      policyValid: held?.valid ?? false,
    };
    const exposure = this.#unconfirmed();
    const request: OfflineRequest = {
      kind: input.kind,
      tender: 'wristband',
      amount: input.amount,
      currency: input.currency,
      instrument: input.wristband,
      ...(input.isRefund ? { isRefund: true } : {}),
    };
    const decided = evaluateOffline(held?.signed ?? null, exposure, request, context);
    if (decided.outcome !== 'approve') throw new NeedsOnlineError(decided.rule, decided.message, decided.policy);
    const grown = recordApproval(exposure, request, input.at, input.id);
    const ref = held ? policyRef(held.signed.policy) : null;
    return {
      decision: { mode: 'local', outcome: 'approved', policy: ref, rule: 'within_limits' },
      meta: { [META.offlineExposure]: JSON.stringify([...grown.approvals.values()]) },
      exposure: grown,
    };
  }

  /** After the op carrying `authorizeCardSale`'s, `authorizeWristband`'s or `release`'s meta committed. */
  committed(exposure: OfflineExposure): void {
    this.#exposure = exposure;
  }

  /**
   * The exposure without the wristband approvals whose ops the server has
   * confirmed (its overspend and clone checks cover them from then on). The
   * release is committed with the next approval's op.
   */
  #unconfirmed(): OfflineExposure {
    const exposure = this.exposure();
    const confirmed = [...exposure.approvals.values()]
      .filter((a) => a.tender === 'wristband' && this.journal.getOp(a.id)?.state === 'confirmed')
      .map((a) => a.id);
    return confirmed.length === 0 ? exposure : releaseSettled(exposure, confirmed);
  }
}
