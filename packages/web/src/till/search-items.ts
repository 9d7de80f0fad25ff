/**
 * Matching items of a price list against what the clerk typed (the Sell
 * screen's search, catalog-search.tsx). Case and accents are ignored; every
 * word typed must appear in the name or the SKU. An exact SKU comes first,
 * then names or SKUs that start with what was typed, then the rest, each
 * group in the list's order.
 */
export interface SearchItem {
  sku: string;
  name: string;
  price: number;
}

/** At most this many matches are listed; typing more narrows them. */
export const SEARCH_SHOWN = 8;

const fold = (s: string) =>
  s
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase();

/** The items matching `query`, best first (see the file's comment); all of them, the caller cuts. */
export function searchItems<T extends SearchItem>(items: readonly T[], query: string): T[] {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  const whole = fold(query.trim());
  const ranked: Array<{ item: T; rank: number; at: number }> = [];
  items.forEach((item, at) => {
    const name = fold(item.name);
    const sku = fold(item.sku);
    if (!words.every((w) => name.includes(w) || sku.includes(w))) return;
    const rank = sku === whole ? 0 : sku.startsWith(whole) || name.startsWith(whole) ? 1 : 2;
    ranked.push({ item, rank, at });
  });
  ranked.sort((a, b) => a.rank - b.rank || a.at - b.at);
  return ranked.map((r) => r.item);
}
