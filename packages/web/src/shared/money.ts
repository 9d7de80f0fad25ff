/**
 * Money for people, in the browser: the protocol's one formatter, from its
 * own subpath (`@holdfast/protocol/money`: money.ts has no imports, so no
 * node: module reaches the bundle; the package root would pull in
 * node:crypto).
 */
export { decimalAmount, formatMoney, parseMoneyInput } from '@holdfast/protocol/money';
