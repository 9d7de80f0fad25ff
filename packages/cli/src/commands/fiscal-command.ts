/**
 * `holdfast fiscal`: e-invoicing without curl (docs/e-invoicing.md), a thin
 * client of /v1/admin/fiscal/…: the bills and credit notes with their
 * state, an operator's action on a rejected or refused bill, and each
 * location's jurisdiction. The server validates and answers coded errors
 * (fiscal_bill_unknown, fiscal_bill_not_rejected, invalid_request naming the
 * field), printed as they come.
 */
import { formatMoney } from '@holdfast/protocol';
import { requiredString, stringFlag } from '../args.js';
import { parseSub, print, table } from './admin-commands.js';
import { operatorCall, operatorTarget } from './operator-request.js';

export const FISCAL_HELP = `holdfast fiscal bills|show OPID|act OPID|credit-notes|jurisdictions|set-jurisdiction LOCATION --server URL (--operator-token T | --operator-token-file F) [--json]

  bills [--state pending|registered|rejected] [--device D]
                          every bill: provisional and fiscal number, state, attempts, rejection or refusal
  show OPID               one bill, the operators' actions on it and its credit notes
  act OPID --action resubmit|cancel|non_fiscal --note N [--tax-id T]
                          on a rejected (or refused) bill, audited under your name: resubmit (with
                          the corrected seller tax id), cancel with a credit note, or accept as non-fiscal
  credit-notes            every credit note (refunds, voids, cancellations) and its state
  jurisdictions           the jurisdictions known, their deadlines, and each location's
  set-jurisdiction LOCATION --jurisdiction MX|IN|BR|CO
                          bills of the location enrolled from now on take its deadline
Server and token also come from HOLDFAST_URL and HOLDFAST_OPERATOR_TOKEN(_FILE).`;

interface Bill {
  opId: string;
  device: string;
  seq: number;
  provisionalNumber: string;
  state: string;
  fiscalNumber: string | null;
  attempts: number;
  lastError: string | null;
  rejectCode: string | null;
  refused: boolean;
  resolution: string | null;
  submission: number;
  jurisdiction: string | null;
}

interface CreditNote {
  opId: string;
  billProvisionalNumber: string;
  billFiscalNumber: string | null;
  reason: string;
  total: number;
  currency: string;
  state: string;
  fiscalNumber: string | null;
  rejectCode: string | null;
}

interface Action {
  action: string;
  note: string;
  by: string;
  at: number;
}

const BILL_HEADER = ['op', 'provisional', 'state', 'fiscal no.', 'attempts', 'why', 'jurisdiction'];
const billRow = (b: Bill) => [
  b.opId,
  b.provisionalNumber,
  b.resolution === null ? b.state : `${b.state} (${b.resolution})`,
  b.fiscalNumber ?? '-',
  String(b.attempts),
  b.rejectCode === null ? (b.lastError ?? '-') : `${b.refused ? 'refused' : 'rejected'}: ${b.rejectCode}`,
  b.jurisdiction ?? 'default',
];

const NOTE_HEADER = ['credit note', 'bill', 'bill fiscal no.', 'reason', 'amount', 'state', 'fiscal no.'];
const noteRow = (n: CreditNote) => [
  n.opId,
  n.billProvisionalNumber,
  n.billFiscalNumber ?? '-',
  n.reason,
  formatMoney(n.total, n.currency),
  n.rejectCode === null ? n.state : `${n.state}: ${n.rejectCode}`,
  n.fiscalNumber ?? '-',
];

function detailLines(d: { bill: Bill; actions: Action[]; creditNotes: CreditNote[] }): string[] {
  return [
    ...table(BILL_HEADER, [billRow(d.bill)]),
    '',
    ...(d.actions.length === 0
      ? ['no operator actions']
      : table(
          ['at', 'action', 'by', 'note'],
          d.actions.map((a) => [new Date(a.at).toISOString(), a.action, a.by, a.note]),
        )),
    '',
    ...(d.creditNotes.length === 0 ? ['no credit notes'] : table(NOTE_HEADER, d.creditNotes.map(noteRow))),
  ];
}

export async function fiscalCommand(argv: string[]): Promise<number> {
  const parsed = parseSub(
    argv,
    {
      bills: { id: false, options: { state: { type: 'string' }, device: { type: 'string' } } },
      show: { id: true, options: {} },
      act: {
        id: true,
        options: { action: { type: 'string' }, note: { type: 'string' }, 'tax-id': { type: 'string' } },
      },
      'credit-notes': { id: false, options: {} },
      jurisdictions: { id: false, options: {} },
      'set-jurisdiction': { id: true, options: { jurisdiction: { type: 'string' } } },
    },
    'fiscal',
  );
  if (!parsed || parsed.flags.help) {
    console.log(FISCAL_HELP);
    return parsed ? 0 : argv.length === 0 ? 2 : 0;
  }
  const { sub, id, flags } = parsed;
  const { server, token } = operatorTarget(flags);
  const base = `${server}/v1/admin/fiscal`;
  const json = flags.json === true;
  if (sub === 'bills') {
    const url = new URL(`${base}/bills`);
    for (const name of ['state', 'device']) {
      const value = stringFlag(flags, name);
      if (value !== undefined) url.searchParams.set(name, value);
    }
    const answer = await operatorCall<{ bills: Bill[] }>('fiscal', 'GET', url, token);
    if (answer === null) return 1;
    return print(json, answer, () =>
      answer.bills.length === 0 ? ['no bills'] : table(BILL_HEADER, answer.bills.map(billRow)),
    );
  }
  if (sub === 'credit-notes') {
    const answer = await operatorCall<{ creditNotes: CreditNote[] }>(
      'fiscal',
      'GET',
      new URL(`${base}/credit-notes`),
      token,
    );
    if (answer === null) return 1;
    return print(json, answer, () =>
      answer.creditNotes.length === 0 ? ['no credit notes'] : table(NOTE_HEADER, answer.creditNotes.map(noteRow)),
    );
  }
  if (sub === 'jurisdictions') {
    const answer = await operatorCall<{
      known: Record<string, { name: string; deadlineHours: number }>;
      locations: { location: string; jurisdiction: string; setBy: string; setAt: number }[];
    }>('fiscal', 'GET', new URL(`${base}/jurisdictions`), token);
    if (answer === null) return 1;
    return print(json, answer, () => [
      ...table(
        ['jurisdiction', 'name', 'deadline (h)'],
        Object.entries(answer.known).map(([k, v]) => [k, v.name, String(v.deadlineHours)]),
      ),
      '',
      ...(answer.locations.length === 0
        ? ['no location has a jurisdiction: every bill has the server default deadline']
        : table(
            ['location', 'jurisdiction', 'set by', 'at'],
            answer.locations.map((l) => [l.location, l.jurisdiction, l.setBy, new Date(l.setAt).toISOString()]),
          )),
    ]);
  }
  if (sub === 'set-jurisdiction') {
    const answer = await operatorCall<{ location: string; jurisdiction: string }>(
      'fiscal',
      'PUT',
      new URL(`${base}/jurisdictions/${encodeURIComponent(id as string)}`),
      token,
      { jurisdiction: requiredString(flags, 'jurisdiction') },
    );
    if (answer === null) return 1;
    return print(json, answer, () => [`${answer.location}: ${answer.jurisdiction}`]);
  }
  const billUrl = `${base}/bills/${encodeURIComponent(id as string)}`;
  const answer =
    sub === 'show'
      ? await operatorCall<{ bill: Bill; actions: Action[]; creditNotes: CreditNote[] }>(
          'fiscal',
          'GET',
          new URL(billUrl),
          token,
        )
      : await operatorCall<{ bill: Bill; actions: Action[]; creditNotes: CreditNote[] }>(
          'fiscal',
          'POST',
          new URL(`${billUrl}/actions`),
          token,
          {
            action: requiredString(flags, 'action'),
            note: requiredString(flags, 'note'),
            ...(stringFlag(flags, 'tax-id') !== undefined ? { sellerTaxId: stringFlag(flags, 'tax-id') } : {}),
          },
        );
  if (answer === null) return 1;
  return print(json, answer, () => detailLines(answer));
}
