#!/usr/bin/env node
import { readFileSync } from 'node:fs';
/**
 * The `holdfast` command.
 */
import { DataDirError, TlsConfigError } from '@holdfast/server';
import { UsageError } from './args.js';
import {
  BETTING_HELP,
  bettingCommand,
  DEVICES_HELP,
  devicesCommand,
  ENROLL_TOKEN_HELP,
  EXCEPTIONS_HELP,
  enrollTokenCommand,
  exceptionsCommand,
  POLICY_HELP,
  policyCommand,
  SERVER_KEYS_HELP,
  serverKeysCommand,
} from './commands/admin-commands.js';
import { BACKUP_HELP, backupCommand, RESTORE_HELP, restoreCommand } from './commands/backup-command.js';
import { BENCH_HELP, benchCommand } from './commands/bench-command.js';
import { CATALOG_HELP, catalogCommand } from './commands/catalog-command.js';
import { CHAOS_HELP, chaosCommand } from './commands/chaos-command.js';
import { DEMO_HELP, demoCommand } from './commands/demo-command.js';
import { EXPOSURE_HELP, exposureCommand } from './commands/exposure-command.js';
import { FISCAL_HELP, fiscalCommand } from './commands/fiscal-command.js';
import { FISCAL_SIM_HELP, fiscalSimCommand } from './commands/fiscal-sim-command.js';
import { LOYALTY_HELP, loyaltyCommand } from './commands/loyalty-command.js';
import { MIGRATE_HELP, migrateCommand } from './commands/migrate-command.js';
import {
  LOGIN_HELP,
  loginCommand,
  OPERATORS_HELP,
  operatorsCommand,
  TOKENS_HELP,
  tokensCommand,
} from './commands/operators-command.js';
import { PROCESSOR_SIM_HELP, processorSimCommand } from './commands/processor-sim-command.js';
import { RECEIPT_HELP, receiptCommand } from './commands/receipt-command.js';
import { REPORT_HELP, reportCommand } from './commands/report-command.js';
import { RESULTS_SIM_HELP, resultsSimCommand } from './commands/results-sim-command.js';
import { SERVER_HELP, serverCommand } from './commands/server-command.js';
import { SIMULATE_HELP, simulateCommand } from './commands/simulate-command.js';
import { STOCK_HELP, stockCommand } from './commands/stock-command.js';
import { TILL_HELP, tillCommand } from './commands/till-command.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  server: { run: serverCommand, help: SERVER_HELP },
  migrate: { run: migrateCommand, help: MIGRATE_HELP },
  'processor-sim': { run: processorSimCommand, help: PROCESSOR_SIM_HELP },
  till: { run: tillCommand, help: TILL_HELP },
  exposure: { run: exposureCommand, help: EXPOSURE_HELP },
  report: { run: reportCommand, help: REPORT_HELP },
  receipt: { run: receiptCommand, help: RECEIPT_HELP },
  operators: { run: operatorsCommand, help: OPERATORS_HELP },
  tokens: { run: tokensCommand, help: TOKENS_HELP },
  login: { run: loginCommand, help: LOGIN_HELP },
  'enroll-token': { run: enrollTokenCommand, help: ENROLL_TOKEN_HELP },
  devices: { run: devicesCommand, help: DEVICES_HELP },
  exceptions: { run: exceptionsCommand, help: EXCEPTIONS_HELP },
  policy: { run: policyCommand, help: POLICY_HELP },
  'server-keys': { run: serverKeysCommand, help: SERVER_KEYS_HELP },
  betting: { run: bettingCommand, help: BETTING_HELP },
  loyalty: { run: loyaltyCommand, help: LOYALTY_HELP },
  stock: { run: stockCommand, help: STOCK_HELP },
  catalog: { run: catalogCommand, help: CATALOG_HELP },
  backup: { run: backupCommand, help: BACKUP_HELP },
  restore: { run: restoreCommand, help: RESTORE_HELP },
  'results-sim': { run: resultsSimCommand, help: RESULTS_SIM_HELP },
  demo: { run: demoCommand, help: DEMO_HELP },
  simulate: { run: simulateCommand, help: SIMULATE_HELP },
  bench: { run: benchCommand, help: BENCH_HELP },
  chaos: { run: chaosCommand, help: CHAOS_HELP },
  'fiscal-sim': { run: fiscalSimCommand, help: FISCAL_SIM_HELP },
  fiscal: { run: fiscalCommand, help: FISCAL_HELP },
};

const USAGE = `usage: holdfast <command> [options]

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.help.split('\n')[0]}`)
  .join('\n')}

holdfast <command> --help for a command's options; holdfast --version for the version.
Settings also come from HOLDFAST_* environment variables and --config FILE (docs/operations.md, "Configuration").`;

/** The version in this package's package.json (dist/bin.js and src/bin.ts both sit one level below it). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(`holdfast ${version()}`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`holdfast: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
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
    if (error instanceof DataDirError || error instanceof TlsConfigError) {
      // A disk problem the operator fixes: one line naming the path and the cause, no stack.
      console.error(`holdfast ${name}: ${error.message}`);
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
