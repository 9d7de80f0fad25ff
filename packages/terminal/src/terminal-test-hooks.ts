/**
 * Test hooks: what tests may do to a Terminal that its public API leaves to
 * the server (e.g. a wristband block, which only the device feed applies).
 * Each Terminal registers its hooks here at open; they are reached through
 * `@holdfast/terminal/testing`, never from the package root.
 */
export interface TerminalTestHooks {
  /** Applies a `wristband.*` feed item as the feed would; true if the blocked list changed. */
  applyWristbandNotice(type: string, data: unknown): boolean;
}

// Keyed by the Terminal object; typed `object` so that this module need not import terminal.ts (which imports it).
const hooksByTerminal = new WeakMap<object, TerminalTestHooks>();

export function registerTestHooks(terminal: object, hooks: TerminalTestHooks): void {
  hooksByTerminal.set(terminal, hooks);
}

export function testHooksOf(terminal: object): TerminalTestHooks {
  const hooks = hooksByTerminal.get(terminal);
  if (!hooks) throw new TypeError('not a Terminal');
  return hooks;
}
