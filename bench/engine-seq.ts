/**
 * One training program for every sequence length (symbolic sequence axis) vs one program per padded
 * length (static shapes, what the trainer compiles today): compile time and step time at each
 * length, interleaved, same model (bench/engine-model.ts), same batches.
 *
 * Usage: npx tsx bench/engine-seq.ts [--shape tiny|base] [--kind adapter|full] [--lengths 32,64,128]
 *        [--rounds 4] [--block 3] [--threads 2]
 * Last line: {"shape", "kind", "lengths", "compileMs": {"symbolic", "static": {len: ms}},
 * "stepMs": {"symbolic": {len: ms}, "static": {len: ms}}, "ratio": {len: symbolic / static}}.
 */
import { loadavg } from 'node:os';
import type { TrainingProgram } from '../src/runtime/index.js';
import { benchFeeds, buildProgram, SHAPES, type ShapeName } from './engine-model.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const shapeName = (flag('shape') ?? 'tiny') as ShapeName;
if (!(shapeName in SHAPES)) {
  console.error(`bench/engine-seq: --shape must be one of ${Object.keys(SHAPES).join(', ')} (got '${shapeName}')`);
  process.exit(2);
}
const SHAPE = SHAPES[shapeName];
const kind = (flag('kind') ?? 'adapter') as 'adapter' | 'full';
const lengths = (flag('lengths') ?? `${SHAPE.seq / 4},${SHAPE.seq / 2},${SHAPE.seq}`).split(',').map(Number);
const ROUNDS = Number(flag('rounds') ?? (shapeName === 'base' ? 2 : 4));
const BLOCK = Number(flag('block') ?? (shapeName === 'base' ? 2 : 5));
const THREADS = Number(flag('threads') ?? 2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const r1 = (x: number) => Math.round(x * 10) / 10;

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, performance.now() - t];
}

console.log(
  `${shapeName} ${kind}: lengths ${lengths.join(', ')}, ${ROUNDS} rounds x ${BLOCK} steps, ${THREADS} threads; load ${loadavg()[0]!.toFixed(1)}`,
);
const statics = new Map<number, TrainingProgram>();
const staticMs: Record<number, number> = {};
const buildStatic = async (len: number) => {
  const [p, ms] = await timed(() => buildProgram(kind, SHAPE, { threads: THREADS, seqLen: len }));
  statics.set(len, p);
  staticMs[len] = r1(ms);
  console.log(`static program, length ${len}: built + compiled in ${r1(ms)} ms`);
};
// The symbolic program is built second, so that neither kind pays the process's first-build costs alone.
await buildStatic(lengths[0]!);
const [symbolic, symMs] = await timed(() => buildProgram(kind, SHAPE, { threads: THREADS, seqLen: 'seq' }));
console.log(`symbolic program: built + compiled in ${r1(symMs)} ms`);
for (const len of lengths.slice(1)) await buildStatic(len);
const feeds = new Map(lengths.map((len) => [len, benchFeeds(SHAPE, 3, len)]));
const times: Record<string, number[]> = {};
const run = async (key: string, p: TrainingProgram, len: number, n: number) => {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await p.step(feeds.get(len)!, 1e-4);
    (times[key] ??= []).push(performance.now() - t);
  }
};
// Warm-up: the symbolic program meets each length once (ORT plans per shape on first sight).
for (const len of lengths) {
  await symbolic.step(feeds.get(len)!, 1e-4);
  await statics.get(len)!.step(feeds.get(len)!, 1e-4);
}
for (let r = 0; r < ROUNDS; r++) {
  for (const len of lengths) {
    await run(`symbolic/${len}`, symbolic, len, BLOCK);
    await run(`static/${len}`, statics.get(len)!, len, BLOCK);
  }
  console.log(
    `round ${r + 1}/${ROUNDS} (load ${loadavg()[0]!.toFixed(1)}): ${Object.entries(times)
      .map(([k, v]) => `${k} ${r1(median(v))}`)
      .join(', ')}`,
  );
}
await symbolic.release();
for (const p of statics.values()) await p.release();
const stepMs = { symbolic: {} as Record<number, number>, static: {} as Record<number, number> };
const ratio: Record<number, number> = {};
for (const len of lengths) {
  stepMs.symbolic[len] = r1(median(times[`symbolic/${len}`]!));
  stepMs.static[len] = r1(median(times[`static/${len}`]!));
  ratio[len] = Math.round((stepMs.symbolic[len] / stepMs.static[len]) * 1000) / 1000;
}
console.log(
  JSON.stringify({
    shape: shapeName,
    kind,
    lengths,
    compileMs: { symbolic: r1(symMs), static: staticMs },
    stepMs,
    ratio,
    load: r1(loadavg()[0]!),
  }),
);
