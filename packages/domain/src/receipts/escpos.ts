/**
 * ESC/POS bytes for thermal receipt printers (Epson TM and the many
 * printers that speak its command set): initialise, select code page
 * PC858 (Latin-1 letters and the euro sign), print the layout's lines with
 * alignment, bold and double size, feed and cut.
 *
 * Characters the code page lacks print as `?`; control characters never
 * reach the printer (layout.ts turns them into spaces), so no text on a
 * receipt can send the printer a command.
 */
import { type LayoutOptions, layoutReceipt } from './layout.js';
import type { Receipt } from './receipt.js';

const ESC = 0x1b;
const GS = 0x1d;
const LF = 0x0a;

/** ESC t 19: code page PC858 (CP850 with € at 0xD5). */
const PC858_PAGE = 19;

/** Code page 858, bytes 0x80..0xFF. */
const PC858_HIGH =
  'ÇüéâäàåçêëèïîìÄÅ' +
  'ÉæÆôöòûùÿÖÜø£Ø×ƒ' +
  'áíóúñÑªº¿®¬½¼¡«»' +
  '░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐' +
  '└┴┬├─┼ãÃ╚╔╩╦╠═╬¤' +
  'ðÐÊËÈ€ÍÎÏ┘┌█▄¦Ì▀' +
  'ÓßÔÒõÕµþÞÚÛÙýÝ¯´' +
  '\u00ad±‗¾¶§÷¸°¨·¹³²■\u00a0';

const ENCODE = new Map<string, number>();
for (let i = 0; i < PC858_HIGH.length; i++) ENCODE.set(PC858_HIGH[i] as string, 0x80 + i);
// Intl puts no-break spaces in money ("5,00 €"): the printer's plain space reads the same.
ENCODE.set('\u00a0', 0x20);
ENCODE.set('\u202f', 0x20);

/** Text in code page 858; anything it lacks becomes `?`. */
export function encodePc858(text: string): number[] {
  const bytes: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (code >= 0x20 && code < 0x7f) bytes.push(code);
    else bytes.push(ENCODE.get(ch) ?? 0x3f);
  }
  return bytes;
}

/** The receipt as one ESC/POS job, ending with a feed and a partial cut. */
export function receiptEscPos(receipt: Receipt, options: LayoutOptions): Uint8Array {
  const out: number[] = [ESC, 0x40, ESC, 0x74, PC858_PAGE];
  let align = -1;
  let bold = false;
  let big = false;
  for (const line of layoutReceipt(receipt, { ...options, paper: options.paper ?? 80 })) {
    const a = line.align === 'center' ? 1 : 0;
    if (a !== align) {
      align = a;
      out.push(ESC, 0x61, align);
    }
    if (line.bold !== bold) {
      bold = line.bold;
      out.push(ESC, 0x45, bold ? 1 : 0);
    }
    if (line.big !== big) {
      big = line.big;
      out.push(GS, 0x21, big ? 0x11 : 0x00);
    }
    out.push(...encodePc858(line.text), LF);
  }
  if (bold) out.push(ESC, 0x45, 0);
  if (big) out.push(GS, 0x21, 0);
  // Feed past the cutter, then cut (GS V 66 n: feed n lines and partial cut).
  out.push(ESC, 0x64, 3, GS, 0x56, 66, 0);
  return Uint8Array.from(out);
}
