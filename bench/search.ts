/**
 * Search benchmark: `npm run bench:search [-- --quick]`.
 *
 * 1. Suggest latency of the BO sampler (GP fit + noisy-EHVI local search, q = 1) with 50/100/200
 *    completed trials in the 15-dim (12 layers, H 768) and 27-dim (24 layers, H 1024) AutoPEFT
 *    spaces. "warm" = the sampler already proposed at n-1 trials and starts its fit from that optimum
 *    (every proposal of a running study but the first); "cold" = a fresh sampler. Median over reps.
 * 2. Sample efficiency on the synthetic PEFT problem (src/search/testing/synthetic.ts: layers and
 *    sizes with diminishing returns, interactions, over-capacity penalty, noise sd 0.005, exact
 *    front known): hypervolume of the noise-free (metric, log10 param %) values of all evaluated
 *    configs, reference (0.5, 10 %), divided by the true front's hypervolume; median over seeds of
 *    random (200 evals), NSGA-II (200 evals, population 20) and BO (n_init 20, q = 1, 100 evals);
 *    `--batch 4` proposes 4 per round for every sampler (AutoPEFT's setting).
 *    Paired initial design: BO's first 20 proposals are the random sampler's first 20 (same seed,
 *    same history, same observation noise), so the comparison is not the luck of the initial design.
 * 3. The same on a harder variant (`--variants standard,hard`): observation noise sd 0.04 (~10% of
 *    the metric's range, as on real SST-2 trials) and linear param % (as the product's BO models it),
 *    with BO's learned noise and BO's binomial noise model (n = 150 validation examples gives
 *    sd ~0.04 at accuracy ~0.75).
 * Wall seconds depend on what else runs on the machine, so each latency line also prints the CPU
 * seconds this process used (on a busy shared machine wall >> CPU), and the load average is printed.
 * Last line: {"suggestSec200_27d", "suggestSec200_15d" (warm, wall), "boEvalsToRandom200", "hv" at 100 evals}.
 */
import { cpus, loadavg } from 'node:os';
import { Rng } from '../src/core/random.js';
import { syntheticPeft, type SyntheticPeft } from '../src/search/testing/synthetic.js';
import { runLoop } from '../src/search/testing/loop.js';
import { RandomSampler } from '../src/search/samplers/random.js';
import { Nsga2Sampler } from '../src/search/samplers/nsga2.js';
import { BoSampler } from '../src/search/samplers/bo.js';
import type { Config, FrozenTrial, Sampler } from '../src/search/types.js';
import { median, numFlag } from './lib/flags.js';

const quick = process.argv.includes('--quick');
const SEEDS = numFlag('seeds', quick ? 3 : 10);
const REPS = quick ? 2 : 3;
/** Proposals per round in the sample-efficiency runs (AutoPEFT's reference uses 4). */
const BATCH = numFlag('batch', 1);

/** Proposes with `initial` until `nInit` configs are out, then with `then`: BO's paired initial design. */
class PairedInit implements Sampler {
  readonly name: string;
  constructor(
    private readonly initial: Sampler,
    private readonly nInit: number,
    private readonly then: Sampler,
  ) {
    this.name = then.name;
  }
  sample(args: { complete: readonly FrozenTrial[]; pending: readonly Config[]; n: number }) {
    const out = args.complete.length + args.pending.length;
    if (out >= this.nInit) return this.then.sample(args);
    return this.initial.sample({ ...args, n: Math.min(args.n, this.nInit - out) });
  }
}

function trial(p: SyntheticPeft, config: Config, i: number, rng: Rng): FrozenTrial {
  return {
    number: i,
    state: 'COMPLETE',
    config,
    values: [p.observe(config, rng), p.cost(config)],
    userAttrs: {},
    createdAt: i,
  };
}

interface Latency {
  cold: number;
  warm: number;
  warmCpu: number;
  fit: number;
  acq: number;
}

/** Wall seconds and this process's CPU seconds of one call (the CPU figure is what a quiet core would take). */
async function timed(f: () => Promise<unknown> | unknown): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t = performance.now();
  await f();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t) / 1000, cpu: (c.user + c.system) / 1e6 };
}

async function latency(): Promise<Record<string, Latency>> {
  const out: Record<string, Latency> = {};
  for (const [L, H, tag] of [
    [12, 768, '15d'],
    [24, 1024, '27d'],
  ] as const) {
    const p = syntheticPeft({ numLayers: L, hidden: H });
    for (const n of [50, 100, 200]) {
      const cold: number[] = [],
        warm: number[] = [],
        warmCpu: number[] = [],
        fit: number[] = [],
        acq: number[] = [];
      for (let rep = 0; rep < REPS; rep++) {
        const rng = new Rng(1000 + rep);
        const hist = Array.from({ length: n }, (_, i) => trial(p, p.space.sample(rng), i, rng));
        const mk = (): BoSampler => new BoSampler({ space: p.space, objectives: p.objectives, seed: rep, nInit: 20 });
        const s1 = mk();
        cold.push((await timed(() => s1.sample({ complete: hist, pending: [], n: 1 }))).wall);
        const s2 = mk();
        await s2.sample({ complete: hist.slice(0, n - 1), pending: [], n: 1 });
        const w = await timed(() => s2.sample({ complete: hist, pending: [], n: 1 }));
        warm.push(w.wall);
        warmCpu.push(w.cpu);
        fit.push(s2.last.fitSec);
        acq.push(s2.last.acqSec);
      }
      const r = {
        cold: median(cold),
        warm: median(warm),
        warmCpu: median(warmCpu),
        fit: median(fit),
        acq: median(acq),
      };
      out[`${tag}@${n}`] = r;
      console.log(
        `suggest ${tag} n=${n}: warm ${r.warm.toFixed(3)} s wall (fit ${r.fit.toFixed(3)} + acq ${r.acq.toFixed(3)}), ` +
          `${r.warmCpu.toFixed(3)} s CPU; cold ${r.cold.toFixed(3)} s wall`,
      );
    }
  }
  return out;
}

const CHECK = 5;

async function curve(
  mk: () => Sampler,
  p: SyntheticPeft,
  budget: number,
  seed: number,
  frontHv: number,
): Promise<number[]> {
  const hv: number[] = [];
  await runLoop({
    sampler: mk(),
    objectives: p.objectives,
    evaluate: (c, rng) => [p.observe(c, rng), p.cost(c)],
    budget,
    batch: BATCH,
    rng: new Rng(seed * 7919 + 1),
    onRound: (complete) => {
      // batches may step over a checkpoint: record every checkpoint passed
      while ((hv.length + 1) * CHECK <= complete.length) {
        hv.push(p.hypervolumeOf(complete.slice(0, (hv.length + 1) * CHECK).map((t) => t.config)) / frontHv);
      }
    },
  });
  return hv; // hv[i] = normalised HV after (i + 1) * CHECK evaluations
}

const VARIANTS = {
  standard: { noise: 0.005, paramScale: 'log10' as const },
  hard: { noise: 0.04, paramScale: 'linear' as const },
};
type Variant = keyof typeof VARIANTS;
const variantsArg = process.argv.indexOf('--variants');
const variants = (variantsArg > 0 ? process.argv[variantsArg + 1]! : 'standard,hard').split(',') as Variant[];

async function efficiency(
  variant: Variant,
): Promise<{ curves: Record<string, number[]>; boEvalsToRandom200: number | null }> {
  const v = VARIANTS[variant];
  const p = syntheticPeft({ numLayers: 12, hidden: 768, noise: v.noise, paramScale: v.paramScale });
  const frontHv = p.trueFrontHypervolume();
  const base = { space: p.space, objectives: p.objectives };
  const names = variant === 'hard' ? ['random', 'nsga2', 'bo', 'bo-binomial'] : ['random', 'nsga2', 'bo'];
  const runs: Record<string, number[][]> = Object.fromEntries(names.map((k) => [k, []]));
  const paired = (seed: number, bo: Sampler): Sampler => new PairedInit(new RandomSampler({ ...base, seed }), 20, bo);
  console.log(`\n${variant}: noise sd ${v.noise}, ${v.paramScale} param %`);
  for (let seed = 0; seed < SEEDS; seed++) {
    const t = performance.now();
    runs.random!.push(await curve(() => new RandomSampler({ ...base, seed }), p, 200, seed, frontHv));
    runs.nsga2!.push(await curve(() => new Nsga2Sampler({ ...base, seed, populationSize: 20 }), p, 200, seed, frontHv));
    runs.bo!.push(await curve(() => paired(seed, new BoSampler({ ...base, seed, nInit: 0 })), p, 100, seed, frontHv));
    if (runs['bo-binomial'])
      runs['bo-binomial'].push(
        await curve(
          () => paired(seed, new BoSampler({ ...base, seed, nInit: 0, noise: 'binomial', validationExamples: 150 })),
          p,
          100,
          seed,
          frontHv,
        ),
      );
    const last = (k: string): string => runs[k]!.at(-1)![19]!.toFixed(3);
    console.log(
      `seed ${seed}: HV@100 ${names.map((k) => `${k} ${last(k)}`).join(' ')} (${((performance.now() - t) / 1000).toFixed(0)} s)`,
    );
  }
  const curves: Record<string, number[]> = {};
  for (const k of Object.keys(runs)) {
    const rs = runs[k]!;
    curves[k] = rs[0]!.map((_, i) => median(rs.map((r) => r[i]!)));
  }
  const target = curves.random!.at(-1)!;
  const idx = curves.bo!.findIndex((v) => v >= target);
  console.log(`\n${variant}: normalised hypervolume (median of ${SEEDS} seeds) vs evaluations, batch ${BATCH}`);
  console.log(`evals   ${names.map((k) => k.padEnd(7)).join(' ')}`);
  for (const e of [10, 20, 30, 40, 50, 75, 100, 150, 200]) {
    const i = e / CHECK - 1;
    const f = (k: string): string => (curves[k]![i] === undefined ? '   -   ' : curves[k]![i]!.toFixed(4).padEnd(7));
    console.log(`${String(e).padStart(5)}   ${names.map(f).join(' ')}`);
  }
  return { curves, boEvalsToRandom200: idx < 0 ? null : (idx + 1) * CHECK };
}

console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} on ${cpus().length} cores`,
);
const lat = await latency();
const effs: Partial<Record<Variant, Awaited<ReturnType<typeof efficiency>>>> = {};
for (const v of variants) effs[v] = await efficiency(v);
const eff = effs.standard ?? effs[variants[0]!]!;
console.log(
  `load average at end: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
console.log(
  `BO reaches random's 200-evaluation HV (${eff.curves.random!.at(-1)!.toFixed(4)}) after ${eff.boEvalsToRandom200 ?? '>100'} evaluations`,
);
const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
console.log(
  JSON.stringify({
    suggestSec200_27d: r4(lat['27d@200']!.warm),
    suggestSec200_15d: r4(lat['15d@200']!.warm),
    boEvalsToRandom200: eff.boEvalsToRandom200,
    hv: { random: r4(eff.curves.random![19]!), nsga2: r4(eff.curves.nsga2![19]!), bo: r4(eff.curves.bo![19]!) },
    ...(effs.hard
      ? {
          hard: {
            boEvalsToRandom200: effs.hard.boEvalsToRandom200,
            hv: Object.fromEntries(Object.entries(effs.hard.curves).map(([k, c]) => [k, r4(c[19]!)])),
          },
        }
      : {}),
  }),
);
