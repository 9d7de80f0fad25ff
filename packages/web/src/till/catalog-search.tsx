/**
 * Finding an item in a long price list (Sell screen): type part of its name
 * or SKU, arrows move through the matches, Enter adds the one marked to the
 * cart and leaves the box ready for the next. "/" puts the cursor in the box
 * from anywhere on the Sell screen; Escape empties it. Touch: tap a match.
 * Matching: search-items.ts.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { SEARCH_SHOWN, type SearchItem, searchItems } from './search-items.js';

export function CatalogSearch({
  items,
  money,
  onAdd,
}: {
  items: readonly SearchItem[];
  money: (minor: number) => string;
  onAdd: (item: SearchItem) => void;
}) {
  const [query, setQuery] = useState('');
  const [marked, setMarked] = useState(0);
  const box = useRef<HTMLInputElement>(null);
  const found = searchItems(items, query);
  const shown = found.slice(0, SEARCH_SHOWN);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement;
      if (!typing && e.key === '/') {
        e.preventDefault();
        box.current?.focus();
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
  const add = (item: SearchItem) => {
    onAdd(item);
    setQuery('');
    setMarked(0);
    box.current?.focus();
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (shown.length === 0) return;
      const step = e.key === 'ArrowDown' ? 1 : -1;
      setMarked((m) => (Math.min(m, shown.length - 1) + step + shown.length) % shown.length);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const item = shown[Math.min(marked, shown.length - 1)];
      if (item) add(item);
    } else if (e.key === 'Escape') {
      setQuery('');
      setMarked(0);
      box.current?.blur();
    }
  };
  const at = Math.min(marked, shown.length - 1);
  return (
    <div class="search" data-catalog-search>
      <label>
        Find an item <kbd>/</kbd>
        <input
          ref={box}
          name="search"
          type="search"
          autocomplete="off"
          placeholder="Name or SKU"
          value={query}
          onInput={(e) => {
            setQuery((e.target as HTMLInputElement).value);
            setMarked(0);
          }}
          onKeyDown={onKeyDown}
        />
      </label>
      {query.trim() !== '' && shown.length === 0 ? (
        <p class="problem" data-search-none>
          No item matches “{query.trim()}”.
        </p>
      ) : null}
      {shown.length > 0 ? (
        <ul data-search-results>
          {shown.map((item, i) => (
            <li key={item.sku}>
              <button
                type="button"
                class={i === at ? 'on' : ''}
                aria-current={i === at}
                data-search-item={item.sku}
                data-marked={String(i === at)}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => add(item)}
              >
                <span>{item.name}</span>
                <small>{item.sku}</small>
                <span class="price">{money(item.price)}</span>
              </button>
            </li>
          ))}
          {found.length > shown.length ? (
            <li class="more" data-search-more={found.length - shown.length}>
              {found.length - shown.length} more: type more of the name
            </li>
          ) : null}
        </ul>
      ) : null}
    </div>
  );
}
