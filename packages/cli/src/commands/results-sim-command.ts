/**
 * `holdfast results-sim`: a small results feed. For each event given it
 * draws a result of each market — one selection won, the others lost, or
 * (with --void-pct) every selection of the market void — and posts them
 * to `POST /v1/admin/events/:event/results`, which settles the tickets
 * they decide (docs/betting.md). Seeded: the same seed posts the same
 * results; posting them again changes nothing (the same result is a no-op).
 */
import { chance, pick, SeededRandom } from '@holdfast/domain';
import { intFlag, parseFlags, stringFlag, UsageError } from '../args.js';
import { OPERATOR_FLAGS, operatorTarget } from './operator-request.js';

export const RESULTS_SIM_HELP = `holdfast results-sim --server URL (--operator-token T | --operator-token-file F)
    --events E1,E2,… [--markets match_result=home|draw|away,…] [--seed N] [--void-pct P] [--json]

Posts a result for every market of each event (one selection won, the others
lost; or, with probability --void-pct, the whole market void) and prints how
many tickets each post settled and the liability it released.
  --events E1,E2            the events to settle (names as on the tickets)
  --markets M=S1|S2|…,…     markets and their selections   default match_result=home|draw|away
  --seed N                  random seed                    default 1
  --void-pct P              share of markets voided, %     default 0
  --json                    print the server's answers as JSON
Exit 0 when every post was accepted, 1 otherwise (the server's code and message are printed).`;

type Result = 'won' | 'lost' | 'void';

/** The markets flag as [market, selections]. */
export function parseMarkets(raw: string): [string, string[]][] {
  return raw.split(',').map((part) => {
    const [market, list] = part.split('=');
    const selections = (list ?? '').split('|').filter((x) => x.length > 0);
    if (!market || selections.length < 2) {
      throw new UsageError(`--markets: "${part}" must be market=selection|selection|… with at least two selections`);
    }
    return [market, selections];
  });
}

/** The results drawn for one event. */
export function drawResults(
  random: SeededRandom,
  markets: readonly [string, string[]][],
  voidPct: number,
): { market: string; selection: string; result: Result }[] {
  const out: { market: string; selection: string; result: Result }[] = [];
  for (const [market, selections] of markets) {
    const voided = chance(random, voidPct / 100);
    const winner = pick(random, selections);
    for (const selection of selections) {
      out.push({ market, selection, result: voided ? 'void' : selection === winner ? 'won' : 'lost' });
    }
  }
  return out;
}

export async function resultsSimCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    ...OPERATOR_FLAGS,
    events: { type: 'string' },
    markets: { type: 'string' },
    seed: { type: 'string' },
    'void-pct': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (flags.help) {
    console.log(RESULTS_SIM_HELP);
    return 0;
  }
  const { server, token } = operatorTarget(flags);
  const events = (stringFlag(flags, 'events') ?? '').split(',').filter((x) => x.length > 0);
  if (events.length === 0) throw new UsageError('--events is required (comma-separated event names)');
  const markets = parseMarkets(stringFlag(flags, 'markets') ?? 'match_result=home|draw|away');
  const random = new SeededRandom(intFlag(flags, 'seed', 1, 0, 2 ** 31 - 1));
  const voidPct = intFlag(flags, 'void-pct', 0, 0, 100);
  let ok = true;
  for (const event of events) {
    const results = drawResults(random, markets, voidPct);
    const url = `${server}/v1/admin/events/${encodeURIComponent(event)}/results`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ results }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      console.error(`holdfast results-sim: cannot reach ${server}: ${(error as Error).message}`);
      return 1;
    }
    const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
    if (!res.ok) {
      ok = false;
      console.error(
        `holdfast results-sim: ${event}: ${res.status} ${String(body?.code ?? '')} ${String(body?.message ?? '')}`,
      );
      continue;
    }
    if (flags.json) console.log(JSON.stringify(body));
    else {
      const settled = body?.settled as Record<string, number>;
      const won = results.filter((r) => r.result === 'won').map((r) => `${r.market}=${r.selection}`);
      console.log(
        `${event}: ${won.length > 0 ? `won ${won.join(', ')}` : 'void'}; recorded ${String(body?.recorded)}, unchanged ${String(body?.unchanged)}; settled won ${settled.won}, lost ${settled.lost}, void ${settled.void}, push ${settled.push}; released ${String(body?.released)}`,
      );
    }
  }
  return ok ? 0 : 1;
}
