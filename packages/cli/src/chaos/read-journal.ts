/**
 * Everything in a till's journal, read through the SDK with delivery off:
 * how the chaos run and the crash test learn, after the fact, what a till
 * recorded and what it believes about each op.
 */
import {
  type JournalEntry,
  OPS_PAGE_MAX,
  type SyncAttempt,
  Terminal,
  type Transport,
  TransportError,
} from '@holdfast/terminal';

const offline = (): Promise<never> => Promise.reject(new TransportError('network', 'reading the journal only'));
const OFFLINE: Transport = {
  enroll: offline,
  sendBatch: offline,
  queryOps: offline,
  fetchPolicy: offline,
  fetchFeed: offline,
  ping: offline,
};

export interface JournalState {
  deviceId: string | null;
  entries: JournalEntry[];
  pending: number;
  deadLetters: number;
  attempts: SyncAttempt[];
}

export async function readJournal(dataDir: string): Promise<JournalState> {
  const till = Terminal.open({ dataDir, transport: OFFLINE, autoSync: false });
  try {
    const entries: JournalEntry[] = [];
    for (let afterSeq = 0; ; ) {
      const page = till.ops({ afterSeq, limit: OPS_PAGE_MAX });
      const last = page.at(-1);
      if (!last) break;
      entries.push(...page);
      afterSeq = last.seq;
    }
    const status = till.status();
    return {
      deviceId: till.deviceId,
      entries,
      pending: status.pending,
      deadLetters: status.deadLetters,
      attempts: till.syncAttempts(100_000),
    };
  } finally {
    await till.close();
  }
}
