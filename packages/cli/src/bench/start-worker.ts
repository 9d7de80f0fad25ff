/** Starting the bench's worker threads, compiled or from the TypeScript sources (the tests). */
import { Worker } from 'node:worker_threads';

const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** Starts `./<name>.js` of this folder (`.ts` from the sources) as a worker thread with `workerData`. */
export function startBenchWorker(name: string, workerData: unknown): Worker {
  if (!FROM_SOURCE) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  // From the TypeScript sources: workers do not inherit tsx's loader hooks, so register them first.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${name}.ts`, import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData });
}
