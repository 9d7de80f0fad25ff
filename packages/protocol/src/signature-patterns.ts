/**
 * The wire shapes of keys and signatures (base64url), apart from
 * signing.ts so that validating a message needs no node:crypto (the
 * portable terminal core, and its browser build, check them too).
 */
export const PUBLIC_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;
export const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{86}$/;
