/**
 * `holdfast receipt`: an operator finds a sale by the receipt number a clerk
 * reads out (GET /v1/admin/receipts/:number) and prints its receipt as
 * plain text, HTML or ESC/POS bytes, marked COPY (a reprint never records
 * an op).
 */
import { writeFileSync } from 'node:fs';
import {
  isLocaleTag,
  negotiateLocale,
  type PaperWidth,
  type Receipt,
  receiptEscPos,
  receiptHtml,
  receiptText,
} from '@holdfast/domain';
import { parseFlags, requiredString, stringFlag, UsageError } from '../args.js';
import { OPERATOR_FLAGS, operatorGet, operatorTarget } from './operator-request.js';

export const RECEIPT_HELP = `holdfast receipt --number N --server URL (--operator-token T | --operator-token-file F) [--paper 58|80] [--lang TAG] [--format text|html|escpos] [--out FILE] [--json]

Finds the op a receipt number names (as a clerk reads it: any case, spaces,
O for 0) and prints its receipt, marked COPY. Two devices of a fleet can
share a number's device code: then every match is printed.
  --number N                the receipt number, e.g. K7M2Q-000123            required
  --server URL              the Holdfast server
  --operator-token T        operator bearer token
  --operator-token-file F   read it from F
  --paper 58|80             paper width in mm (32 or 48 columns)          default 80
  --lang TAG                language and money format: en, es, pt, es-MX…   default en
  --format text|html|escpos how to print it                               default text
  --out FILE                write to FILE instead of stdout (needed for escpos)
  --json                    print the server's answer as JSON instead
Exit 0 with the receipt, 1 if the server refused, has no such receipt or could not be reached.`;

interface ReceiptAnswer {
  number: string;
  matches: {
    device: string;
    deviceLabel: string;
    stored: { op: { id: string; kind: string } };
    receipt: Receipt | null;
  }[];
}

const FORMATS = ['text', 'html', 'escpos'] as const;

export async function receiptCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    ...OPERATOR_FLAGS,
    number: { type: 'string' },
    paper: { type: 'string' },
    lang: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (flags.help) {
    console.log(RECEIPT_HELP);
    return 0;
  }
  const number = requiredString(flags, 'number');
  const paperFlag = stringFlag(flags, 'paper') ?? '80';
  if (paperFlag !== '58' && paperFlag !== '80') throw new UsageError(`--paper must be 58 or 80, got "${paperFlag}"`);
  const paper = Number(paperFlag) as PaperWidth;
  const lang = stringFlag(flags, 'lang') ?? 'en';
  if (!isLocaleTag(lang)) throw new UsageError(`--lang must be a language tag such as es or pt-BR, got "${lang}"`);
  const format = stringFlag(flags, 'format') ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${format}"`);
  }
  const out = stringFlag(flags, 'out');
  if (format === 'escpos' && out === undefined) throw new UsageError('--format escpos writes bytes: give --out FILE');

  const { server, token } = operatorTarget(flags);
  const answer = await operatorGet<ReceiptAnswer>(
    'receipt',
    new URL(`${server}/v1/admin/receipts/${encodeURIComponent(number)}`),
    token,
  );
  if (answer === null) return 1;
  if (flags.json) {
    console.log(JSON.stringify(answer, null, 2));
    return 0;
  }
  const options = { locale: negotiateLocale(lang), paper };
  const printable = answer.matches.filter((m) => m.receipt !== null);
  for (const m of answer.matches) {
    if (m.receipt === null) {
      console.error(
        `holdfast receipt: ${answer.number} on ${m.deviceLabel} (${m.device}) is a ${m.stored.op.kind}, which prints no receipt`,
      );
    }
  }
  if (printable.length === 0) return 1;
  const copies = printable.map((m) => ({ ...(m.receipt as Receipt), copy: true }));
  if (format === 'escpos') {
    const jobs = copies.map((r) => receiptEscPos(r, options));
    const bytes = new Uint8Array(jobs.reduce((n, j) => n + j.length, 0));
    let at = 0;
    for (const j of jobs) {
      bytes.set(j, at);
      at += j.length;
    }
    writeFileSync(out as string, bytes);
    return 0;
  }
  const text = copies.map((r) => (format === 'html' ? receiptHtml(r, options) : receiptText(r, options))).join('\n');
  if (out !== undefined) writeFileSync(out, text);
  else process.stdout.write(text);
  return 0;
}
