/**
 * Search quality on recorded real trials: `npm run bench:search-real [-- --table FILE --seeds 20
 * --budget 200 --n-init 10 --batch 4 --strategies random,nsga2,bo]`.
 *
 * Replays random search, NSGA-II and BO (the product's samplers, unchanged) on the table of real
 * USE-lite trials (bench/data/README.md) with noisy observations (one recorded seed per evaluation)
 * and reports, over paired run seeds: the normalised true hypervolume at 25/50/100/200 evaluations
 * (median and interquartile range), evaluations and compute needed to reach random search's
 * 200-evaluation hypervolume, paired win rates at 50 evaluations, how well each fidelity ranks the
 * configurations (Spearman with the truth), and what the AutoPEFT space adds over single-method
 * configurations. `--svg DIR` also writes the plots docs/search.md shows (sampler curves per
 * evaluation and per compute, fidelity correlations, the table). The last line is one JSON object
 * (see the README's benchmark table).
 */
import { BoSampler } from '../src/search/samplers/bo.js';
import { Nsga2Sampler } from '../src/search/samplers/nsga2.js';
import { RandomSampler } from '../src/search/samplers/random.js';
import { buildTable, readRows } from './real/table.js';
import {
  computeToReach,
  evalsToReach,
  fidelitySpearman,
  hvAt,
  median,
  quantile,
  type RunTrace,
  runStrategy,
  type Strategy,
  spaceVsSingleMethod,
  truthNoise,
  winRate,
} from './real/simulate.js';
import { curvesSvg, fidelitySvg, tableSvg } from './real/plots.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flag } from './lib/flags.js';

const arg = flag;

const tablePath = arg('table', 'bench/data/sst2-use-lite.jsonl.gz');
const SEEDS = Number(arg('seeds', '20'));
const BUDGET = Number(arg('budget', '200'));
const N_INIT = Number(arg('n-init', '10'));
const BATCH = Number(arg('batch', '4'));

const table = buildTable(readRows(tablePath));
const top = table.fidelities[table.fidelities.length - 1]!;

/** Every strategy the harness knows; `--strategies` picks some. `bo` is the product's default search. */
const ALL: Strategy[] = [
  { name: 'random', make: ({ space, seed }) => new RandomSampler({ space, seed }) },
  { name: 'nsga2', make: ({ space, objectives, seed }) => new Nsga2Sampler({ space, objectives, seed }) },
  { name: 'bo', make: ({ space, objectives, seed }) => new BoSampler({ space, objectives, seed, nInit: 0 }) },
  // The noise-aware GP: the binomial variance of each accuracy on its validation size (the rows' valN).
  {
    name: 'bo-binomial',
    make: ({ space, objectives, seed }) => new BoSampler({ space, objectives, seed, nInit: 0, noise: 'binomial' }),
  },
  // Multi-fidelity: MO-ASHA over the table's fidelities (eta 2: the checkpoints double), random or BO proposals.
  { name: 'asha-random', asha: { eta: 2 }, make: ({ space, seed }) => new RandomSampler({ space, seed }) },
  {
    name: 'asha-bo',
    asha: { eta: 2 },
    make: ({ space, objectives, seed }) => new BoSampler({ space, objectives, seed, nInit: 0 }),
  },
  ...table.fidelities.slice(0, -1).map(
    (f): Strategy => ({
      name: `bo@${f}`,
      fidelity: f,
      make: ({ space, objectives, seed }) => new BoSampler({ space, objectives, seed, nInit: 0 }),
    }),
  ),
];
const wanted = arg('strategies', ALL.map((s) => s.name).join(',')).split(',');
const strategies = ALL.filter((s) => wanted.includes(s.name));
const DEFAULT = 'bo';

console.error(
  `table ${tablePath}: ${table.configs.length} configurations x ${table.seeds}+ seeds, fidelities ${table.fidelities.join('/')} examples; ` +
    `${SEEDS} run seeds, budget ${BUDGET}, n-init ${N_INIT} (shared), batch ${BATCH}`,
);

const runs = new Map<string, RunTrace[]>();
for (const s of strategies) {
  const t0 = performance.now();
  const rs: RunTrace[] = [];
  for (let seed = 0; seed < SEEDS; seed++)
    rs.push(await runStrategy(table, s, seed, { budget: BUDGET, nInit: N_INIT, batch: BATCH }));
  runs.set(s.name, rs);
  console.error(`  ${s.name.padEnd(10)} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const fmt = (x: number): string => x.toFixed(3);
const checkpoints = [25, 50, 100, 200].filter((n) => n <= BUDGET);
console.log(`\nnormalised true hypervolume (median [25%, 75%] over ${SEEDS} paired seeds)`);
console.log(`${'strategy'.padEnd(10)} ${checkpoints.map((n) => `@${n}`.padEnd(22)).join('')}`);
for (const [name, rs] of runs) {
  const cells = checkpoints.map((n) => {
    const v = rs.map((r) => hvAt(r, n));
    return `${fmt(median(v))} [${fmt(quantile(v, 0.25))}, ${fmt(quantile(v, 0.75))}]`.padEnd(22);
  });
  console.log(`${name.padEnd(10)} ${cells.join('')}`);
}

const random = runs.get('random');
const target = random ? median(random.map((r) => hvAt(r, BUDGET))) : Number.NaN;
const randomCompute = random ? median(random.map((r) => r.examples[Math.min(BUDGET, r.examples.length) - 1]!)) : 0;
const summary: Record<string, unknown> = {};
if (random) {
  console.log(`\nto reach random search's ${BUDGET}-evaluation hypervolume (${fmt(target)}):`);
  for (const [name, rs] of runs) {
    const n = evalsToReach(rs, target);
    const c = computeToReach(rs, target);
    const frac = Number.isFinite(c) ? c / randomCompute : null;
    console.log(
      `  ${name.padEnd(10)} ${n === null ? 'not reached' : `${n} evaluations`}, compute ${frac === null ? 'n/a' : `${(100 * frac).toFixed(0)}% of random's`}` +
        `; win rate @50 vs random ${fmt(winRate(rs, random, 50))}` +
        (runs.has('nsga2') ? `, vs NSGA-II ${fmt(winRate(rs, runs.get('nsga2')!, 50))}` : ''),
    );
    summary[name] = { evalsToRandom200: n, computeFractionToRandom200: frac };
  }
}

const fs = fidelitySpearman(table);
console.log('\nSpearman with the truth (official dev score at the top fidelity, mean over seeds):');
for (const [f, v] of Object.entries(fs))
  console.log(`  ${f.padStart(6)} examples: one seed ${fmt(v.single)}, mean of seeds ${fmt(v.mean)}`);
const tn = truthNoise(table);
console.log(
  `  the truth's own noise: dev seed 0 vs seed 1 Spearman ${fmt(tn.seedVsSeed)}; ` +
    `spread of the truth across configurations (sd) ${(100 * tn.truthSd).toFixed(2)} points, ` +
    `mean seed-to-seed dev gap ${(100 * tn.meanSeedGap).toFixed(2)} points`,
);
const sm = spaceVsSingleMethod(table);
console.log(
  `\nsingle-method configurations (one module, all layers; ${sm.singleMethodConfigs} of them): ${fmt(sm.singleMethod)} of the full space's hypervolume`,
);

const svgDir = arg('svg', '');
if (svgDir) {
  mkdirSync(svgDir, { recursive: true });
  const label = `${table.configs.length} configs x ${table.seeds} seeds, ${SEEDS} run seeds`;
  const files: [string, string][] = [
    [
      'search-real-evals.svg',
      curvesSvg(runs, 'evaluations', top, `Recorded SST-2 trials: hypervolume per evaluation (${label})`),
    ],
    [
      'search-real-compute.svg',
      curvesSvg(runs, 'compute', top, `Recorded SST-2 trials: hypervolume per compute (${label})`),
    ],
    ['search-real-fidelity.svg', fidelitySvg(fs, tn.seedVsSeed, 'How well each fidelity ranks configurations')],
    ['search-real-table.svg', tableSvg(table, 'The recorded table: true score against param %')],
  ];
  for (const [name, svg] of files) writeFileSync(join(svgDir, name), svg);
  console.error(`wrote ${files.map(([n]) => join(svgDir, n)).join(', ')}`);
}

const d = runs.get(DEFAULT);
const dCompute = d && random ? computeToReach(d, target) : Number.NaN;
console.log(
  JSON.stringify({
    table: tablePath,
    configs: table.configs.length,
    seeds: table.seeds,
    runSeeds: SEEDS,
    fidelities: table.fidelities,
    topFidelity: top,
    default: DEFAULT,
    evalsToRandom200: d && random ? evalsToReach(d, target) : null,
    winRateVsRandomAt50: d && random ? winRate(d, random, 50) : null,
    winRateVsNsga2At50: d && runs.has('nsga2') ? winRate(d, runs.get('nsga2')!, 50) : null,
    computeFractionToRandom200: Number.isFinite(dCompute) ? dCompute / randomCompute : null,
    fidelitySpearman: Object.fromEntries(Object.entries(fs).map(([k, v]) => [k, Number(v.single.toFixed(4))])),
    spaceVsSingleMethodHv: [Number(sm.singleMethod.toFixed(4)), 1],
    truthNoise: {
      seedVsSeedSpearman: Number(tn.seedVsSeed.toFixed(4)),
      truthSdPoints: Number((100 * tn.truthSd).toFixed(3)),
      meanSeedGapPoints: Number((100 * tn.meanSeedGap).toFixed(3)),
    },
    hvAt50: Object.fromEntries([...runs].map(([k, rs]) => [k, Number(median(rs.map((r) => hvAt(r, 50))).toFixed(4))])),
    strategies: summary,
  }),
);
