/**
 * The clerk's till app (docs/till.md), served by holdfast server at /till/.
 * The till's journal, outbox and sync loop live in a dedicated worker
 * (packages/terminal-web: SQLite WASM on OPFS); this page shows what the
 * till holds and records what the clerk rings up. Every record call
 * answers once the op is durable on this device, whatever the network.
 *
 * `?till=<name>` picks the till (one journal, one writer per name and
 * browser profile); default "till".
 */
import {
  type BrowserJournal,
  type BrowserTill,
  type InDoubtOp,
  openBrowserJournal,
  type TillStatus,
} from '@holdfast/terminal-web/client';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Declines } from './declines.js';
import { Enroll } from './enroll.js';
import { InDoubt } from './in-doubt.js';
import { ReceiptView } from './receipt-view.js';
import { DeadLetters, FindReceipt, Sales } from './sales.js';
import { Sell, WaitingForServer } from './sell.js';
import { Shift } from './shift.js';
import { SignIn } from './signin.js';
import { StatusBar } from './status-bar.js';
import { appWords, errorWords } from './words.js';

type Boot =
  | { kind: 'opening' }
  | { kind: 'failed'; words: string; code: string }
  | { kind: 'ready'; journal: BrowserJournal; till: BrowserTill; persisted: boolean };

type Tab = 'sell' | 'sales' | 'attention' | 'shift' | 'find';

const TABS: Array<{ tab: Tab; title: string; key: string }> = [
  { tab: 'sell', title: 'Sell', key: 'F1' },
  { tab: 'sales', title: 'Sales', key: 'F2' },
  { tab: 'attention', title: 'Needs attention', key: 'F3' },
  { tab: 'shift', title: 'Shift', key: 'F4' },
  { tab: 'find', title: 'Find receipt', key: 'F5' },
];

const TILL_NAME = new URLSearchParams(window.location.search).get('till') ?? 'till';

async function boot(): Promise<Boot> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(TILL_NAME)) {
    return { kind: 'failed', words: appWords('bad_till_name'), code: 'bad_till_name' };
  }
  try {
    const journal = await openBrowserJournal({
      till: TILL_NAME,
      workerUrl: new URL('journal-worker.js', window.location.href),
    });
    performance.mark('till:journal-open');
    const till = await journal.startTill({ serverUrl: window.location.origin });
    performance.mark('till:started');
    // The measuring script (e2e/src/browser/measure-till.ts) times a bare durable INSERT through this same worker;
    // the robustness tests (e2e/src/browser/till-robust.test.ts) ring up a thousand sales through the app's own till.
    if (new URLSearchParams(window.location.search).has('measure')) {
      (window as unknown as { holdfastMeasure: unknown }).holdfastMeasure = {
        rawInsert: journal.rawInsert,
        till,
        // One staff PIN check in the worker (noble scrypt), round trip from the page (measure-staff-pin.ts).
        signIn: (staff: string, pin: string) => till.signIn(staff, pin),
      };
    }
    return { kind: 'ready', journal, till, persisted: journal.persisted };
  } catch (error) {
    return { kind: 'failed', words: errorWords(error), code: String((error as { code?: unknown }).code ?? 'error') };
  }
}

/** The receipt open in the print view: an op id, and whether it is a reprint. */
export interface ReceiptRequest {
  id: string;
  copy: boolean;
}

function App() {
  const [state, setState] = useState<Boot>({ kind: 'opening' });
  useEffect(() => {
    void boot().then(setState);
  }, []);
  if (state.kind === 'opening') return <main class="center">Opening the till…</main>;
  if (state.kind === 'failed') {
    return (
      <main class="center">
        <div class="problem big" role="alert" data-boot-error={state.code}>
          {state.words}
        </div>
      </main>
    );
  }
  return <Till till={state.till} persisted={state.persisted} />;
}

function Till({ till, persisted }: { till: BrowserTill; persisted: boolean }) {
  const [status, setStatus] = useState<TillStatus | null>(null);
  const [tab, setTab] = useState<Tab>('sell');
  const [receipt, setReceipt] = useState<ReceiptRequest | null>(null);
  const [now, setNow] = useState(Date.now());
  // Ops an earlier run could not tell were saved (a disk error on their commit): read once per opening.
  const [inDoubt, setInDoubt] = useState<InDoubtOp[]>([]);
  useEffect(() => {
    till.inDoubt().then(setInDoubt, (error: unknown) => console.error('till: in-doubt list:', error));
  }, [till]);
  useEffect(() => {
    void till.status().then(setStatus);
    const off = till.onStatus(setStatus);
    // The ages shown (oldest pending) move with time, not only with changes.
    const timer = setInterval(() => {
      setNow(Date.now());
      void till.status().then(setStatus);
    }, 1000);
    return () => {
      off();
      clearInterval(timer);
    };
  }, [till]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const found = TABS.find((t) => t.key === e.key);
      if (found) {
        e.preventDefault();
        setReceipt(null);
        setTab(found.tab);
      } else if (e.key === 'Escape') setReceipt(null);
      else if (e.key === 'F9') {
        e.preventDefault();
        void till.signOut();
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [till]);
  // Once enrolled, read the feed now rather than after the first sync: it brings the location's staff roster.
  const enrolled = status?.enrolled ?? false;
  useEffect(() => {
    if (enrolled) till.pollFeed().catch(() => undefined);
  }, [till, enrolled]);
  if (!status) return <main class="center">Opening the till…</main>;
  if (!status.enrolled) {
    return (
      <>
        <StatusBar status={status} persisted={persisted} now={now} till={till} />
        <Enroll till={till} />
      </>
    );
  }
  // With a roster held, nobody sells until a member signs in (as the Node till refuses: staff_required).
  if (status.feed.rosterVersion > 0 && status.staff === null) {
    return (
      <>
        <StatusBar status={status} persisted={persisted} now={now} till={till} />
        <SignIn till={till} status={status} />
      </>
    );
  }
  return (
    <>
      <StatusBar status={status} persisted={persisted} now={now} till={till} />
      {inDoubt.length > 0 ? (
        <div class="banner warn" role="alert" data-banner="in-doubt">
          The till’s storage failed while saving {inDoubt.length === 1 ? 'a sale' : `${inDoubt.length} sales`}: check
          Needs attention (F3) before ringing anything again.
        </div>
      ) : null}
      <nav class="tabs">
        {TABS.map((t) => (
          <button
            type="button"
            key={t.tab}
            class={t.tab === tab && !receipt ? 'on' : ''}
            data-tab={t.tab}
            onClick={() => {
              setReceipt(null);
              setTab(t.tab);
            }}
          >
            {t.title}
            {t.tab === 'attention' &&
            status.deadLetters + status.declines + status.authorizationsPending + inDoubt.length > 0 ? (
              <span class="count">
                {status.deadLetters + status.declines + status.authorizationsPending + inDoubt.length}
              </span>
            ) : null}
            <kbd>{t.key}</kbd>
          </button>
        ))}
      </nav>
      <main>
        {receipt ? (
          <ReceiptView till={till} request={receipt} onClose={() => setReceipt(null)} onReprint={setReceipt} />
        ) : tab === 'sell' ? (
          <Sell till={till} status={status} onReceipt={setReceipt} />
        ) : tab === 'sales' ? (
          <Sales till={till} status={status} onReceipt={setReceipt} />
        ) : tab === 'attention' ? (
          <>
            <InDoubt till={till} ops={inDoubt} onAcknowledged={() => setInDoubt([])} />
            <WaitingForServer till={till} status={status} />
            <Declines till={till} status={status} />
            <DeadLetters till={till} status={status} onReceipt={setReceipt} />
          </>
        ) : tab === 'shift' ? (
          <Shift till={till} status={status} onReceipt={setReceipt} />
        ) : (
          <FindReceipt till={till} onReceipt={setReceipt} />
        )}
      </main>
    </>
  );
}

if ('serviceWorker' in navigator) {
  // The app shell from the cache when the server is unreachable (sw.ts); failing to register changes nothing else.
  navigator.serviceWorker.register('sw.js').catch((error: unknown) => console.warn('till: no service worker:', error));
}

render(<App />, document.getElementById('app') as HTMLElement);
