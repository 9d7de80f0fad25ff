/** A one-line description of the machine, for benchmark reports. */
import { cpus, totalmem } from 'node:os';

export function os(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}
