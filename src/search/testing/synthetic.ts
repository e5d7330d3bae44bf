/**
 * A synthetic PEFT-like problem with a known Pareto front, for tests and the search benchmark.
 *
 * Space: the AutoPEFT space for (L layers, hidden H). Objectives: metric (max, noisy) and the
 * paper's param % (min, known exactly) with a BERT-base-like backbone (110M for L = 12), by default
 * on a log10 scale (`log10ParamPct`): PEFT fronts span 0.001% .. 10% and the paper plots them on a
 * log axis; on a linear axis nearly all hypervolume sits at the cheap end and every method looks alike.
 * Hypervolumes use the fixed reference point (metric 0.5, param % 10).
 * Response surface (noise-free), all parts in [0, 1]:
 *   layer coverages: upper layers help adapters more, lower layers help prefixes more:
 *     w_hi(l) = 0.3 + 0.7 ((l+1)/L)^1.5,  w_lo(l) = w_hi(L-1-l),
 *     u_hi = Σ_l w_hi(l) m_l / Σ w_hi,  u_lo likewise;  g(u) = (1 - e^{-4u}) / (1 - e^{-4})
 *     (diminishing returns in the number of layers).
 *   module capacity: cap(D) = log2(1 + D) / log2(1 + H) (diminishing in the size);
 *     b_sa = 1 - e^{-3 cap_sa}, b_pa = 1 - e^{-3 cap_pa}, b_pt = 1 - e^{-2 cap_pt}.
 *   interaction (sub-additive, SA and PA partly redundant, PT tied to the low layers):
 *     c = 1 - (1 - 0.8 b_sa g(u_hi)) (1 - 0.7 b_pa g(u_hi)) (1 - 0.5 b_pt g(u_lo)).
 *   over-capacity penalty: p = 0.03 ((cap_sa + cap_pa + cap_pt) / 3)^2 u_hi.
 *   metric = 0.5 + 0.4 c - p (+ N(0, noise²) when observed).
 * The true front is computed exactly: param % depends only on (#layers, sizes) and the metric is
 * increasing in u_hi and u_lo, so for each layer count only the masks on the (u_hi, u_lo) Pareto
 * set can be best; enumerating those times all size triples gives every candidate for the front.
 */
import type { Config, ObjectiveSpec } from '../types.js';
import { autopeftSizes, autopeftSpace, layerName, paramPct, type ParamPctModel } from '../space/autopeft.js';
import type { SearchSpace } from '../space/space.js';
import type { Rng } from '../../core/random.js';
import { paretoFrontIndices } from '../pareto/pareto.js';
import { hypervolume } from '../pareto/hypervolume.js';

export interface SyntheticPeftOptions {
  numLayers?: number;
  hidden?: number;
  /** Observation noise sd of the metric. */
  noise?: number;
  /** Second objective as log10(param %) (default) or param % itself. */
  paramScale?: 'log10' | 'linear';
}

export interface SyntheticPeft {
  space: SearchSpace;
  objectives: ObjectiveSpec[];
  model: ParamPctModel;
  noise: number;
  /** Noise-free metric. */
  metric(config: Config): number;
  /** A noisy observation of the metric. */
  observe(config: Config, rng: Rng): number;
  /** Fixed reference point for benchmark hypervolumes, in the objectives' scale: [0.5, 10 %]. */
  referencePoint: [number, number];
  /** The second objective's value of a config (param % on the chosen scale). */
  cost(config: Config): number;
  /** Hypervolume (minimisation of [-metric, cost] w.r.t. the reference point) of noise-free values of configs. */
  hypervolumeOf(configs: readonly Config[]): number;
  /** The exact front's hypervolume (only for L <= 16: enumerates masks). */
  trueFrontHypervolume(): number;
}

export function syntheticPeft(opts: SyntheticPeftOptions = {}): SyntheticPeft {
  const L = opts.numLayers ?? 12;
  const H = opts.hidden ?? 768;
  const noise = opts.noise ?? 0.005;
  const logScale = (opts.paramScale ?? 'log10') === 'log10';
  const scale = (pct: number): number => (logScale ? Math.log10(pct) : pct);
  const model: ParamPctModel = { numLayers: L, hidden: H, backboneParams: 110e6 * (L / 12) * (H / 768) ** 2 };
  const space = autopeftSpace({ numLayers: L, hidden: H });
  const wHi = Array.from({ length: L }, (_, l) => 0.3 + 0.7 * ((l + 1) / L) ** 1.5);
  const wLo = wHi.slice().reverse();
  const sHi = wHi.reduce((a, b) => a + b, 0);
  const sLo = wLo.reduce((a, b) => a + b, 0);
  const g = (u: number): number => (1 - Math.exp(-4 * u)) / (1 - Math.exp(-4));
  const cap = (D: number): number => Math.log2(1 + D) / Math.log2(1 + H);
  const surface = (uHi: number, uLo: number, sa: number, pa: number, pt: number): number => {
    const cs = cap(sa),
      cp = cap(pa),
      ct = cap(pt);
    const bsa = 1 - Math.exp(-3 * cs),
      bpa = 1 - Math.exp(-3 * cp),
      bpt = 1 - Math.exp(-2 * ct);
    const gh = g(uHi),
      gl = g(uLo);
    const c = 1 - (1 - 0.8 * bsa * gh) * (1 - 0.7 * bpa * gh) * (1 - 0.5 * bpt * gl);
    const p = 0.03 * ((cs + cp + ct) / 3) ** 2 * uHi;
    return 0.5 + 0.4 * c - p;
  };
  const metric = (c: Config): number => {
    let uh = 0,
      ul = 0;
    for (let l = 0; l < L; l++)
      if (c[layerName(l)] === true) {
        uh += wHi[l]!;
        ul += wLo[l]!;
      }
    return surface(uh / sHi, ul / sLo, c.sa as number, c.pa as number, c.pt as number);
  };
  const referencePoint: [number, number] = [0.5, scale(10)];
  const cost = (c: Config): number => scale(paramPct(c, model));
  const hvOf = (pts: number[][]): number => hypervolume(pts, [-referencePoint[0], referencePoint[1]]);
  return {
    space,
    model,
    noise,
    objectives: [
      { name: 'metric', direction: 'maximize' },
      { name: logScale ? 'log10ParamPct' : 'paramPct', direction: 'minimize', known: cost },
    ],
    cost,
    metric,
    observe: (c, rng) => metric(c) + noise * rng.normal(),
    referencePoint,
    hypervolumeOf: (configs) => hvOf(configs.map((c) => [-metric(c), cost(c)])),
    trueFrontHypervolume: () => {
      if (L > 16) throw new RangeError('trueFrontHypervolume: enumerates 2^L masks; use L <= 16');
      const sizes = autopeftSizes(H);
      // per layer count: the masks on the (u_hi, u_lo) Pareto set
      const byCount: number[][][] = Array.from({ length: L + 1 }, () => []);
      for (let mask = 1; mask < 1 << L; mask++) {
        let uh = 0,
          ul = 0,
          k = 0;
        for (let l = 0; l < L; l++)
          if (mask & (1 << l)) {
            uh += wHi[l]!;
            ul += wLo[l]!;
            k++;
          }
        byCount[k]!.push([-uh / sHi, -ul / sLo]);
      }
      const pts: number[][] = [];
      for (let k = 1; k <= L; k++) {
        const cand = byCount[k]!;
        const best = paretoFrontIndices(cand).map((i) => cand[i]!);
        for (const sa of sizes)
          for (const pa of sizes)
            for (const pt of sizes) {
              if (sa + pa + pt === 0) continue;
              const pct = (100 * k * 2 * H * (sa + pa + pt)) / model.backboneParams;
              if (scale(pct) >= referencePoint[1]) continue;
              let m = -Infinity;
              for (const [a, b] of best) m = Math.max(m, surface(-a!, -b!, sa, pa, pt));
              pts.push([-m, scale(pct)]);
            }
      }
      return hvOf(pts);
    },
  };
}
