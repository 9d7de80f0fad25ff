#!/usr/bin/env node
import { readFileSync } from 'node:fs';
/**
 * The `holdfast` command.
 */
import { UsageError } from './args.js';

interface Command {
  run: (argv: string[]) => Promise<number>;
  help: string;
}

/**
 * Each command's module is imported when that command runs: `holdfast login` or `holdfast devices`
 * need an HTTP client, not the server, the simulator and Fastify (loading every command costs
 * ~1.2 s of CPU at start, an admin command's own module ~0.3 s; tests start hundreds of these).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  server: async () => {
    const m = await import('./commands/server-command.js');
    return { run: m.serverCommand, help: m.SERVER_HELP };
  },
  migrate: async () => {
    const m = await import('./commands/migrate-command.js');
    return { run: m.migrateCommand, help: m.MIGRATE_HELP };
  },
  'processor-sim': async () => {
    const m = await import('./commands/processor-sim-command.js');
    return { run: m.processorSimCommand, help: m.PROCESSOR_SIM_HELP };
  },
  till: async () => {
    const m = await import('./commands/till-command.js');
    return { run: m.tillCommand, help: m.TILL_HELP };
  },
  exposure: async () => {
    const m = await import('./commands/exposure-command.js');
    return { run: m.exposureCommand, help: m.EXPOSURE_HELP };
  },
  report: async () => {
    const m = await import('./commands/report-command.js');
    return { run: m.reportCommand, help: m.REPORT_HELP };
  },
  receipt: async () => {
    const m = await import('./commands/receipt-command.js');
    return { run: m.receiptCommand, help: m.RECEIPT_HELP };
  },
  operators: async () => {
    const m = await import('./commands/operators-command.js');
    return { run: m.operatorsCommand, help: m.OPERATORS_HELP };
  },
  tokens: async () => {
    const m = await import('./commands/operators-command.js');
    return { run: m.tokensCommand, help: m.TOKENS_HELP };
  },
  login: async () => {
    const m = await import('./commands/operators-command.js');
    return { run: m.loginCommand, help: m.LOGIN_HELP };
  },
  'enroll-token': async () => {
    const m = await import('./commands/admin-commands.js');
    return { run: m.enrollTokenCommand, help: m.ENROLL_TOKEN_HELP };
  },
  devices: async () => {
    const m = await import('./commands/admin-commands.js');
    return { run: m.devicesCommand, help: m.DEVICES_HELP };
  },
  exceptions: async () => {
    const m = await import('./commands/admin-commands.js');
    return { run: m.exceptionsCommand, help: m.EXCEPTIONS_HELP };
  },
  policy: async () => {
    const m = await import('./commands/admin-commands.js');
    return { run: m.policyCommand, help: m.POLICY_HELP };
  },
  'server-keys': async () => {
    const m = await import('./commands/admin-commands.js');
    return { run: m.serverKeysCommand, help: m.SERVER_KEYS_HELP };
  },
  betting: async () => {
    const m = await import('./commands/admin-commands.js');
    return { run: m.bettingCommand, help: m.BETTING_HELP };
  },
  loyalty: async () => {
    const m = await import('./commands/loyalty-command.js');
    return { run: m.loyaltyCommand, help: m.LOYALTY_HELP };
  },
  stock: async () => {
    const m = await import('./commands/stock-command.js');
    return { run: m.stockCommand, help: m.STOCK_HELP };
  },
  catalog: async () => {
    const m = await import('./commands/catalog-command.js');
    return { run: m.catalogCommand, help: m.CATALOG_HELP };
  },
  backup: async () => {
    const m = await import('./commands/backup-command.js');
    return { run: m.backupCommand, help: m.BACKUP_HELP };
  },
  restore: async () => {
    const m = await import('./commands/backup-command.js');
    return { run: m.restoreCommand, help: m.RESTORE_HELP };
  },
  'results-sim': async () => {
    const m = await import('./commands/results-sim-command.js');
    return { run: m.resultsSimCommand, help: m.RESULTS_SIM_HELP };
  },
  demo: async () => {
    const m = await import('./commands/demo-command.js');
    return { run: m.demoCommand, help: m.DEMO_HELP };
  },
  simulate: async () => {
    const m = await import('./commands/simulate-command.js');
    return { run: m.simulateCommand, help: m.SIMULATE_HELP };
  },
  bench: async () => {
    const m = await import('./commands/bench-command.js');
    return { run: m.benchCommand, help: m.BENCH_HELP };
  },
  chaos: async () => {
    const m = await import('./commands/chaos-command.js');
    return { run: m.chaosCommand, help: m.CHAOS_HELP };
  },
  'fiscal-sim': async () => {
    const m = await import('./commands/fiscal-sim-command.js');
    return { run: m.fiscalSimCommand, help: m.FISCAL_SIM_HELP };
  },
  fiscal: async () => {
    const m = await import('./commands/fiscal-command.js');
    return { run: m.fiscalCommand, help: m.FISCAL_HELP };
  },
};

/** The usage text: every command's first help line (this one loads every command). */
async function usage(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  return `usage: holdfast <command> [options]

commands:
${commands.map((c) => `  ${c.help.split('\n')[0]}`).join('\n')}

holdfast <command> --help for a command's options; holdfast --version for the version.
Settings also come from HOLDFAST_* environment variables and --config FILE (docs/operations.md, "Configuration").`;
}

/**
 * The server's DataDirError or TlsConfigError. Matched by name before the server module is imported
 * for the instanceof check (it is loaded already when one of them was thrown), so that a failing admin
 * command does not load the whole server just to print its error.
 */
async function isDiskError(error: unknown): Promise<boolean> {
  if (!(error instanceof Error) || (error.name !== 'DataDirError' && error.name !== 'TlsConfigError')) return false;
  const { DataDirError, TlsConfigError } = await import('@holdfast/server');
  return error instanceof DataDirError || error instanceof TlsConfigError;
}

/** The version in this package's package.json (dist/bin.js and src/bin.ts both sit one level below it). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(`holdfast ${version()}`);
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    console.error(`holdfast: unknown command "${name}"\n\n${await usage()}`);
    return 2;
  }
  const command = await load();
  // A command must end by returning or throwing. If the event loop empties while it is still waiting
  // (a promise nothing will ever settle), Node would exit 0 having done nothing: say so and fail instead.
  const unfinished = () => {
    console.error(`holdfast ${name}: stopped before finishing (an operation never completed); exit 1`);
    process.exitCode = 1;
  };
  process.once('beforeExit', unfinished);
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`holdfast ${name}: ${error.message}\n\n${command.help}`);
      return 2;
    }
    if (await isDiskError(error)) {
      // A disk problem the operator fixes: one line naming the path and the cause, no stack.
      console.error(`holdfast ${name}: ${(error as Error).message}`);
      return 1;
    }
    console.error(`holdfast ${name}: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    process.removeListener('beforeExit', unfinished);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
