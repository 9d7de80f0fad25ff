/**
 * What happened to every op on its way, kept compactly so that a violation
 * can be explained: each batch and status query (who sent it, which seqs,
 * and every network event: delivered, answered, lost, late, timed out,
 * crashed the server), every crash and recovery of a terminal and of the
 * server. An op's history is its lane's requests whose seq range covers it,
 * merged in time with the crashes around it.
 *
 * It also watches the answers as they leave the server: the stored result of
 * an op must be the same in every answer, however often it is asked
 * (`changed` collects the ones that were not), and the last batch each
 * device got through is kept for checking the server's clock-offset
 * estimate.
 */
import { canonicalJson, type OpResult, type OpStatus, type StoredResult } from '@holdfast/protocol';
import { storedPart } from '../check/stored-part.js';
import type { NetEvent } from '../sim-network.js';

type Entry = readonly [at: number, text: string];

interface RequestRecord {
  id: number;
  route: 'batch' | 'query';
  sentAt: number;
  device: string | null;
  /** The device clock when the batch was built (its `sentAt` field). */
  deviceSentAt: number | null;
  first: number | null;
  last: number | null;
  size: number;
  events: Entry[];
}

/** The last batch of a device the server committed, as the network saw it. */
export interface Delivery {
  /** True virtual time it was sent and handled. */
  trueSentAt: number;
  deliveredAt: number;
  /** The device clock reading it carried. */
  deviceSentAt: number;
}

export interface ResultChange {
  opId: string;
  lane: string;
  at: number;
  first: string;
  later: string;
}

export class OpHistory {
  readonly #requests = new Map<number, RequestRecord>();
  readonly #byLane = new Map<string, RequestRecord[]>();
  readonly #laneEvents = new Map<string, Entry[]>();
  readonly #serverEvents: Entry[] = [];
  /** Each op's stored result, canonical JSON, as first answered. */
  readonly firstResults = new Map<string, string>();
  readonly changed: ResultChange[] = [];
  readonly lastDelivery = new Map<string, Delivery>();

  onNetEvent(e: NetEvent): void {
    if (e.route !== 'batch' && e.route !== 'query') return;
    if (e.type === 'sent') {
      this.#open(e);
      return;
    }
    const record = this.#requests.get(e.request);
    if (!record) return;
    const copy = e.copy ? ' (retransmitted copy)' : '';
    switch (e.type) {
      case 'answered':
        record.events.push([e.at, `server answered ${this.#summary(e, record)}${copy}`]);
        return;
      case 'server-crash':
        record.events.push([e.at, `the server crashed handling it at ${e.point}${copy}`]);
        if (e.point === 'ingest:after-commit') this.#delivered(record, e.at);
        return;
      case 'delivered':
        if (e.copy) record.events.push([e.at, 'a retransmitting proxy delivered it again']);
        return;
      default:
        record.events.push([e.at, DESCRIPTIONS[e.type] ?? e.type]);
    }
  }

  /** A crash, recovery or restore of a terminal. */
  laneEvent(lane: string, at: number, text: string): void {
    let list = this.#laneEvents.get(lane);
    if (!list) {
      list = [];
      this.#laneEvents.set(lane, list);
    }
    list.push([at, text]);
  }

  serverEvent(at: number, text: string): void {
    this.#serverEvents.push([at, text]);
  }

  /** Crashes, recoveries and restores of a lane, in time order. */
  laneTimeline(lane: string): readonly Entry[] {
    return this.#laneEvents.get(lane) ?? [];
  }

  get serverTimeline(): readonly Entry[] {
    return this.#serverEvents;
  }

  /**
   * Everything that happened to the op at `seq` of `lane` between `from`
   * and `to` (true times): sends, answers, losses, crashes. Oldest first.
   */
  forOp(lane: string, seq: number, from: number, to: number): Entry[] {
    const out: Entry[] = [];
    for (const r of this.#byLane.get(lane) ?? []) {
      if (r.sentAt < from || r.sentAt > to) continue;
      if (r.route === 'batch' && r.first !== null && r.last !== null && (seq < r.first || seq > r.last)) continue;
      const what =
        r.route === 'batch'
          ? `batch #${r.id} sent (seqs ${r.first}..${r.last}, ${r.size} ops)`
          : `status query #${r.id} sent (${r.size} ids)`;
      out.push([r.sentAt, what]);
      for (const [at, text] of r.events) out.push([at, `  #${r.id}: ${text}`]);
    }
    for (const [at, text] of this.laneTimeline(lane)) if (at >= from && at <= to) out.push([at, text]);
    for (const [at, text] of this.#serverEvents) if (at >= from && at <= to) out.push([at, `server: ${text}`]);
    return out.sort((a, b) => a[0] - b[0]);
  }

  #open(e: NetEvent): void {
    const body = e.body as {
      device?: string;
      ops?: { seq: number }[];
      ids?: string[];
      sentAt?: number;
    };
    const ops = body.ops ?? [];
    const record: RequestRecord = {
      id: e.request,
      route: e.route as 'batch' | 'query',
      sentAt: e.at,
      device: body.device ?? null,
      deviceSentAt: body.sentAt ?? null,
      first: ops[0]?.seq ?? null,
      last: ops.at(-1)?.seq ?? null,
      size: e.route === 'batch' ? ops.length : (body.ids?.length ?? 0),
      events: [],
    };
    this.#requests.set(e.request, record);
    let list = this.#byLane.get(e.client);
    if (!list) {
      list = [];
      this.#byLane.set(e.client, list);
    }
    list.push(record);
  }

  #delivered(record: RequestRecord, at: number): void {
    if (record.route !== 'batch' || record.device === null || record.deviceSentAt === null) return;
    this.lastDelivery.set(record.device, {
      trueSentAt: record.sentAt,
      deliveredAt: at,
      deviceSentAt: record.deviceSentAt,
    });
  }

  /** Describes an answer and checks every stored result in it against the first one seen. */
  #summary(e: NetEvent, record: RequestRecord): string {
    const answer = e.body as
      | { ok: true; status: number; body: { results?: (OpResult | OpStatus)[] } }
      | { ok: false; status: number; error: { code: string } };
    if (!answer.ok) return `${answer.status} ${answer.error.code}`;
    // A batch of nothing but duplicates changes nothing on the server, not even lastSeenAt (protocol.md §4.2).
    const results = answer.body.results ?? [];
    const news = results.some((r) => !('found' in r) && r.status !== 'duplicate');
    if (record.route === 'batch' && news) this.#delivered(record, e.at);
    const counts = new Map<string, number>();
    for (const r of answer.body.results ?? []) {
      let stored: StoredResult | null;
      let label: string;
      if ('found' in r) {
        stored = r.found ? storedPart({ status: 'duplicate', id: r.id, seq: r.seq, original: r.result }) : null;
        label = r.found ? `found ${r.result.status}` : 'not found';
      } else {
        stored = storedPart(r);
        label = r.status === 'duplicate' ? `duplicate of ${r.original.status}` : r.status;
        if (r.status === 'rejected') label = `rejected ${r.reason}`;
      }
      counts.set(label, (counts.get(label) ?? 0) + 1);
      if (stored) this.#checkStable(r.id, stored, e);
    }
    const parts = [...counts].map(([label, n]) => `${label} ×${n}`);
    return `${answer.status}: ${parts.join(', ') || 'no results'}`;
  }

  #checkStable(opId: string, stored: StoredResult, e: NetEvent): void {
    const text = canonicalJson(stored);
    const first = this.firstResults.get(opId);
    if (first === undefined) this.firstResults.set(opId, text);
    else if (first !== text) this.changed.push({ opId, lane: e.client, at: e.at, first, later: text });
  }
}

const DESCRIPTIONS: Partial<Record<NetEvent['type'], string>> = {
  refused: 'connection refused (the server was down)',
  partitioned: 'dropped: the zone was cut off',
  'request-lost': 'the request was lost on the way',
  held: 'held back by the network (will arrive late, after newer ones)',
  reset: 'connection reset',
  'response-partitioned': 'the answer was dropped: the zone was cut off',
  'response-lost': 'the answer was lost after the server committed',
  'response-delivered': 'the answer reached the terminal',
  'late-answer': 'the answer arrived after the terminal had given up',
  'dead-client': 'the answer went nowhere: the terminal had died',
  timeout: 'the terminal timed out waiting',
};
