/**
 * The server's signature on its answers to terminals (docs/protocol.md §2,
 * "Signed answers"): anyone on the path could otherwise answer `accepted`.
 *
 * The server signs, with its policy key (the one the terminal pinned at
 * enrollment), the canonical JSON of the answer bound to the request it
 * answers: the request's own signature is part of the signed message, so an
 * answer captured for one request can never be shown for another.
 */
import type { KeyObject } from 'node:crypto';
import { CanonicalJsonError } from './canonical-json.js';
import { importPublicKey, signMessage, verifyMessage } from './signing.js';
import type { PolicyKeySet } from './wire.js';

/**
 * The routes whose answers are signed: those a terminal marks ops confirmed
 * from, prints from (`authorize`), or changes what it allows from (`feed`:
 * declines, releases, blocks, placement; `policy`: the last server contact
 * that offline approvals count from).
 */
export type AnswerRoute =
  | 'batches'
  | 'ops/query'
  | 'devices/rotate-key'
  | 'authorize'
  | 'feed'
  | 'policy'
  | 'shifts/z-report'
  | 'loyalty';

/** The two fields a signed answer carries besides its own. */
export interface AnswerSignature {
  /** Id of the server key that signed (a key of the set pinned at enrollment). */
  serverKey: string;
  /** Ed25519 signature over answerMessage(route, request sig, the answer without these two fields). */
  serverSig: string;
}

/**
 * What a signed refusal covers (`device_revoked`, the refusal that stops a
 * terminal for good; `unknown_device` is never signed): its code and
 * message, signed like an answer to the request refused, carried as the
 * WireError's `serverKey`/`serverSig`.
 */
export function refusalAnswer(error: { code: string; message: string }): { code: string; message: string } {
  return { code: error.code, message: error.message };
}

/** What the server's answer signature covers. */
export function answerMessage(route: AnswerRoute, requestSig: string, answer: object) {
  return { ctx: 'holdfast.answer.v1', route, request: requestSig, answer } as const;
}

/** `answer` with the server's signature added. */
export function signAnswer<A extends object>(
  route: AnswerRoute,
  requestSig: string,
  answer: A,
  key: { id: string; privateKey: KeyObject },
): A & AnswerSignature {
  return {
    ...answer,
    serverKey: key.id,
    serverSig: signMessage(answerMessage(route, requestSig, answer), key.privateKey),
  };
}

/**
 * Checks a server's answer to the request signed `requestSig` against the
 * keys the terminal pinned. Returns null when it verifies, else why not
 * (for the terminal's log: it then treats the answer as no answer at all).
 */
export function answerProblem(
  route: AnswerRoute,
  requestSig: string,
  body: unknown,
  keys: PolicyKeySet,
): string | null {
  if (typeof body !== 'object' || body === null) return 'the answer is not an object';
  const { serverKey, serverSig, ...answer } = body as Record<string, unknown>;
  if (typeof serverKey !== 'string' || typeof serverSig !== 'string') return 'the answer is not signed';
  const publicKey = Object.hasOwn(keys, serverKey) ? keys[serverKey] : undefined;
  if (publicKey === undefined) return `the answer is signed with key ${serverKey}, not one pinned at enrollment`;
  try {
    return verifyMessage(answerMessage(route, requestSig, answer), serverSig, pinnedKey(publicKey))
      ? null
      : 'the answer signature does not verify';
  } catch (error) {
    if (error instanceof CanonicalJsonError) return 'the answer cannot be read as canonical JSON';
    return `the pinned key ${serverKey} cannot verify: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * The pinned keys, imported once: every answer is checked against one of
 * the few keys a terminal pinned, and importing it again each time showed
 * as ~2 % of a simulated run. A KeyObject is immutable; a key that does not
 * import is never kept (it throws every time). Bounded: emptied past 64.
 */
const imported = new Map<string, KeyObject>();

function pinnedKey(publicKey: string): KeyObject {
  let key = imported.get(publicKey);
  if (key === undefined) {
    key = importPublicKey(publicKey);
    if (imported.size >= 64) imported.clear();
    imported.set(publicKey, key);
  }
  return key;
}
