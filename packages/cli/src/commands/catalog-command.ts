/**
 * `holdfast catalog`: catalog items and price lists without curl
 * (docs/catalog-and-stock.md), a thin client of /v1/admin/catalog/items and
 * /v1/admin/price-lists. The request bodies come from JSON files as they
 * are; the server validates them and answers coded errors, printed with the
 * field they name (unknown_sku, ends_in_past, invalid_request).
 */
import { formatMoney } from '@holdfast/protocol';
import { requiredString, UsageError } from '../args.js';
import { parseSub, print, readJsonFile, table } from './admin-commands.js';
import { operatorCall, operatorTarget } from './operator-request.js';

export const CATALOG_HELP = `holdfast catalog items|put|prices|publish --server URL (--operator-token T | --operator-token-file F) [--json]

  items                          every catalog item: SKU, name, tax category, unit
  put --file F                   creates or updates the items in the JSON file F by SKU, in one transaction:
                                 {"items": [{"sku", "name", "taxCategory", "unit"}, ...]} (or the bare array)
  prices --location L            every version of the location's price list, oldest first
  publish --file F               publishes the price list in the JSON file F as the location's next version:
                                 {"location", "currency", "from"?, "until"?, "prices": [{"sku", "price"}],
                                  "promotions"?: [{"sku", "price", "from", "until"}]} (prices in minor units)
Server and token also come from HOLDFAST_URL and HOLDFAST_OPERATOR_TOKEN(_FILE).`;

interface Item {
  sku: string;
  name: string;
  taxCategory: string;
  unit: string;
}

interface PriceList {
  location: string;
  version: number;
  currency: string;
  from: number;
  until: number | null;
  prices: { sku: string; price: number }[];
  promotions: { sku: string; price: number; from: number; until: number }[];
  publishedAt: number;
  publishedBy: string;
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

function priceListLines(list: PriceList): string[] {
  const head = `${list.location} v${list.version} ${list.currency} from ${iso(list.from)} until ${iso(list.until)}, published by ${list.publishedBy} at ${iso(list.publishedAt)}`;
  const rows = [
    ...list.prices.map((p) => [p.sku, formatMoney(p.price, list.currency), '-', '-']),
    ...list.promotions.map((p) => [p.sku, formatMoney(p.price, list.currency), iso(p.from), iso(p.until)]),
  ];
  return [head, ...table(['sku', 'price', 'promotion from', 'until'], rows).map((l) => `  ${l}`)];
}

export async function catalogCommand(argv: string[]): Promise<number> {
  const parsed = parseSub(
    argv,
    {
      items: { id: false, options: {} },
      put: { id: false, options: { file: { type: 'string' } } },
      prices: { id: false, options: { location: { type: 'string' } } },
      publish: { id: false, options: { file: { type: 'string' } } },
    },
    'catalog',
  );
  if (!parsed || parsed.flags.help) {
    console.log(CATALOG_HELP);
    return parsed ? 0 : argv.length === 0 ? 2 : 0;
  }
  const { sub, flags } = parsed;
  const json = flags.json === true;
  if (sub === 'items') {
    const { server, token } = operatorTarget(flags);
    const answer = await operatorCall<{ items: Item[] }>(
      'catalog',
      'GET',
      new URL(`${server}/v1/admin/catalog/items`),
      token,
    );
    if (answer === null) return 1;
    return print(json, answer, () =>
      answer.items.length === 0
        ? ['no catalog items']
        : table(
            ['sku', 'name', 'tax', 'unit'],
            answer.items.map((i) => [i.sku, i.name, i.taxCategory, i.unit]),
          ),
    );
  }
  if (sub === 'put') {
    const body = readJsonFile(flags, 'file');
    const request = Array.isArray(body) ? { items: body } : body;
    const { server, token } = operatorTarget(flags);
    const answer = await operatorCall<{ items: Item[] }>(
      'catalog',
      'PUT',
      new URL(`${server}/v1/admin/catalog/items`),
      token,
      request,
    );
    if (answer === null) return 1;
    return print(json, answer, () => [`${answer.items.length} item(s) written`]);
  }
  if (sub === 'prices') {
    const location = requiredString(flags, 'location');
    const { server, token } = operatorTarget(flags);
    const url = new URL(`${server}/v1/admin/price-lists`);
    url.searchParams.set('location', location);
    const answer = await operatorCall<{ location: string; versions: PriceList[] }>('catalog', 'GET', url, token);
    if (answer === null) return 1;
    return print(json, answer, () =>
      answer.versions.length === 0 ? [`no price list for ${answer.location}`] : answer.versions.flatMap(priceListLines),
    );
  }
  const body = readJsonFile(flags, 'file');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new UsageError('--file: a price list is a JSON object {"location", "currency", "prices", ...}');
  }
  const { server, token } = operatorTarget(flags);
  const answer = await operatorCall<PriceList>(
    'catalog',
    'POST',
    new URL(`${server}/v1/admin/price-lists`),
    token,
    body,
  );
  if (answer === null) return 1;
  return print(json, answer, () => [
    `published ${answer.location} price list v${answer.version}`,
    ...priceListLines(answer).slice(1),
  ]);
}
