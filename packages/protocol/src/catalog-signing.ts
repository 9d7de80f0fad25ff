/**
 * Signing and verifying a feed price list on Node (node:crypto), apart from
 * catalog.ts so the browser till can use the list's format without Node; it
 * checks the signature with WebCrypto (terminal-web/src/browser-feed.ts).
 */
import {
  type FeedPriceList,
  feedPriceListSchema,
  priceListMessage,
  type SignedPriceList,
  signedPriceListSchema,
} from './catalog.js';
import { ValidationError } from './errors.js';
import { importPrivateKey, importPublicKey, signMessage, verifyMessage } from './signing.js';

/** Signs a feed price list with a policy key. */
export function signPriceList(list: FeedPriceList, privateKey: string, keyId: string): SignedPriceList {
  const parsed = feedPriceListSchema.parse(list, 'priceList');
  return { list: parsed, keyId, sig: signMessage(priceListMessage(parsed), importPrivateKey(privateKey)) };
}

/**
 * The price list of `signed` if it parses and its signature verifies with
 * the pinned key it names; throws ValidationError naming what is wrong.
 */
export function verifyPriceList(signed: unknown, keys: Readonly<Record<string, string>>): FeedPriceList {
  const parsed = signedPriceListSchema.parse(signed, 'priceList');
  const key = Object.hasOwn(keys, parsed.keyId) ? keys[parsed.keyId] : undefined;
  if (key === undefined) throw new ValidationError('priceList.keyId', 'a pinned policy key id', parsed.keyId);
  let ok = false;
  try {
    ok = verifyMessage(priceListMessage(parsed.list), parsed.sig, importPublicKey(key));
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new ValidationError('priceList.sig', `a signature by policy key ${parsed.keyId}`, 'one that does not verify');
  }
  return parsed.list;
}
