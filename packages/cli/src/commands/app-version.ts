/**
 * What the CLI's terminals report as their software (protocol
 * device-report.ts; shown in the console's fleet): `<name>/<version of
 * @holdfast/cli>`. src/commands and dist/commands both sit two levels below
 * the package.json.
 */
import { readFileSync } from 'node:fs';

export function cliAppVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `${name}/${pkg.version}`;
}
