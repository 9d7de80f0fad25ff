/**
 * GET /metrics on a listening server after real traffic: the exposition
 * text is parsed (a small parser below, strict about the format) and each
 * value is compared with what the operator API says about the same state.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExceptionView } from '../model/exception-action.js';
import type { Page } from '../storage/storage.js';
import { createHarness, type Harness } from '../testing/harness.js';
import { LOCAL_APPROVAL } from '../testing/payments.js';

const METRICS_TOKEN = 'test-metrics-token-0123456789';
const HOUR = 3_600_000;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

/** Parses Prometheus text exposition 0.0.4; throws on any line it does not understand. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (kind === 'HELP') helps.add(name);
      else {
        assert.match(rest, /^(counter|gauge|histogram|summary|untyped)$/, `TYPE of ${name}`);
        assert.ok(!types.has(name), `TYPE of ${name} twice`);
        types.set(name, rest);
      }
      continue;
    }
    // NaN in any case: prom-client writes "Nan" (the event-loop lag gauges before their first sample),
    // which Prometheus's parser (Go's ParseFloat) reads as NaN.
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|[Nn]a[Nn]|\+Inf|-Inf)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const [, name, rawLabels, rawValue] = m as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    if (rawLabels) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
      let consumed = 0;
      for (let l = re.exec(rawLabels); l; l = re.exec(rawLabels)) {
        labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        consumed = re.lastIndex;
      }
      assert.equal(consumed, rawLabels.length, `bad labels in ${line}`);
    }
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(family), `sample ${name} without a TYPE line`);
    assert.ok(helps.has(family), `sample ${name} without a HELP line`);
    const value = rawValue === '+Inf' ? Infinity : rawValue === '-Inf' ? -Infinity : Number(rawValue);
    samples.push({ name, labels, value });
  }
  return { types, samples };
}

/** The one sample of `name` whose labels include `labels`; throws if there is none or several. */
function value(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.equal(found.length, 1, `${name}${JSON.stringify(labels)}: ${found.length} samples`);
  return (found[0] as Sample).value;
}

async function scrape(h: Harness, token = METRICS_TOKEN): Promise<{ status: number; text: string; type: string }> {
  const address = await h.app.listen({ port: 0, host: '127.0.0.1' }).catch(() => null);
  const base = address ?? `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
}

describe('GET /metrics', () => {
  it('is absent unless a metrics token is configured, and refuses other tokens (the operator token too)', async () => {
    const plain = await createHarness();
    const scraped = await createHarness({ metrics: { token: METRICS_TOKEN } });
    try {
      assert.equal((await scrape(plain)).status, 404);
      const operator = await scrape(scraped, 'test-operator-token-0123456789');
      assert.equal(operator.status, 401);
      assert.equal(JSON.parse(operator.text).code, 'unauthorized');
      assert.equal((await scrape(scraped, 'nearly-the-metrics-token-000')).status, 401);
      const ok = await scrape(scraped);
      assert.equal(ok.status, 200);
      assert.match(ok.type, /^text\/plain; version=0\.0\.4/);
    } finally {
      await plain.close();
      await scraped.close();
    }
  });

  it('reports ingest, admission, HTTP answers, forwarding deadlines, open exceptions and device lag as the API sees them', async () => {
    const h = await createHarness({ metrics: { token: METRICS_TOKEN, deadlineHours: 72, topLagging: 1 } });
    const other = await createHarness({ metrics: { token: METRICS_TOKEN } });
    try {
      const a = await h.enrollDevice('lane-a');
      const b = await h.enrollDevice('lane-b');
      const c = await h.enrollDevice('lane-c');
      // a: a shift with two offline-approved card sales (forwarding backlog), then a short drawer (an exception).
      const shift = a.openShift();
      const sales = [1200, 800].map((amount, i) =>
        a.cardSale(shift.id, amount, LOCAL_APPROVAL, { token: `tok_metrics_a_${i}` }),
      );
      const sold = await h.send(a.batch([shift, ...sales]));
      assert.deepEqual(
        sold.body.results.map((r) => r.status),
        ['accepted', 'accepted', 'accepted'],
      );
      assert.equal((await h.send(a.batch([a.closeShift(shift.id, 9_000)]))).status, 200);
      // b: two ops of five it says it recorded (3 behind), sent twice (duplicates), on the live lane once.
      const bShift = b.openShift();
      const bOps = [bShift, b.sale(bShift.id, 100)];
      assert.equal((await h.send(b.batch(bOps, 5))).status, 200);
      const live = await h.request('POST', '/v1/batches', {
        payload: b.batch(bOps, 5),
        headers: { 'holdfast-lane': 'live' },
      });
      assert.equal(live.status, 200);
      // c: one op of three (2 behind); and one refused batch (bad signature).
      const cShift = c.openShift();
      assert.equal((await h.send(c.batch([cShift], 3))).status, 200);
      const forged = { ...c.batch([cShift], 3), sig: a.batch([cShift], 3).sig };
      assert.equal((await h.send(forged)).status, 401);

      h.clock.advance(50 * HOUR);
      const res = await scrape(h);
      assert.equal(res.status, 200);
      const e = parseExposition(res.text);

      const counters = h.service.counters;
      assert.equal(value(e, 'holdfast_ingest_batches_total'), counters.batches);
      for (const status of ['accepted', 'duplicate', 'conflict', 'fork', 'rejected'] as const) {
        assert.equal(value(e, 'holdfast_ingest_ops_total', { status }), counters[status], status);
      }
      assert.equal(counters.duplicate, 2);
      assert.equal(value(e, 'holdfast_ingest_batch_answers_total', { lane: 'backlog', answer: 'ingested' }), 4);
      assert.equal(value(e, 'holdfast_ingest_batch_answers_total', { lane: 'live', answer: 'ingested' }), 1);
      assert.equal(value(e, 'holdfast_ingest_batch_answers_total', { lane: 'backlog', answer: 'refused' }), 1);
      assert.equal(
        value(e, 'holdfast_http_requests_total', { method: 'POST', route: '/v1/batches', status: '200' }),
        5,
      );
      assert.equal(value(e, 'holdfast_http_requests_total', { method: 'POST', route: '/v1/enroll', status: '200' }), 3);
      assert.equal(value(e, 'holdfast_admission_decisions_total', { decision: 'admitted', lane: 'backlog' }), 5);
      assert.equal(value(e, 'holdfast_admission_decisions_total', { decision: 'admitted', lane: 'live' }), 1);
      assert.equal(value(e, 'holdfast_admission_decisions_total', { decision: 'overloaded' }), 0);
      assert.equal(value(e, 'holdfast_admission_in_progress', { lane: 'backlog' }), 0);
      assert.equal(value(e, 'holdfast_storage_queue_depth'), 0);

      // Forwarding: two payments approved at T0, deadline 72 h, now T0 + 50 h: 22 h left, both due within 24 h.
      assert.equal(value(e, 'holdfast_forwarding_pending'), 2);
      assert.equal(value(e, 'holdfast_forwarding_oldest_deadline_seconds'), 22 * 3600);
      assert.equal(value(e, 'holdfast_forwarding_due_soon', { within_hours: '24' }), 2);

      const open = await h.request<Page<ExceptionView>>('GET', '/v1/admin/exceptions?status=open', { admin: true });
      const byType = new Map<string, number>();
      for (const x of open.body.items) byType.set(x.type, (byType.get(x.type) ?? 0) + 1);
      assert.ok(byType.size > 0, 'the short drawer raised an exception');
      for (const [type, n] of byType) assert.equal(value(e, 'holdfast_exceptions_open', { type }), n, type);
      assert.equal(e.samples.filter((s) => s.name === 'holdfast_exceptions_open').length, byType.size);

      // Device lag: a 0 behind, b 3, c 2; only the worst one gets its own series (topLagging 1).
      assert.equal(value(e, 'holdfast_devices', { state: 'active' }), 3);
      assert.equal(value(e, 'holdfast_device_ops_behind_bucket', { le: '0' }), 1);
      assert.equal(value(e, 'holdfast_device_ops_behind_bucket', { le: '1' }), 1);
      assert.equal(value(e, 'holdfast_device_ops_behind_bucket', { le: '10' }), 3);
      assert.equal(value(e, 'holdfast_device_ops_behind_sum'), 5);
      assert.equal(value(e, 'holdfast_device_ops_behind_top', { device: b.id }), 3);
      assert.equal(e.samples.filter((s) => s.name === 'holdfast_device_ops_behind_top').length, 1);
      // Last seen at T0, scraped at T0 + 50 h: all three in the 3-day bucket, none in 1 day.
      assert.equal(value(e, 'holdfast_device_last_seen_age_seconds_bucket', { le: '86400' }), 0);
      assert.equal(value(e, 'holdfast_device_last_seen_age_seconds_bucket', { le: '259200' }), 3);

      assert.ok(
        e.samples.some((s) => s.name === 'process_cpu_user_seconds_total'),
        'process metrics',
      );
      assert.equal(e.types.get('holdfast_http_request_duration_seconds'), 'histogram');

      // A second scrape gives the same store gauges (reset, not added up) and the same counters.
      const again = parseExposition((await scrape(h)).text);
      assert.equal(value(again, 'holdfast_device_ops_behind_sum'), 5);
      assert.equal(value(again, 'holdfast_ingest_ops_total', { status: 'accepted' }), counters.accepted);

      // Another app in the same process has its own registry.
      const mine = parseExposition((await scrape(other)).text);
      assert.equal(value(mine, 'holdfast_ingest_batches_total'), 0);
      assert.equal(value(mine, 'holdfast_forwarding_pending'), 0);
      assert.equal(
        mine.samples.some((s) => s.name === 'holdfast_forwarding_oldest_deadline_seconds'),
        false,
        'no oldest deadline when nothing is pending',
      );
    } finally {
      await h.close();
      await other.close();
    }
  });

  it('counts a batch refused by the per-device rate limit as rate_limited on its lane', async () => {
    const h = await createHarness({
      metrics: { token: METRICS_TOKEN },
      admission: { perDeviceRate: 0.001, perDeviceBurst: 1 },
    });
    try {
      const d = await h.enrollDevice('lane-a');
      const shift = d.openShift();
      assert.equal((await h.send(d.batch([shift]))).status, 200);
      const again = await h.request('POST', '/v1/batches', {
        payload: d.batch([shift]),
        headers: { 'holdfast-lane': 'live' },
      });
      assert.equal(again.status, 429);
      const e = parseExposition((await scrape(h)).text);
      assert.equal(value(e, 'holdfast_ingest_batch_answers_total', { lane: 'live', answer: 'rate_limited' }), 1);
      assert.equal(value(e, 'holdfast_ingest_batch_answers_total', { lane: 'backlog', answer: 'ingested' }), 1);
      assert.equal(value(e, 'holdfast_admission_decisions_total', { decision: 'rate_limited' }), 1);
      assert.equal(
        value(e, 'holdfast_http_requests_total', { method: 'POST', route: '/v1/batches', status: '429' }),
        1,
      );
    } finally {
      await h.close();
    }
  });
});
