/**
 * authRequest: a valid authorization request built from a few overrides,
 * for tests of processors and their clients.
 */
import type { AuthorizationRequestBody } from '../authorization.js';

/** A valid authorization request; `overrides` replace top-level fields, `card` merges. */
export function authRequest(
  overrides: Omit<Partial<AuthorizationRequestBody>, 'card'> & {
    card?: Partial<AuthorizationRequestBody['card']>;
  } = {},
): AuthorizationRequestBody {
  const { card, ...rest } = overrides;
  return {
    merchant: 'venue-1',
    amount: 1250,
    currency: 'EUR',
    card: { token: 'tok_visa_4242', brand: 'visa', last4: '4242', ...card },
    capture: true,
    reference: '01900000-0000-7000-8000-000000000001',
    ...rest,
  };
}
