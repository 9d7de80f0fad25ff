/**
 * The one way browser tests start a browser: Debian's `chromium`, driven by
 * playwright-core (which ships no browser; nothing is ever downloaded).
 *
 * `.ci/run` installs the Debian package with apt-get when /usr/bin/chromium
 * is missing; `HOLDFAST_CHROMIUM` points at another binary. Every page is
 * given a fresh context (its own storage, OPFS and service workers) unless
 * a test keeps one on purpose (a reload, a restart of the browser process).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type LaunchOptions } from 'playwright-core';

export const CHROMIUM_PATH = process.env.HOLDFAST_CHROMIUM ?? '/usr/bin/chromium';

/** Why browser tests cannot run here, or null when they can. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM_PATH)
    ? null
    : `no browser at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install chromium) or set HOLDFAST_CHROMIUM`;
}

/** Launches headless Chromium; throws naming the path when it is missing (a test must not pass without it). */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  return chromium.launch({
    ...options,
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: chromiumArgs(options.args),
  });
}

type PersistentOptions = NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>;

/**
 * Launches headless Chromium on the profile `userDataDir`, kept on purpose: its storage, OPFS and
 * service workers outlive a reload or a restart of the browser on the same directory. Viewport
 * 1280×800 unless `options` says otherwise.
 */
export async function launchPersistentChromium(
  userDataDir: string,
  options: PersistentOptions = {},
): Promise<BrowserContext> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  return chromium.launchPersistentContext(userDataDir, {
    viewport: { width: 1280, height: 800 },
    ...options,
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: chromiumArgs(options.args),
  });
}

// The container runs as root: Chromium's sandbox needs user namespaces it does not have here.
function chromiumArgs(extra: string[] = []): string[] {
  return ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', ...extra];
}

/** Pids of the Chromium processes on `userDataDir` (a test's own browser, found by its unique profile: to kill it as a crash would). */
export function browserPids(userDataDir: string): number[] {
  const out: number[] = [];
  for (const entry of execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')) {
    const match = /^\s*(\d+)\s+(.*)$/.exec(entry);
    if (match && (match[2] as string).includes(`--user-data-dir=${userDataDir}`)) out.push(Number(match[1]));
  }
  return out;
}
