/**
 * Signed refusals (docs/protocol.md §2, "Signed answers"): `device_revoked`,
 * the refusal that makes a terminal stop for good, is signed by the server
 * like an answer, bound to the request it refuses, so nobody on the path can
 * stop a till by forging one. It is only ever thrown once the request's
 * signature verified (device-auth.ts), so the server never signs a refusal
 * of a request the device did not make.
 *
 * `unknown_device` is NOT signed: it also answers a request whose signature
 * does not verify, so signing it would let anyone on the path obtain, for a
 * till's captured request signature, a signed refusal to show that till. A
 * terminal of a server that signs answers therefore treats it as no answer
 * (retry), never as a reason to stop.
 *
 * The service signs the refusal where it knows the request's signature;
 * toWireError (http/error-handler.ts) adds the signature to the WireError.
 */
import { type AnswerRoute, type AnswerSignature, ProtocolError, refusalAnswer } from '@holdfast/protocol';

const signatures = new WeakMap<ProtocolError, AnswerSignature>();

/** The signature the service gave `error`, if any. */
export function refusalSignature(error: ProtocolError): AnswerSignature | undefined {
  return signatures.get(error);
}

/**
 * Runs `check` (a device-auth step for the request signed `requestSig`);
 * a `device_revoked` it throws is signed with `sign` and rethrown.
 */
export async function signingRefusals<T>(
  route: AnswerRoute,
  requestSig: string,
  sign: (route: AnswerRoute, requestSig: string, answer: object) => Promise<AnswerSignature>,
  check: () => Promise<T>,
): Promise<T> {
  try {
    return await check();
  } catch (error) {
    if (error instanceof ProtocolError && error.code === 'device_revoked') {
      const { serverKey, serverSig } = await sign(route, requestSig, refusalAnswer(error));
      signatures.set(error, { serverKey, serverSig });
    }
    throw error;
  }
}
