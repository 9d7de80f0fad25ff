/**
 * Operator authentication: a bearer token compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from '@holdfast/protocol';
import type { FastifyRequest } from 'fastify';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function operatorGuard(operatorToken: string) {
  if (operatorToken.length < 16) throw new RangeError('operator token must be at least 16 characters');
  const expected = digest(operatorToken);
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (.+)$/.exec(header) : null;
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new ProtocolError('unauthorized', 'operator endpoints need "Authorization: Bearer <operator token>"');
    }
  };
}
