/**
 * The exchange's crypto on Node: request signatures and the check of the
 * server's signed answers through @holdfast/protocol (node:crypto),
 * synchronously, as the exchange always did. The browser's counterpart is
 * terminal-web/src/webcrypto-signing.ts (WebCrypto, asynchronous).
 */
import { answerProblem, signMessage } from '@holdfast/protocol';
import type { ExchangeSigner } from './exchange.js';

export const NODE_SIGNER: ExchangeSigner = Object.freeze({
  sign: (message: { ctx: string }, credentials: { key: Parameters<typeof signMessage>[1] }) =>
    signMessage(message, credentials.key),
  answerProblem,
});
