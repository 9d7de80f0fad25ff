/**
 * The server's key set (docs/protocol.md §2, "Server key rotation"): how a
 * terminal that pinned the server's keys at enrollment learns a key the
 * server rotated to since, without trusting anyone on the path.
 *
 * The server sends, with every policy answer, the keys it currently trusts
 * (the active one and those still in their overlap), signed by EACH of
 * them. A terminal adopts the set only when one of those signatures is by a
 * key it already trusts and verifies, and only when the set is newer (`at`)
 * than the last one it adopted: an older set replayed cannot bring back a
 * key that has since been dropped.
 */
import type { KeyObject } from 'node:crypto';
import { CanonicalJsonError } from './canonical-json.js';
import { importPublicKey, signMessage, verifyMessage } from './signing.js';

/** Key id → raw Ed25519 public key, base64url (the shape of wire.ts PolicyKeySet). */
type PolicyKeySet = Record<string, string>;

export interface SignedKeySet {
  /** Key id → raw public key: every key the server trusts at `at`. */
  keys: PolicyKeySet;
  /** Server ms when the set was signed; a terminal adopts only a set newer than the one it holds. */
  at: number;
  /** Key id → signature over keySetMessage(keys, at), one per key in `keys`. */
  sigs: Record<string, string>;
}

/** What each key of a key set signs. */
export function keySetMessage(keys: PolicyKeySet, at: number) {
  return { ctx: 'holdfast.keyset.v1', keys, at } as const;
}

/** The set `keys`, signed at `at` by every key in `signers`. */
export function signKeySet(
  keys: PolicyKeySet,
  at: number,
  signers: readonly { id: string; privateKey: KeyObject }[],
): SignedKeySet {
  const message = keySetMessage(keys, at);
  const sigs: Record<string, string> = {};
  for (const s of signers) sigs[s.id] = signMessage(message, s.privateKey);
  return { keys, at, sigs };
}

/**
 * Checks a key set received from the server against the keys the terminal
 * trusts. Returns the set when a key the terminal trusts signed it and the
 * signature verifies, else why not (the terminal then keeps the keys it has).
 */
export function verifyKeySet(
  raw: unknown,
  trusted: PolicyKeySet,
): { ok: true; set: SignedKeySet } | { ok: false; problem: string } {
  const set = keySetShape(raw);
  if (set === null) return { ok: false, problem: 'the key set is not {keys, at, sigs} of strings' };
  const message = keySetMessage(set.keys, set.at);
  for (const [id, sig] of Object.entries(set.sigs)) {
    const publicKey = Object.hasOwn(trusted, id) ? trusted[id] : undefined;
    if (publicKey === undefined) continue;
    try {
      if (verifyMessage(message, sig, importPublicKey(publicKey))) return { ok: true, set };
    } catch (error) {
      if (!(error instanceof CanonicalJsonError)) throw error;
      return { ok: false, problem: 'the key set cannot be read as canonical JSON' };
    }
    return { ok: false, problem: `the key set's signature by trusted key ${id} does not verify` };
  }
  return { ok: false, problem: 'the key set is not signed by a key this terminal trusts' };
}

function keySetShape(raw: unknown): SignedKeySet | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const { keys, at, sigs } = raw as Record<string, unknown>;
  if (!Number.isSafeInteger(at)) return null;
  if (!stringRecord(keys) || !stringRecord(sigs) || Object.keys(keys).length === 0) return null;
  return { keys, at: at as number, sigs };
}

function stringRecord(v: unknown): v is Record<string, string> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.getPrototypeOf(v) === Object.prototype &&
    Object.values(v).every((x) => typeof x === 'string')
  );
}
