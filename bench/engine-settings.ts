import { BENCH, benchFeeds, buildProgram } from './engine-model.js';
const f = benchFeeds();
const kind = (process.argv[2] ?? 'full') as 'full' | 'adapter';
const variants = {
  all: await buildProgram(kind, BENCH, { threads: 2, optimization: 'all' }),
  extended: await buildProgram(kind, BENCH, { threads: 2, optimization: 'extended' }),
  basic: await buildProgram(kind, BENCH, { threads: 2, optimization: 'basic' }),
  disabled: await buildProgram(kind, BENCH, { threads: 2, optimization: 'disabled' }),
  'all+spin': await buildProgram(kind, BENCH, { threads: 2, optimization: 'all', spinning: true }),
  'all,1thread': await buildProgram(kind, BENCH, { threads: 1, optimization: 'all' }),
};
const ts: Record<string, number[]> = {};
for (const p of Object.values(variants)) for (let i = 0; i < 3; i++) await p.step(f, 1e-4);
for (let r = 0; r < 6; r++)
  for (const [k, p] of Object.entries(variants))
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await p.step(f, 1e-4);
      (ts[k] ??= []).push(performance.now() - t);
    }
for (const [k, v] of Object.entries(ts)) {
  v.sort((a, b) => a - b);
  console.log(
    kind,
    k.padEnd(12),
    'median',
    v[v.length >> 1]!.toFixed(1),
    'p25',
    v[v.length >> 2]!.toFixed(1),
    'min',
    v[0]!.toFixed(1),
  );
}
