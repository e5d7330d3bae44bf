/**
 * `npm run bench:postgres`: asks per second and ask latency with N worker processes on one study
 * in a throwaway PostgreSQL cluster (test/postgres/cluster.ts), against the same load on one SQLite
 * file as the peer. Each worker process loops ask (stale sweep + claim + study lock + sampler +
 * insert, as `autopeft worker` does) -> tell, with a zero-cost job, until the study holds its
 * target; the AutoPEFT space of BERT-base (12 layers, H 768). The last line is a JSON object.
 *
 *   npm run bench:postgres -- [--workers 8] [--trials 200] [--sampler random|bo]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSampler, type SamplerName } from '../src/search/samplers/index.js';
import { autopeftObjectives, autopeftSpace } from '../src/search/space/autopeft.js';
import { createStudy } from '../src/search/study/index.js';
import { openStorage } from '../src/storage/index.js';
import { PG_SKIP, startCluster } from '../test/postgres/cluster.js';
import { flag } from './lib/flags.js';

const arg = flag;
const BERT_BASE = { numLayers: 12, hidden: 768, backboneParams: 109_482_240 };

async function open(spec: string, sampler: SamplerName, seed: number) {
  const space = autopeftSpace({ numLayers: BERT_BASE.numLayers, hidden: BERT_BASE.hidden, lora: false });
  const objectives = autopeftObjectives(BERT_BASE);
  const storage = openStorage(spec);
  const study = await createStudy({
    storage,
    name: 'bench',
    objectives,
    sampler: createSampler(sampler, { space, objectives, seed, nInit: 10 }),
    loadIfExists: true,
    heartbeat: { intervalMs: 5000, staleAfterMs: 60_000 },
  });
  return { storage, study };
}

/** One worker process: ask -> tell until the study is full; prints its ask latencies (ms) as JSON. */
async function child(spec: string, trials: number, sampler: SamplerName): Promise<void> {
  const { storage, study } = await open(spec, sampler, 0);
  const lat: number[] = [];
  const start = performance.now();
  for (;;) {
    const t0 = performance.now();
    const [t] = await study.askBatch(1, { maxTrials: trials });
    lat.push(performance.now() - t0);
    if (!t) break;
    const x = Object.values(t.config).filter((v) => v === true).length;
    await study.tell(t.number, { metric: 0.5 + x / 100 });
  }
  lat.pop(); // the last, empty ask
  process.stdout.write(`${JSON.stringify({ lat, start, end: performance.now(), t0: performance.timeOrigin })}\n`);
  await study.close();
  await storage.close();
}

interface Run {
  asksPerSecond: number;
  medianMs: number;
  p99Ms: number;
  trials: number;
  duplicateConfigs: number;
}

async function load(spec: string, workers: number, trials: number, sampler: SamplerName): Promise<Run> {
  const { storage, study } = await open(spec, sampler, 0);
  await study.close();
  const outs = await Promise.all(
    Array.from(
      { length: workers },
      () =>
        new Promise<{ lat: number[]; start: number; end: number; t0: number }>((res, rej) => {
          const p = spawn(
            process.execPath,
            [
              '--import',
              'tsx',
              import.meta.filename,
              '--child',
              spec,
              '--trials',
              String(trials),
              '--sampler',
              sampler,
            ],
            { stdio: ['ignore', 'pipe', 'inherit'] },
          );
          let out = '';
          p.stdout.on('data', (d: Buffer) => (out += d.toString()));
          p.on('close', (code) =>
            code === 0 ? res(JSON.parse(out.trim().split('\n').at(-1)!)) : rej(new Error(`child exit ${code}`)),
          );
        }),
    ),
  );
  // Wall time of the asking: from the first worker's first ask to the last worker's end (absolute clock).
  const first = Math.min(...outs.map((o) => o.t0 + o.start));
  const last = Math.max(...outs.map((o) => o.t0 + o.end));
  const lat = outs.flatMap((o) => o.lat).sort((a, b) => a - b);
  const all = await storage.listTrials('bench');
  const keys = all.map((t) => JSON.stringify(Object.entries(t.config).sort()));
  await storage.close();
  return {
    asksPerSecond: lat.length / ((last - first) / 1000),
    medianMs: lat[Math.floor(lat.length / 2)]!,
    p99Ms: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))]!,
    trials: all.length,
    duplicateConfigs: keys.length - new Set(keys).size,
  };
}

async function main(): Promise<void> {
  const trials = Number(arg('trials', '200'));
  const sampler = arg('sampler', 'random') as SamplerName;
  if (process.argv.includes('--child')) return child(arg('child', ''), trials, sampler);
  if (PG_SKIP) {
    console.log(JSON.stringify({ skipped: PG_SKIP }));
    return;
  }
  const workers = Number(arg('workers', '8'));
  const cluster = await startCluster();
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-bench-pg-'));
  try {
    const pg = await load(`${cluster.url}?schema=bench`, workers, trials, sampler);
    console.log(
      `postgres: ${pg.asksPerSecond.toFixed(1)} asks/s, ask median ${pg.medianMs.toFixed(1)} ms, p99 ${pg.p99Ms.toFixed(1)} ms, ${pg.trials} trials, ${pg.duplicateConfigs} duplicate configs`,
    );
    const lite = await load(join(dir, 'bench.sqlite'), workers, trials, sampler);
    console.log(
      `sqlite (peer, one file): ${lite.asksPerSecond.toFixed(1)} asks/s, ask median ${lite.medianMs.toFixed(1)} ms, p99 ${lite.p99Ms.toFixed(1)} ms, ${lite.trials} trials, ${lite.duplicateConfigs} duplicate configs`,
    );
    console.log(
      JSON.stringify({
        workers,
        trials,
        sampler,
        postgres: pg,
        sqlite: lite,
        asksPerSecondRatio: pg.asksPerSecond / lite.asksPerSecond,
      }),
    );
  } finally {
    cluster.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
