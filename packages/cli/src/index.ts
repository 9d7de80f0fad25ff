/**
 * @holdfast/cli — the `holdfast` command's building blocks, for tests and embedding.
 */
export { intFlag, parseFlags, requiredString, stringFlag, UsageError } from './args.js';
export { type ChaosOptions, type ChaosReport, runChaos } from './chaos/chaos-run.js';
export { CHAOS_HELP, chaosCommand } from './commands/chaos-command.js';
export { DEMO_HELP, demoCommand } from './commands/demo-command.js';
export { EXPOSURE_HELP, exposureCommand, exposureRows, renderExposure } from './commands/exposure-command.js';
export { SERVER_HELP, serverCommand } from './commands/server-command.js';
export { SIMULATE_HELP, simulateCommand } from './commands/simulate-command.js';
export { TILL_HELP, tillCommand } from './commands/till-command.js';
export { ProgressBar } from './progress-bar.js';
