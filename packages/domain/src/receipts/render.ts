/**
 * The three printed forms of a receipt: plain text (a console, a log, a
 * printer driver that takes text), ESC/POS bytes (a thermal printer on USB,
 * serial or TCP 9100) and HTML (the till's print view). All three print the
 * lines of layout.ts.
 */
import { COLUMNS, type LayoutOptions, layoutReceipt, type PrintLine } from './layout.js';
import type { Receipt } from './receipt.js';

const columnsOf = (options: LayoutOptions): number => COLUMNS[options.paper ?? 80];

/** Plain text, one printed line per text line, centred lines padded with spaces. */
export function receiptText(receipt: Receipt, options: LayoutOptions): string {
  const columns = columnsOf(options);
  return (
    layoutReceipt(receipt, options)
      // Text has no double size: a big line is centred on the whole width like any other.
      .map(
        (l) =>
          (l.align === 'center' ? ' '.repeat(Math.max(0, Math.floor((columns - l.text.length) / 2))) : '') + l.text,
      )
      .join('\n')
      .concat('\n')
  );
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);

/**
 * An HTML fragment: one `<div class="receipt">` of lines in a monospace
 * column as wide as the paper. Every text a clerk, an operator or a terminal
 * supplied is escaped: a name like `<script>` prints as itself.
 */
export function receiptHtml(receipt: Receipt, options: LayoutOptions): string {
  const columns = columnsOf(options);
  const line = (l: PrintLine) => {
    const classes = ['line', l.align === 'center' ? 'center' : '', l.bold ? 'bold' : '', l.big ? 'big' : '']
      .filter(Boolean)
      .join(' ');
    return `<div class="${classes}">${escapeHtml(l.text) || '&nbsp;'}</div>`;
  };
  // The class rules are the same for every receipt; the paper's width is the element's own, so several
  // receipts of different papers on one page (a print view, a reprint beside the original) keep theirs.
  const style =
    '.receipt{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:pre;' +
    'font-size:14px;line-height:1.3;color:#000;background:#fff;padding:1ch}' +
    '.receipt .center{text-align:center}.receipt .bold{font-weight:700}' +
    '.receipt .big{font-size:200%;line-height:1.15}';
  const copy = receipt.copy ? ' data-copy="true"' : '';
  return (
    `<div class="receipt" style="width:${columns}ch" data-receipt="${escapeHtml(receipt.number)}"${copy} lang="${escapeHtml(options.locale.format)}">` +
    `<style>${style}</style>${layoutReceipt(receipt, options).map(line).join('')}</div>`
  );
}
