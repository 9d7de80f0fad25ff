/**
 * The till's service worker: it keeps the app shell (page, script, style,
 * journal worker, sqlite3.wasm, manifest, icon) in a cache named after the
 * build, so the till loads and records with the server unreachable. The
 * shell is answered from the cache first and refreshed from the network
 * behind it (the next load gets a new build); requests to the server's API
 * (/v1/...) are never touched: the till's sync loop talks to the server
 * itself and must see the network as it is.
 */
declare const __SHELL__: string[];
declare const __VERSION__: string;

interface ExtendableEventLike extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEventLike extends ExtendableEventLike {
  request: Request;
  respondWith(r: Promise<Response>): void;
}
interface ServiceWorkerScope {
  registration: { scope: string };
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  addEventListener(type: 'install' | 'activate', fn: (e: ExtendableEventLike) => void): void;
  addEventListener(type: 'fetch', fn: (e: FetchEventLike) => void): void;
}

const sw = self as unknown as ServiceWorkerScope;
const CACHE = `holdfast-till-${__VERSION__}`;

sw.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(__SHELL__))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(names.filter((n) => n.startsWith('holdfast-till-') && n !== CACHE).map((n) => caches.delete(n))),
      )
      .then(() => sw.clients.claim()),
  );
});

sw.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const scope = new URL(sw.registration.scope);
  if (event.request.method !== 'GET' || url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) {
    return;
  }
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const key = url.pathname === scope.pathname ? './' : event.request;
      const cached = await cache.match(key, { ignoreSearch: true, ignoreVary: true });
      const refresh = fetch(event.request)
        .then((res) => {
          if (res.ok) void cache.put(key, res.clone());
          return res;
        })
        .catch(() => null);
      if (cached) return cached;
      return (await refresh) ?? new Response('the till is offline and this file is not cached', { status: 503 });
    }),
  );
});
