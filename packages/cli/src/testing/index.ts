/**
 * @holdfast/cli/testing — running the `holdfast` command as real child
 * processes, for end-to-end tests (packages/e2e): CliProcess, a `holdfast
 * server` process and its operator API, a free port, and a stopped till's
 * journal read from disk. Not for production code.
 */

export { type JournalState, readJournal } from '../chaos/read-journal.js';
export { freePort, healthy, ServerAdmin, startServerProcess, startServerProcessWith } from '../chaos/server-process.js';
export { CLI_BIN, type CliEvent, CliProcess, childNodeFlags, type Exit } from '../cli-process.js';
