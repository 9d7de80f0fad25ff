/**
 * The simulated wristband reader ("tap a wristband"): a desktop browser has
 * no NFC, so the till keeps simulated chips (uid, balance, counter) in
 * their own OPFS file, apart from its journal (terminal-web/src/
 * simulated-wristbands.ts). Tapping one puts it on the reader; the Sell
 * screen's Wristband tender pays with the chip on the reader. "Lift during
 * the write" makes the next chip write fail as a wrist pulled away does:
 * the op stays recorded and the next tap finishes the write.
 */
import type { BrowserTill, ChipImage } from '@holdfast/terminal-web/client';
import { useEffect, useState } from 'preact/hooks';
import { formatMoney, parseMoneyInput } from '../shared/money.js';
import { errorWords, LOCALE } from './words.js';
import { wristbandWords } from './wristband-words.js';

export interface ReaderState {
  /** The uid of the chip on the reader, or null. */
  present: string | null;
  /** The next chip write fails (the wristband leaves the reader). */
  lift: boolean;
}

function newUid(): string {
  // 7 bytes, as an NTAG's uid; the first byte 04 (NXP), the rest random.
  const rest = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0'));
  return `04${rest.join('')}`.toUpperCase();
}

export function WristbandReaderPanel({
  till,
  currency,
  reader,
  onReader,
  refresh,
}: {
  till: BrowserTill;
  currency: string;
  reader: ReaderState;
  onReader: (r: ReaderState) => void;
  /** Bumped by the Sell screen after a wristband payment: the chips are read again. */
  refresh: number;
}) {
  const [chips, setChips] = useState<ChipImage[]>([]);
  const [topUp, setTopUp] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const money = (n: number, c = currency) => formatMoney(n, c, LOCALE.format);
  const reload = () => till.wristbands.chips().then(setChips, (error: unknown) => setProblem(errorWords(error)));
  // Read again whenever the Sell screen wrote a chip (refresh moves).
  useEffect(() => {
    // What the panel said before the payment is stale now.
    if (refresh > 0) setMessage(null);
    void reload();
  }, [till, refresh]);

  const run = async (fn: () => Promise<string | null>) => {
    if (busy) return;
    setBusy(true);
    setProblem(null);
    setMessage(null);
    try {
      setMessage(await fn());
    } catch (error) {
      setProblem(wristbandError(error));
    } finally {
      setBusy(false);
      await reload();
    }
  };

  /** Tapping reads the chip: a write this till left unfinished on it is finished now. */
  const tap = (uid: string) =>
    run(async () => {
      onReader({ ...reader, present: uid });
      const before = await till.wristbands.pending();
      const view = await till.wristbands.read(uid);
      const finished = before.some((w) => w.wristband === uid) && view.unfinished === 0;
      const words = [wristbandWords('balance', money(view.chip.balance, view.chip.currency))];
      if (finished) words.unshift(wristbandWords('finished'));
      if (view.unfinished > 0) words.push(wristbandWords('unfinished'));
      if (view.blocked) words.push(errorWords({ code: 'wristband_blocked' }));
      return words.join(' ');
    });

  const issue = () =>
    run(async () => {
      const chip = await till.wristbands.issue(newUid(), currency);
      onReader({ ...reader, present: chip.uid });
      return wristbandWords('balance', money(chip.balance, chip.currency));
    });

  const load = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      if (reader.present === null) return wristbandWords('pick_one');
      let amount: number;
      try {
        amount = parseMoneyInput(topUp, currency);
      } catch (error) {
        const message = `“${topUp}” is not an amount in ${currency}: ${(error as Error).message}`;
        throw Object.assign(new Error(message), { code: 'validation' });
      }
      const receipt = await till.wristbands.topUp({ present: reader.present, amount, liftDuringWrite: reader.lift });
      onReader({ ...reader, lift: false });
      setTopUp('');
      return receipt.chipWritten
        ? wristbandWords('balance', money(receipt.chip.balance, receipt.chip.currency))
        : wristbandWords('tap_again');
    });
  };

  return (
    <section class="wristbands" data-wristband-reader={reader.present ?? ''}>
      <h3>Wristband reader (simulated): tap a wristband</h3>
      <div class="chips">
        {chips.map((chip) => (
          <button
            type="button"
            key={chip.uid}
            class={chip.uid === reader.present ? 'chip on' : 'chip'}
            aria-pressed={chip.uid === reader.present}
            data-chip={chip.uid}
            data-balance={chip.balance}
            data-counter={chip.counter}
            disabled={busy}
            onClick={() => void tap(chip.uid)}
          >
            <span class="uid">{chip.uid}</span>
            <span class="price">{money(chip.balance, chip.currency)}</span>
          </button>
        ))}
        <button type="button" class="secondary" data-wristband-new disabled={busy} onClick={() => void issue()}>
          New wristband
        </button>
      </div>
      <form class="typed" data-form="wristband-topup" onSubmit={load}>
        <input
          name="topup"
          inputMode="decimal"
          placeholder={`Top up in cash (${currency})`}
          value={topUp}
          onInput={(e) => setTopUp((e.target as HTMLInputElement).value)}
        />
        <button type="submit" class="secondary" disabled={busy || reader.present === null}>
          Top up
        </button>
      </form>
      <label class="lift">
        <input
          type="checkbox"
          name="lift"
          checked={reader.lift}
          onChange={(e) => onReader({ ...reader, lift: (e.target as HTMLInputElement).checked })}
        />{' '}
        Lift the wristband during the next write (simulation)
      </label>
      {message ? (
        <div class="done" role="status" data-wristband-message>
          {message}
        </div>
      ) : null}
      {problem ? (
        <div class="problem" role="alert" data-wristband-error>
          {problem}
        </div>
      ) : null}
    </section>
  );
}

/** Words for a wristband call's error: an unfinished write says to tap again. */
export function wristbandError(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (code === 'wristband_unfinished') return wristbandWords('unfinished');
  return errorWords(error);
}
