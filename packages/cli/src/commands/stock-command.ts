/**
 * `holdfast stock`: stock levels, movements and shortfall decisions without
 * curl (docs/catalog-and-stock.md), a thin client of /v1/admin/stock and
 * /v1/admin/exceptions. Stock itself moves only by ops recorded at the
 * tills (receiving, counts, adjustments, sales); the server validates and
 * answers coded errors, printed with the field they name.
 */
import { intFlag, requiredString, stringFlag } from '../args.js';
import { parseSub, print, table } from './admin-commands.js';
import { operatorCall, operatorTarget } from './operator-request.js';

export const STOCK_HELP = `holdfast stock levels|moves|resolve ID --action A --note N [--reference R] --server URL (--operator-token T | --operator-token-file F) [--location L] [--json]

  levels [--location L]          tracked levels: location, SKU, received, sold, adjusted, counted, on hand
  moves [--location L] [--after N] [--limit N]
                                 movements in the order applied (receive, count, adjust, sale)
  resolve ID --action A --note N [--reference R]
                                 records the decision on stock_shortfall ID: backordered, substituted,
                                 refunded (--reference: the sale.refunded op id), written_off, or contacted
Server and token also come from HOLDFAST_URL and HOLDFAST_OPERATOR_TOKEN(_FILE).`;

interface Level {
  location: string;
  sku: string;
  received: number;
  sold: number;
  adjusted: number;
  counted: number;
  qty: number;
  shortEpisode: number | null;
}

interface Move {
  pos: number;
  location: string;
  sku: string;
  kind: string;
  delta: number;
  after: number;
  opId: string;
  device: string;
  at: number;
}

export async function stockCommand(argv: string[]): Promise<number> {
  const parsed = parseSub(
    argv,
    {
      levels: { id: false, options: { location: { type: 'string' } } },
      moves: {
        id: false,
        options: { location: { type: 'string' }, after: { type: 'string' }, limit: { type: 'string' } },
      },
      resolve: {
        id: true,
        options: { action: { type: 'string' }, note: { type: 'string' }, reference: { type: 'string' } },
      },
    },
    'stock',
  );
  if (!parsed || parsed.flags.help) {
    console.log(STOCK_HELP);
    return parsed ? 0 : argv.length === 0 ? 2 : 0;
  }
  const { sub, id, flags } = parsed;
  const { server, token } = operatorTarget(flags);
  const json = flags.json === true;
  const location = stringFlag(flags, 'location');
  if (sub === 'levels') {
    const url = new URL(`${server}/v1/admin/stock`);
    if (location !== undefined) url.searchParams.set('location', location);
    const answer = await operatorCall<{ levels: Level[] }>('stock', 'GET', url, token);
    if (answer === null) return 1;
    return print(json, answer, () =>
      answer.levels.length === 0
        ? ['no stock levels']
        : table(
            ['location', 'sku', 'received', 'sold', 'adjusted', 'counted', 'on hand', 'state'],
            answer.levels.map((l) => [
              l.location,
              l.sku,
              String(l.received),
              String(l.sold),
              String(l.adjusted),
              String(l.counted),
              String(l.qty),
              l.shortEpisode === null ? '-' : `oversold (episode ${l.shortEpisode})`,
            ]),
          ),
    );
  }
  if (sub === 'moves') {
    const url = new URL(`${server}/v1/admin/stock/moves`);
    if (location !== undefined) url.searchParams.set('location', location);
    url.searchParams.set('after', String(intFlag(flags, 'after', 0, 0, Number.MAX_SAFE_INTEGER)));
    url.searchParams.set('limit', String(intFlag(flags, 'limit', 100, 1, 1000)));
    const answer = await operatorCall<{ items: Move[]; next: number | null }>('stock', 'GET', url, token);
    if (answer === null) return 1;
    return print(json, answer, () =>
      answer.items.length === 0
        ? ['no stock movements']
        : table(
            ['pos', 'at', 'location', 'sku', 'kind', 'delta', 'after', 'op'],
            answer.items.map((m) => [
              String(m.pos),
              new Date(m.at).toISOString(),
              m.location,
              m.sku,
              m.kind,
              String(m.delta),
              String(m.after),
              m.opId,
            ]),
          ),
    );
  }
  const reference = stringFlag(flags, 'reference');
  const answer = await operatorCall<{ type: string; status: string; actions: { action: string; by: string }[] }>(
    'stock',
    'POST',
    new URL(`${server}/v1/admin/exceptions/${encodeURIComponent(id as string)}/actions`),
    token,
    {
      action: requiredString(flags, 'action'),
      note: requiredString(flags, 'note'),
      ...(reference !== undefined ? { reference } : {}),
    },
  );
  if (answer === null) return 1;
  return print(json, answer, () => {
    const last = answer.actions[answer.actions.length - 1];
    return [`${answer.type} ${id}: ${last?.action ?? '?'} by ${last?.by ?? '?'}, now ${answer.status}`];
  });
}
