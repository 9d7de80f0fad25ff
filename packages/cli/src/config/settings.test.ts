/**
 * Settings from flags, HOLDFAST_* environment variables and a JSON config
 * file: precedence, and errors that name the key to fix. The last tests run
 * a real `holdfast server` configured only by environment and file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { intFlag, UsageError } from '../args.js';
import { freePort, healthy } from '../chaos/server-process.js';
import { CliProcess } from '../cli-process.js';
import { corsOriginFlags, SERVER_OPTIONS } from '../commands/server-command.js';
import { envName, loadSettings, settingLabel } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'holdfast-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const spec = {
  command: 'server',
  options: SERVER_OPTIONS,
  alternatives: [['operator-token', 'operator-token-file']],
} as const;

describe('loadSettings', () => {
  it('takes a flag over the environment, the environment over the file, the file over the default', () => {
    const config = file('precedence.json', JSON.stringify({ port: 7001, host: '127.0.0.2', 'log-level': 'warn' }));
    const env = { HOLDFAST_PORT: '7002', HOLDFAST_HOST: '127.0.0.3' };
    const s = loadSettings(['--config', config, '--port', '7003'], spec, env);
    assert.equal(s.port, '7003');
    assert.equal(settingLabel(s, 'port'), '--port');
    assert.equal(s.host, '127.0.0.3');
    assert.equal(settingLabel(s, 'host'), 'HOLDFAST_HOST');
    assert.equal(s['log-level'], 'warn');
    assert.equal(settingLabel(s, 'log-level'), `"log-level" in ${config}`);
    assert.equal(s.data, undefined);
    assert.equal(intFlag(s, 'body-limit', 4096, 1024, 8192), 4096);
  });

  it('docs/operations.md lists every server setting with its variable in the Configuration table', () => {
    const doc = readFileSync(new URL('../../../../docs/operations.md', import.meta.url), 'utf8');
    for (const name of Object.keys(SERVER_OPTIONS)) {
      assert.ok(doc.includes(`| \`--${name}\` | \`${envName(name)}\` | \`"${name}"\` |`), name);
    }
  });

  it('takes a repeatable flag as a list in the file and comma-separated in the environment', () => {
    const listed = file('cors.json', '{"cors-origin": ["https://till.example", "https://console.example"]}');
    assert.deepEqual(corsOriginFlags(loadSettings(['--config', listed], spec, {})), [
      'https://till.example',
      'https://console.example',
    ]);
    const env = { HOLDFAST_CORS_ORIGIN: 'https://a.example, https://b.example' };
    assert.deepEqual(corsOriginFlags(loadSettings([], spec, env)), ['https://a.example', 'https://b.example']);
    const bad = file('cors-bad.json', '{"cors-origin": [1]}');
    assert.throws(() => loadSettings(['--config', bad], spec, {}), /"cors-origin" in .* must be a string or a number/);
  });

  it('reads the config file named by HOLDFAST_CONFIG', () => {
    const config = file('by-env.json', '{"max-backlog": 9}');
    assert.equal(loadSettings([], spec, { HOLDFAST_CONFIG: config })['max-backlog'], '9');
  });

  it('derives HOLDFAST_<FLAG> names, with a prefix or an explicit name where given', () => {
    assert.equal(envName('operator-token-file'), 'HOLDFAST_OPERATOR_TOKEN_FILE');
    assert.equal(envName('data', 'HOLDFAST_TILL_'), 'HOLDFAST_TILL_DATA');
    const till = {
      command: 'till',
      envPrefix: 'HOLDFAST_TILL_',
      envNames: { server: 'HOLDFAST_URL' },
      options: { data: { type: 'string' }, server: { type: 'string' } },
    } as const;
    const s = loadSettings([], till, { HOLDFAST_DATA: '/server/data', HOLDFAST_URL: 'http://127.0.0.1:1' });
    assert.equal(s.data, undefined, "a till never takes the server's HOLDFAST_DATA");
    assert.equal(s.server, 'http://127.0.0.1:1');
  });

  it('a stronger source setting one of two alternatives hides the weaker source’s other one', () => {
    const config = file('token.json', '{"operator-token": "from-the-file"}');
    const s = loadSettings(['--config', config], spec, { HOLDFAST_OPERATOR_TOKEN_FILE: '/run/secrets/token' });
    assert.equal(s['operator-token-file'], '/run/secrets/token');
    assert.equal(s['operator-token'], undefined);
  });

  it('names the variable or the file key in a range error', () => {
    const fromEnv = loadSettings([], spec, { HOLDFAST_PORT: 'eighty' });
    assert.throws(
      () => intFlag(fromEnv, 'port', 8080, 0, 65535),
      /^UsageError: HOLDFAST_PORT must be a whole number from 0 to 65535, got "eighty"$/,
    );
    const config = file('range.json', '{"port": 70000}');
    const fromFile = loadSettings(['--config', config], spec, {});
    assert.throws(
      () => intFlag(fromFile, 'port', 8080, 0, 65535),
      (e: Error) => e.message === `"port" in ${config} must be a whole number from 0 to 65535, got "70000"`,
    );
  });

  it('refuses unknown keys, wrong JSON types, non-objects, bad JSON and a missing file, naming what is wrong', () => {
    const unknown = file('unknown.json', '{"prot": 8080}');
    assert.throws(
      () => loadSettings(['--config', unknown], spec, {}),
      (e: Error) =>
        e instanceof UsageError &&
        e.message.startsWith(
          `unknown key "prot" in the config file ${unknown}; holdfast server takes: body-limit, cors-origin, data,`,
        ),
    );
    const typed = file('typed.json', '{"port": [8080]}');
    assert.throws(
      () => loadSettings(['--config', typed], spec, {}),
      (e: Error) => e.message === `"port" in ${typed} must be a string or a number, got [8080]`,
    );
    const array = file('array.json', '[]');
    assert.throws(() => loadSettings(['--config', array], spec, {}), /must hold one JSON object of settings/);
    const broken = file('broken.json', '{"port": 80,}');
    assert.throws(() => loadSettings(['--config', broken], spec, {}), /is not valid JSON/);
    assert.throws(
      () => loadSettings(['--config', join(dir, 'absent.json')], spec, {}),
      /cannot read the config file .*absent\.json: ENOENT/,
    );
    const help = file('help.json', '{"help": true}');
    assert.throws(() => loadSettings(['--config', help], spec, {}), /unknown key "help"/);
  });

  it('reads booleans from the environment and the file strictly', () => {
    const options = {
      command: 'till',
      envPrefix: 'HOLDFAST_TILL_',
      options: { 'json-events': { type: 'boolean' } },
    } as const;
    assert.equal(loadSettings([], options, { HOLDFAST_TILL_JSON_EVENTS: 'yes' })['json-events'], true);
    assert.equal(loadSettings([], options, { HOLDFAST_TILL_JSON_EVENTS: '0' })['json-events'], false);
    assert.throws(
      () => loadSettings([], options, { HOLDFAST_TILL_JSON_EVENTS: 'maybe' }),
      /HOLDFAST_TILL_JSON_EVENTS must be true or false/,
    );
    const config = file('bool.json', '{"json-events": "true"}');
    assert.throws(
      () => loadSettings(['--config', config], options, {}),
      /"json-events" in .* must be true or false, got "true"/,
    );
  });
});

describe('holdfast server configured by environment and file', () => {
  after(() => CliProcess.killAll());

  it('listens where the file says, with the operator token and processor key read from files named in the environment', async () => {
    const port = await freePort();
    const data = join(dir, 'server-data');
    const tokenFile = file('operator-token', 'token-from-a-secret-file-0123456789\n');
    const keyFile = file('processor-key', 'processor-key-0123456789\n');
    const config = file(
      'server.json',
      JSON.stringify({ port, data, 'log-level': 'warn', 'processor-url': 'http://127.0.0.1:9' }),
    );
    const server = CliProcess.start('server', ['server', '--config', config], {
      HOLDFAST_OPERATOR_TOKEN_FILE: tokenFile,
      HOLDFAST_PROCESSOR_KEY_FILE: keyFile,
    });
    const deadline = Date.now() + 60_000;
    while (server.running && Date.now() < deadline && !(await healthy(port)))
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(server.running, server.stderr);
    const res = await fetch(`http://127.0.0.1:${port}/v1/admin/devices`, {
      headers: { authorization: 'Bearer token-from-a-secret-file-0123456789' },
    });
    assert.equal(res.status, 200);
    await server.kill('SIGTERM');
  });

  it('exits 2 naming the key when the file is wrong', async () => {
    const config = file('bad-server.json', '{"port": "eighty"}');
    const server = CliProcess.start('server', ['server', '--config', config]);
    const exit = await server.exited;
    assert.equal(exit.code, 2);
    assert.match(server.stderr, /"port" in .*bad-server\.json must be a whole number from 0 to 65535, got "eighty"/);
  });
});
