/**
 * @holdfast/domain — pure rules: shifts and cash drawers, wristband wallets, offline
 * authorization against a risk policy and the exposure bound, the retry
 * backoff schedule, and the Clock and Random abstractions everything else
 * is given.
 * No I/O, no ambient time or randomness.
 */
export * from './backoff.js';
export * from './cash-correction.js';
export * from './clock.js';
export * from './corrections.js';
export * from './errors.js';
export * from './exposure.js';
export * from './injected-bugs.js';
export * from './limited-statement.js';
export * from './locale.js';
export * from './loyalty.js';
export * from './random.js';
export * from './receipts/index.js';
export * from './risk.js';
export * from './shift.js';
export * from './shift-reducer.js';
export * from './staff-rules.js';
export * from './topup-reversal.js';
export * from './wallet.js';
