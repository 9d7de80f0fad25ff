/**
 * Receipts: the model (receipt.ts), human-readable numbers
 * (receipt-number.ts), the words (labels.ts), and the printed forms: text,
 * HTML (render.ts) and ESC/POS (escpos.ts). See docs/receipts.md.
 */
export * from './escpos.js';
export * from './labels.js';
export * from './layout.js';
export * from './receipt.js';
export * from './receipt-number.js';
export * from './render.js';
