/**
 * Test hooks into a Terminal: what tests need to drive that the SDK's
 * public API leaves to the device feed.
 */
import type { Terminal } from '../terminal.js';
import { testHooksOf } from '../terminal-test-hooks.js';

/**
 * Applies a `wristband.blocked` / `wristband.unblocked` feed item (data as
 * in the server's ledger event) as the feed would, without a server.
 * Returns true if the terminal's blocked list changed.
 */
export function applyWristbandNotice(terminal: Terminal, type: string, data: unknown): boolean {
  return testHooksOf(terminal).applyWristbandNotice(type, data);
}
