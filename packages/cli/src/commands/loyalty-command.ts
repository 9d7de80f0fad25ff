/**
 * `holdfast loyalty`: loyalty members without curl (docs/loyalty.md), a thin
 * client of /v1/admin/loyalty/members. The server validates and answers
 * coded errors (loyalty_member_exists, loyalty_member_unknown,
 * loyalty_points_invalid, loyalty_adjustment_exists), printed with the
 * field they name.
 */
import { requiredString, stringFlag, UsageError } from '../args.js';
import { parseSub, print, table } from './admin-commands.js';
import { operatorCall, operatorTarget } from './operator-request.js';

export const LOYALTY_HELP = `holdfast loyalty list|show CARD|create CARD --name N|adjust CARD --points P --reason R [--id ID] --server URL (--operator-token T | --operator-token-file F) [--json]

  list                    every member: card number, name, earned, redeemed, adjusted, balance
  show CARD               one member's account and every entry
  create CARD --name N    a new member with no points (CARD: 6..32 upper-case letters or digits)
  adjust CARD --points P --reason R [--id ID]
                          adds P points (negative: takes them back), audited; --id makes a retry apply once
Server and token also come from HOLDFAST_URL and HOLDFAST_OPERATOR_TOKEN(_FILE).`;

interface Account {
  member: string;
  name: string;
  earned: number;
  redeemed: number;
  adjusted: number;
  balance: number;
  overdrawnBy: string | null;
}

interface Entry {
  entryId: string;
  kind: string;
  points: number;
  sale: string | null;
  device: string | null;
  reason: string | null;
  actor: string | null;
  at: number;
}

const accountRow = (a: Account) => [
  a.member,
  a.name,
  String(a.earned),
  String(a.redeemed),
  String(a.adjusted),
  String(a.balance),
  a.overdrawnBy === null ? '-' : 'overdrawn',
];
const ACCOUNT_HEADER = ['card', 'name', 'earned', 'redeemed', 'adjusted', 'balance', 'state'];

function viewLines(view: { account: Account; entries: Entry[] }): string[] {
  return [
    ...table(ACCOUNT_HEADER, [accountRow(view.account)]),
    '',
    ...(view.entries.length === 0
      ? ['no entries']
      : table(
          ['at', 'kind', 'points', 'sale / reason', 'by'],
          view.entries.map((e) => [
            new Date(e.at).toISOString(),
            e.kind,
            String(e.points),
            e.sale ?? e.reason ?? '-',
            e.actor ?? e.device ?? '-',
          ]),
        )),
  ];
}

/** --points: a signed whole number (zero is the server's to refuse, with its code). */
function pointsFlag(flags: Record<string, unknown>): number {
  const raw = requiredString(flags, 'points');
  const n = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`--points must be a whole number, got "${raw}"`);
  return n;
}

export async function loyaltyCommand(argv: string[]): Promise<number> {
  const parsed = parseSub(
    argv,
    {
      list: { id: false, options: {} },
      show: { id: true, options: {} },
      create: { id: true, options: { name: { type: 'string' } } },
      adjust: {
        id: true,
        options: { points: { type: 'string' }, reason: { type: 'string' }, id: { type: 'string' } },
      },
    },
    'loyalty',
  );
  if (!parsed || parsed.flags.help) {
    console.log(LOYALTY_HELP);
    return parsed ? 0 : argv.length === 0 ? 2 : 0;
  }
  const { sub, id, flags } = parsed;
  const { server, token } = operatorTarget(flags);
  const base = `${server}/v1/admin/loyalty/members`;
  const json = flags.json === true;
  if (sub === 'list') {
    const answer = await operatorCall<{ members: Account[] }>('loyalty', 'GET', new URL(base), token);
    if (answer === null) return 1;
    return print(json, answer, () =>
      answer.members.length === 0 ? ['no loyalty members'] : table(ACCOUNT_HEADER, answer.members.map(accountRow)),
    );
  }
  const url = new URL(`${base}/${encodeURIComponent(id as string)}`);
  if (sub === 'create') {
    const answer = await operatorCall<Account>('loyalty', 'POST', new URL(base), token, {
      member: id,
      name: requiredString(flags, 'name'),
    });
    if (answer === null) return 1;
    return print(json, answer, () => table(ACCOUNT_HEADER, [accountRow(answer)]));
  }
  const answer =
    sub === 'show'
      ? await operatorCall<{ account: Account; entries: Entry[] }>('loyalty', 'GET', url, token)
      : await operatorCall<{ account: Account; entries: Entry[] }>(
          'loyalty',
          'POST',
          new URL(`${url.href}/adjust`),
          token,
          {
            points: pointsFlag(flags),
            reason: requiredString(flags, 'reason'),
            ...(stringFlag(flags, 'id') !== undefined ? { id: stringFlag(flags, 'id') } : {}),
          },
        );
  if (answer === null) return 1;
  return print(json, answer, () => viewLines(answer));
}
