/**
 * Operator accounts from the command line (docs/staff-and-roles.md,
 * "Operators in the back office"), over the server's operator API:
 *
 *   holdfast operators add|list|set-role|reset-password|disable|enable
 *   holdfast tokens create|list|revoke
 *   holdfast login          a session written to a file (0600), usable as --operator-token-file
 *
 * Passwords are read from a file or stdin, never from a flag (flags show in `ps`).
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { parseFlags, requiredString, stringFlag, UsageError } from '../args.js';
import { parseAt } from './exposure-command.js';
import { OPERATOR_FLAGS, operatorCall, operatorTarget } from './operator-request.js';

const ROLES = ['viewer', 'operator', 'supervisor', 'admin', 'auditor'];

export const OPERATORS_HELP = `holdfast operators add|list|set-role|reset-password|disable|enable --server URL (--operator-token T | --operator-token-file F) …

Manages operator accounts (needs an admin: an admin's session or API token, or the bootstrap token).
  add             --username U --role R (--password-file F | --password-stdin)
  list            [--json]
  set-role        --username U --role R     (R: ${ROLES.join(', ')})
  reset-password  --username U (--password-file F | --password-stdin)   ends the account's sessions
  disable         --username U              ends its sessions, revokes its API tokens
  enable          --username U
Exit 0 on success, 1 if the server refused or could not be reached, 2 on a usage error.`;

export const TOKENS_HELP = `holdfast tokens create|list|revoke --server URL (--operator-token T | --operator-token-file F) …

Per-user API tokens. The token is printed once, at creation; the server keeps only its hash.
  create  --name N [--role R] [--expires TIME] [--owner U] [--json]
          R: the caller's role or a narrower one; TIME: epoch ms or ISO 8601;
          --owner: an admin creates a token for U (the bootstrap token must name one)
  list    [--all] [--json]      --all: everyone's (admin)
  revoke  --id ID
Exit 0 on success, 1 if the server refused or could not be reached, 2 on a usage error.`;

export const LOGIN_HELP = `holdfast login --server URL --username U (--password-file F | --password-stdin) --out FILE

Logs in with a password and writes the session (valid until idle 30 min or 12 h) to FILE,
created 0600, for the operator commands' --operator-token-file FILE.
Exit 0 on success, 1 if refused (wrong password, locked) or unreachable, 2 on a usage error.`;

function readPassword(flags: Record<string, unknown>): string {
  const file = stringFlag(flags, 'password-file');
  const stdin = flags['password-stdin'] === true;
  if ((file === undefined) === !stdin) throw new UsageError('give --password-file F or --password-stdin (one of them)');
  const text = stdin ? readFileSync(0, 'utf8') : readFileSync(file as string, 'utf8');
  return text.replace(/\r?\n$/, '');
}

function role(flags: Record<string, unknown>, required: boolean): string | undefined {
  const r = required ? requiredString(flags, 'role') : stringFlag(flags, 'role');
  if (r !== undefined && !ROLES.includes(r))
    throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got "${r}"`);
  return r;
}

function subcommand(argv: string[], names: string[], help: string): [string | undefined, string[]] {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(help);
    return [undefined, []];
  }
  if (!names.includes(name)) throw new UsageError(`unknown subcommand "${name}": one of ${names.join(', ')}`);
  return [name, rest];
}

interface OperatorView {
  id: string;
  username: string;
  role: string;
  disabledAt: number | null;
}

export async function operatorsCommand(argv: string[]): Promise<number> {
  const names = ['add', 'list', 'set-role', 'reset-password', 'disable', 'enable'];
  const [name, rest] = subcommand(argv, names, OPERATORS_HELP);
  if (name === undefined) return 0;
  const flags = parseFlags(rest, {
    ...OPERATOR_FLAGS,
    username: { type: 'string' },
    role: { type: 'string' },
    'password-file': { type: 'string' },
    'password-stdin': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (flags.help) {
    console.log(OPERATORS_HELP);
    return 0;
  }
  const { server, token } = operatorTarget(flags);
  const command = `operators ${name}`;
  const at = (path: string) => new URL(`${server}/v1/admin/operators${path}`);
  const user = () => encodeURIComponent(requiredString(flags, 'username'));
  let answer: OperatorView | null;
  switch (name) {
    case 'list': {
      const list = await operatorCall<{ operators: OperatorView[] }>(command, 'GET', at(''), token);
      if (list === null) return 1;
      if (flags.json) console.log(JSON.stringify(list.operators));
      else {
        for (const o of list.operators) {
          console.log(
            `${o.username.padEnd(24)} ${o.role.padEnd(10)} ${o.disabledAt === null ? 'active' : 'disabled'}  ${o.id}`,
          );
        }
      }
      return 0;
    }
    case 'add':
      answer = await operatorCall<OperatorView>(command, 'POST', at(''), token, {
        username: requiredString(flags, 'username'),
        role: role(flags, true),
        password: readPassword(flags),
      });
      break;
    case 'set-role':
      answer = await operatorCall<OperatorView>(command, 'POST', at(`/${user()}/role`), token, {
        role: role(flags, true),
      });
      break;
    case 'reset-password':
      answer = await operatorCall<OperatorView>(command, 'POST', at(`/${user()}/password`), token, {
        password: readPassword(flags),
      });
      break;
    default:
      answer = await operatorCall<OperatorView>(command, 'POST', at(`/${user()}/${name}`), token, {});
  }
  if (answer === null) return 1;
  console.log(
    flags.json
      ? JSON.stringify(answer)
      : `${answer.username} ${answer.role} ${answer.disabledAt === null ? 'active' : 'disabled'} (${answer.id})`,
  );
  return 0;
}

interface TokenView {
  id: string;
  name: string;
  role: string;
  operatorId: string;
  expiresAt: number | null;
  revokedAt: number | null;
}

export async function tokensCommand(argv: string[]): Promise<number> {
  const [name, rest] = subcommand(argv, ['create', 'list', 'revoke'], TOKENS_HELP);
  if (name === undefined) return 0;
  const flags = parseFlags(rest, {
    ...OPERATOR_FLAGS,
    name: { type: 'string' },
    role: { type: 'string' },
    expires: { type: 'string' },
    owner: { type: 'string' },
    id: { type: 'string' },
    all: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (flags.help) {
    console.log(TOKENS_HELP);
    return 0;
  }
  const { server, token } = operatorTarget(flags);
  const command = `tokens ${name}`;
  if (name === 'create') {
    const r = role(flags, false);
    const expires = stringFlag(flags, 'expires');
    const owner = stringFlag(flags, 'owner');
    const created = await operatorCall<TokenView & { token: string }>(
      command,
      'POST',
      new URL(`${server}/v1/admin/tokens`),
      token,
      {
        name: requiredString(flags, 'name'),
        ...(r !== undefined ? { role: r } : {}),
        ...(expires !== undefined ? { expiresAt: parseAt(expires) } : {}),
        ...(owner !== undefined ? { owner } : {}),
      },
    );
    if (created === null) return 1;
    if (flags.json) console.log(JSON.stringify(created));
    else {
      console.log(created.token);
      console.error(`API token "${created.name}" (${created.role}, id ${created.id}): shown once, store it now`);
    }
    return 0;
  }
  if (name === 'list') {
    const url = new URL(`${server}/v1/admin/tokens`);
    if (flags.all) url.searchParams.set('all', 'true');
    const list = await operatorCall<{ tokens: TokenView[] }>(command, 'GET', url, token);
    if (list === null) return 1;
    if (flags.json) console.log(JSON.stringify(list.tokens));
    else {
      for (const t of list.tokens) {
        const state =
          t.revokedAt !== null
            ? 'revoked'
            : t.expiresAt !== null
              ? `expires ${new Date(t.expiresAt).toISOString()}`
              : 'active';
        console.log(`${t.id}  ${t.name.padEnd(24)} ${t.role.padEnd(10)} ${state}`);
      }
    }
    return 0;
  }
  const id = encodeURIComponent(requiredString(flags, 'id'));
  const revoked = await operatorCall<TokenView>(
    command,
    'POST',
    new URL(`${server}/v1/admin/tokens/${id}/revoke`),
    token,
  );
  if (revoked === null) return 1;
  console.log(flags.json ? JSON.stringify(revoked) : `revoked ${revoked.name} (${revoked.id})`);
  return 0;
}

export async function loginCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    server: { type: 'string' },
    username: { type: 'string' },
    'password-file': { type: 'string' },
    'password-stdin': { type: 'boolean' },
    out: { type: 'string' },
  });
  if (flags.help) {
    console.log(LOGIN_HELP);
    return 0;
  }
  const server = requiredString(flags, 'server').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(server))
    throw new UsageError(`--server must be an http:// or https:// URL, got "${server}"`);
  const out = requiredString(flags, 'out');
  const username = requiredString(flags, 'username');
  const password = readPassword(flags);
  let res: Response;
  try {
    res = await fetch(`${server}/v1/admin/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    console.error(`holdfast login: cannot reach ${server}: ${(error as Error).message}`);
    return 1;
  }
  const body = (await res.json().catch(() => null)) as {
    session?: string;
    expiresAt?: number;
    code?: string;
    message?: string;
  } | null;
  if (!res.ok || typeof body?.session !== 'string') {
    console.error(`holdfast login: ${res.status} ${body?.code ?? ''} ${body?.message ?? ''}`.trimEnd());
    return 1;
  }
  writeFileSync(out, `${body.session}\n`, { mode: 0o600 });
  chmodSync(out, 0o600); // a file that existed keeps its mode otherwise
  console.error(
    `logged in as ${username}; session in ${out} until ${new Date(body.expiresAt ?? 0).toISOString()} (or 30 min idle)`,
  );
  return 0;
}
