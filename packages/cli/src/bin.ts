#!/usr/bin/env node
/**
 * The `holdfast` command.
 */
import { UsageError } from './args.js';
import { BENCH_HELP, benchCommand } from './commands/bench-command.js';
import { CHAOS_HELP, chaosCommand } from './commands/chaos-command.js';
import { DEMO_HELP, demoCommand } from './commands/demo-command.js';
import { EXPOSURE_HELP, exposureCommand } from './commands/exposure-command.js';
import { MIGRATE_HELP, migrateCommand } from './commands/migrate-command.js';
import { PROCESSOR_SIM_HELP, processorSimCommand } from './commands/processor-sim-command.js';
import { REPORT_HELP, reportCommand } from './commands/report-command.js';
import { RESULTS_SIM_HELP, resultsSimCommand } from './commands/results-sim-command.js';
import { SERVER_HELP, serverCommand } from './commands/server-command.js';
import { SIMULATE_HELP, simulateCommand } from './commands/simulate-command.js';
import { TILL_HELP, tillCommand } from './commands/till-command.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  server: { run: serverCommand, help: SERVER_HELP },
  migrate: { run: migrateCommand, help: MIGRATE_HELP },
  'processor-sim': { run: processorSimCommand, help: PROCESSOR_SIM_HELP },
  till: { run: tillCommand, help: TILL_HELP },
  exposure: { run: exposureCommand, help: EXPOSURE_HELP },
  report: { run: reportCommand, help: REPORT_HELP },
  'results-sim': { run: resultsSimCommand, help: RESULTS_SIM_HELP },
  demo: { run: demoCommand, help: DEMO_HELP },
  simulate: { run: simulateCommand, help: SIMULATE_HELP },
  bench: { run: benchCommand, help: BENCH_HELP },
  chaos: { run: chaosCommand, help: CHAOS_HELP },
};

const USAGE = `usage: holdfast <command> [options]

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.help.split('\n')[0]}`)
  .join('\n')}

holdfast <command> --help for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`holdfast: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`holdfast ${name}: ${error.message}\n\n${command.help}`);
      return 2;
    }
    console.error(`holdfast ${name}: ${(error as Error).stack ?? String(error)}`);
    return 1;
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
