/**
 * Money for people, in the browser: the protocol's one formatter, imported
 * from its own module file (money.ts has no imports, so no node: module
 * reaches the bundle; the package index would pull in node:crypto).
 */
export { decimalAmount, formatMoney } from '../../../protocol/src/money.js';
