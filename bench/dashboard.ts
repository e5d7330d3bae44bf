/**
 * Dashboard live-update cost: a study of N trials in SQLite (default 2,000), read by the dashboard
 * through its own connection as next to a running search. Measures
 * - ms per poll: the per-second change check the server runs while a browser listens: the study
 *   markers query, next to a full read of every study (listStudies + listTrials: the check before
 *   the markers);
 * - storage calls per change: a trial is written while K browsers (default 3) listen, each
 *   re-fetching the study as the study page does; every storage call the server makes is counted,
 *   `fetchMs` is the time from the write until every browser has the new study (the server polls
 *   every second), `serveMs` the time K browsers fetching the study at once right after a write wait.
 * Last line: {"trials", "clients", "markerMs", "fullReadMs", "perChange": {method: calls}, "fetchMs", "serveMs"}.
 * Usage: npx tsx bench/dashboard.ts [--trials 2000 --clients 3 --polls 50]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDashboard } from '../src/dashboard/server.js';
import { countCalls } from '../src/dashboard/testing/counting.js';
import { addCompleteTrial, buildStudy } from '../src/dashboard/testing/fixture.js';
import { openSqliteStorage } from '../src/storage/index.js';
import { numFlag } from './lib/flags.js';

const arg = numFlag;
const trials = arg('trials', 2000);
const clients = arg('clients', 3);
const polls = arg('polls', 50);

const dir = mkdtempSync(join(tmpdir(), 'autopeft-dash-bench-'));
const file = join(dir, 'bench.sqlite');
const writer = openSqliteStorage(file);
await buildStudy(writer, { name: 'big', complete: trials - 3 });
const reader = openSqliteStorage(file);

// ms per poll, on a reader connection.
const time = async (fn: () => Promise<unknown>) => {
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < polls; i++) await fn();
  return (performance.now() - t0) / polls;
};
const markerMs = await time(() => reader.studyMarkers());
const fullReadMs = await time(async () => {
  for (const s of await reader.listStudies()) await reader.listTrials(s.name);
});

// Storage calls per change with K listening browsers.
const { storage: counted, calls, reset } = countCalls(reader);
const dash = await startDashboard({ storage: counted, port: 0, pollMs: 1000 });
const fetchJson = (path: string) =>
  new Promise<number>((resolve, reject) => {
    // A fresh connection per request: a kept-alive one may be closed by the server just as it is reused.
    get(new URL(path, dash.url), { agent: false }, (res) => {
      let n = 0;
      res.on('data', (b: Buffer) => (n += b.length));
      res.on('end', () => resolve(n));
    }).on('error', reject);
  });
/** A browser on the study page: on each `change`, it fetches the study again. */
function browser(): Promise<{ changed: Promise<void>; close: () => void }> {
  return new Promise((resolve) => {
    let done: () => void;
    const changed = new Promise<void>((r) => (done = r));
    const req = get(new URL('/api/events', dash.url), (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (chunk.includes('event: hello')) resolve({ changed, close: () => req.destroy() });
        if (chunk.includes('event: change')) void fetchJson('/api/studies/big').then(() => done());
      });
    });
  });
}
const browsers = await Promise.all(Array.from({ length: clients }, browser));
await new Promise((r) => setTimeout(r, 500));
reset();
const f0 = performance.now();
await addCompleteTrial(writer, 'big', 1, trials);
await Promise.all(browsers.map((b) => b.changed));
const fetchMs = performance.now() - f0;
const perChange = { ...calls };
// The server's side alone: K browsers fetch the study at once right after a write.
await addCompleteTrial(writer, 'big', 1, trials + 1);
const s0 = performance.now();
await Promise.all(browsers.map(() => fetchJson('/api/studies/big')));
const serveMs = performance.now() - s0;
for (const b of browsers) b.close();
await dash.close();
await reader.close();
await writer.close();
rmSync(dir, { recursive: true, force: true });
const ms = (x: number) => Number(x.toFixed(2));
console.log(
  `${trials} trials, ${clients} browsers: ${ms(markerMs)} ms per marker poll (a full read: ${ms(fullReadMs)} ms); per change:`,
  perChange,
  `all browsers have it ${Math.round(fetchMs)} ms after the write; ${clients} fetches at once take ${Math.round(serveMs)} ms`,
);
console.log(
  JSON.stringify({
    trials,
    clients,
    markerMs: ms(markerMs),
    fullReadMs: ms(fullReadMs),
    perChange,
    fetchMs: Math.round(fetchMs),
    serveMs: Math.round(serveMs),
  }),
);
