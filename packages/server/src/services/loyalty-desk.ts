/**
 * The operator's loyalty desk: members (create, look up, list) and
 * adjustments of their points (docs/loyalty.md). Inputs arrive validated
 * by the HTTP layer; an unknown member is ProtocolError('loyalty_member_unknown').
 */
import type { Clock } from '@holdfast/domain';
import { ProtocolError } from '@holdfast/protocol';
import type { LoyaltyMemberRecord, LoyaltyMemberView, LoyaltyMessageRecord } from '../model/loyalty.js';
import type { Storage } from '../storage/storage.js';

export class LoyaltyDesk {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #newId: () => string;

  constructor(storage: Storage, clock: Clock, newId: () => string) {
    this.#storage = storage;
    this.#clock = clock;
    this.#newId = newId;
  }

  create(member: string, name: string): Promise<LoyaltyMemberRecord> {
    return this.#storage.createLoyaltyMember(member, name, this.#clock.now());
  }

  async get(member: string): Promise<LoyaltyMemberView> {
    const view = await this.#storage.getLoyaltyMember(member);
    if (!view) throw new ProtocolError('loyalty_member_unknown', `no loyalty member ${member}`);
    return view;
  }

  async list(): Promise<LoyaltyMemberRecord[]> {
    return (await this.#storage.listLoyaltyMembers()).map((v) => v.account);
  }

  /** The code sender's outbox (simulated delivery of one-time codes), oldest first; one member's if given. */
  outbox(member: string | null): Promise<LoyaltyMessageRecord[]> {
    return this.#storage.listLoyaltyMessages(member);
  }

  /** Adds `points` (signed, non-zero) with the reason and the operator; `id` makes a retried request apply once. */
  adjust(
    member: string,
    request: { points: number; reason: string; id?: string | undefined },
    actor: string,
  ): Promise<LoyaltyMemberView> {
    return this.#storage.adjustLoyaltyPoints({
      member,
      points: request.points,
      reason: request.reason,
      actor,
      id: request.id ?? this.#newId(),
      now: this.#clock.now(),
    });
  }
}
