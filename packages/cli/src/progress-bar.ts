/**
 * A one-line progress bar on a terminal (stderr); silent when stderr is not
 * a TTY, so piped and --json output stay clean.
 */
export class ProgressBar {
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  #last = '';

  constructor(stream: NodeJS.WriteStream = process.stderr, enabled = stream.isTTY === true) {
    this.#stream = stream;
    this.#enabled = enabled;
  }

  update(fraction: number, label: string): void {
    if (!this.#enabled) return;
    const width = 30;
    const clamped = Math.min(1, Math.max(0, fraction));
    const filled = Math.round(clamped * width);
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(clamped * 100)).padStart(3)}% ${label}`;
    if (line === this.#last) return;
    this.#last = line;
    const columns = this.#stream.columns ?? 100;
    this.#stream.write(`\r${line.slice(0, columns - 1).padEnd(Math.min(columns - 1, this.#last.length))}`);
  }

  done(): void {
    if (this.#enabled && this.#last) this.#stream.write('\n');
    this.#last = '';
  }
}
