/**
 * Randomness as a dependency. Production code uses the operating system's
 * cryptographic source; simulations and demos use a seeded generator so that
 * one seed replays one run exactly.
 */
import { randomBytes as cryptoRandomBytes, randomFillSync } from 'node:crypto';

export interface Random {
  /** A float in [0, 1). */
  float(): number;
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
}

/** The operating system's cryptographic random source, read afresh for every call: for keys, codes and tokens. */
export const cryptoRandom: Random = Object.freeze({
  float: () => cryptoRandomBytes(6).readUIntBE(0, 6) / 2 ** 48,
  bytes: (n: number) => new Uint8Array(cryptoRandomBytes(n)),
});

/**
 * The same source for ids, read 4 KiB at a time: one call into the
 * system's generator per ~680 op ids instead of one per id (a terminal's
 * record path spent ~4 % of its time there; docs/performance.md, round
 * six). Each byte is handed out once, as a copy, and zeroed in the pool.
 * Only for names that are not secrets: the bytes not yet handed out sit in
 * the heap, so a heap dump would show the next ids. Reads over 16 bytes go
 * straight to the generator.
 */
export const cryptoIdRandom: Random = Object.freeze({
  float: () => cryptoRandom.float(),
  bytes: (n: number) => pooledBytes(n),
});

const POOL_BYTES = 4096;
let pool = new Uint8Array(0);
let poolAt = 0;

function pooledBytes(n: number): Uint8Array {
  if (n > 16) return new Uint8Array(cryptoRandomBytes(n));
  if (poolAt + n > pool.length) {
    pool = randomFillSync(new Uint8Array(POOL_BYTES));
    poolAt = 0;
  }
  const out = pool.slice(poolAt, poolAt + n);
  pool.fill(0, poolAt, poolAt + n);
  poolAt += n;
  return out;
}

/** splitmix32: spreads a seed into well-mixed 32-bit words. */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}

/**
 * A deterministic generator (sfc32 seeded by splitmix32). Not for keys or
 * anything secret: it exists so that simulations replay.
 */
export class SeededRandom implements Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(readonly seed: number) {
    const mix = splitmix32(seed);
    this.#a = mix();
    this.#b = mix();
    this.#c = mix();
    this.#d = mix();
    for (let i = 0; i < 12; i++) this.#next();
  }

  #next(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  float(): number {
    return this.#next() / 4294967296;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let word = this.#next();
      for (let j = i; j < Math.min(n, i + 4); j++) {
        out[j] = word & 0xff;
        word >>>= 8;
      }
    }
    return out;
  }

  /** An independent generator derived from this seed and a label (e.g. a terminal's name). */
  fork(label: string): SeededRandom {
    let h = this.seed >>> 0;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
    return new SeededRandom(h ^ 0x5bd1e995);
  }
}

/** An integer in [min, max] inclusive. */
export function randomIntBetween(random: Random, min: number, max: number): number {
  return min + Math.floor(random.float() * (max - min + 1));
}

/** True with probability p. */
export function chance(random: Random, p: number): boolean {
  return random.float() < p;
}

export function pick<T>(random: Random, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick from an empty list');
  return items[Math.floor(random.float() * items.length)] as T;
}
