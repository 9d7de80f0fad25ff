/** Data loading for views: an API read, refreshed every `everyMs`, with its error kept for display. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from '../shared/api.js';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  reload: () => void;
}

export function usePoll<T>(path: string | null, everyMs = 0): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    const load = () =>
      api<T>('GET', path).then(
        (d) => {
          if (!live) return;
          setData(d);
          setError(null);
        },
        (e: unknown) => {
          if (live) setError(e instanceof Error ? e.message : String(e));
        },
      );
    void load();
    const timer = everyMs > 0 ? setInterval(() => void load(), everyMs) : null;
    return () => {
      live = false;
      if (timer) clearInterval(timer);
    };
  }, [path, everyMs, tick]);
  return { data, error, reload };
}
