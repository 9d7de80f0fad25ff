/**
 * Test fixtures for the processor simulator: requests built from a few
 * overrides, a service on an in-memory database, and a manual clock.
 */
import type { Clock, TimerHandle } from '@holdfast/domain';
import type { ProcessorKnobs } from '../knobs.js';
import { ProcessorService, type ProcessorServiceOptions } from '../processor-service.js';
import { ProcessorStorage } from '../storage.js';

export { authRequest } from '@holdfast/processor-client/testing';

export const TEST_API_KEY = 'test-api-key-0123456789abcdef';

/**
 * The real clock with timers that keep the process alive: systemClock's are
 * unref'd, and an in-process (inject) test has no socket to keep it running
 * while a request sleeps its latency.
 */
export const refClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimer(ms: number, fn: () => void): TimerHandle {
    const handle = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
});

/** A service on a fresh in-memory database. */
export function memoryService(
  options: Partial<Omit<ProcessorServiceOptions, 'storage' | 'knobs'>> & { knobs?: Partial<ProcessorKnobs> } = {},
): ProcessorService {
  return new ProcessorService({ storage: new ProcessorStorage({ path: ':memory:' }), seed: 1, ...options });
}
