/**
 * Live: server-sent `sample` events from /v1/admin/live turned into rates
 * (successive counter differences over the time between samples) and
 * gauges, drawn with uPlot. The last two minutes are kept.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import type { LiveSample } from './types.js';

const KEEP = 120;

interface Series {
  label: string;
  stroke: string;
  pick: (s: LiveSample, prev: LiveSample | null, dt: number) => number;
}

const rate = (f: (s: LiveSample) => number) => (s: LiveSample, prev: LiveSample | null, dt: number) =>
  prev === null || dt <= 0 ? 0 : Math.max(0, (f(s) - f(prev)) / dt);

const CHARTS: { id: string; title: string; series: Series[] }[] = [
  {
    id: 'rates',
    title: 'Requests and ops per second',
    series: [
      { label: 'batches/s', stroke: '#3366cc', pick: rate((s) => s.ingest.batches) },
      { label: 'ops accepted/s', stroke: '#109618', pick: rate((s) => s.ingest.accepted) },
      { label: 'duplicates/s', stroke: '#999999', pick: rate((s) => s.ingest.duplicate) },
    ],
  },
  {
    id: 'backpressure',
    title: 'Backpressure answers per second',
    series: [
      { label: 'overloaded/s', stroke: '#dc3912', pick: rate((s) => s.admission.totals.overloaded) },
      { label: 'rate limited/s', stroke: '#ff9900', pick: rate((s) => s.admission.totals.rateLimited) },
      { label: 'abandoned/s', stroke: '#990099', pick: rate((s) => s.admission.totals.abandoned) },
    ],
  },
  {
    id: 'queues',
    title: 'Queues and backlog',
    series: [
      { label: 'storage queue', stroke: '#3366cc', pick: (s) => s.storageQueueDepth },
      { label: 'ingest queued', stroke: '#ff9900', pick: (s) => s.admission.queued.live + s.admission.queued.backlog },
      { label: 'forwarding backlog', stroke: '#dc3912', pick: (s) => s.forwarding.pending },
      { label: 'ops not delivered', stroke: '#109618', pick: (s) => s.devices.behind },
    ],
  },
];

function Chart(props: { title: string; id: string; series: Series[]; data: number[][] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!box.current) return;
    plot.current = new uPlot(
      {
        title: props.title,
        width: Math.min(900, box.current.clientWidth || 900),
        height: 220,
        series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2 }))],
        axes: [{}, { size: 60 }],
      },
      props.data as uPlot.AlignedData,
      box.current,
    );
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => {
    plot.current?.setData(props.data as uPlot.AlignedData);
  }, [props.data]);
  return <div class="chart" data-chart={props.id} ref={box} />;
}

export function Live() {
  const [samples, setSamples] = useState<LiveSample[]>([]);
  const [state, setState] = useState('connecting…');
  useEffect(() => {
    const source = new EventSource('/v1/admin/live');
    source.addEventListener('sample', (e) => {
      const sample = JSON.parse((e as MessageEvent<string>).data) as LiveSample;
      setState('live');
      setSamples((old) => [...old.slice(-(KEEP - 1)), sample]);
    });
    source.onerror = () => setState('reconnecting…');
    return () => source.close();
  }, []);
  const last = samples[samples.length - 1];
  return (
    <section>
      <h2>
        Live{' '}
        <span class="muted" data-live-state>
          {state}
        </span>
      </h2>
      {last ? (
        <div class="tiles">
          <div class="tile">
            <b>{last.devices.active}</b> active devices
          </div>
          <div class="tile">
            <b>{last.openExceptions}</b> open exceptions
          </div>
          <div class="tile">
            <b>{last.forwarding.pending}</b> card payments to forward
          </div>
          <div class="tile">
            <b>{last.admission.ingestMs}</b> ms mean ingest
          </div>
        </div>
      ) : null}
      {CHARTS.map((c) => {
        const data: number[][] = [samples.map((s) => s.at / 1000)];
        for (const series of c.series) {
          data.push(
            samples.map((s, i) => {
              const prev = i > 0 ? (samples[i - 1] ?? null) : null;
              return series.pick(s, prev, prev ? (s.at - prev.at) / 1000 : 0);
            }),
          );
        }
        return <Chart key={c.id} id={c.id} title={c.title} series={c.series} data={data} />;
      })}
    </section>
  );
}
