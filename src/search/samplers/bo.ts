/**
 * Bayesian optimisation sampler (AutoPEFT's loop): `nInit` uniform random configs, then for each
 * proposal: fit a GP (ARD Matérn-5/2, normal copula, MAP) to the one modelled objective, build the
 * noisy EHVI against the known objectives (computed exactly, never modelled), and maximise it by
 * discrete local search. q > 1 is sequential greedy: every proposal joins the incumbents as a
 * pending point before the next one is chosen; pending/running trials are incumbents too, with
 * values drawn jointly from the posterior ("sampled fantasies", no refit per fantasy).
 * Proposals never repeat a completed or pending config.
 *
 * Supported objective layouts: exactly one objective without `known`, plus any number of known
 * ones (0: expected improvement; 1: the 2-D closed form; >= 2: the grid form, fine for 2-3).
 */
import type { AttrValue, Config, FrozenTrial, Sampler, SampleArgs } from '../types.js';
import { Rng, mixSeed } from '../../core/random.js';
import { SearchSpaceError } from '../space/errors.js';
import { SEARCH_DEFAULTS } from '../defaults.js';
import { fitGp, type GpPrior, type MaternGp } from '../gp/gp.js';
import { normalCopula } from '../gp/copula.js';
import { inferReferencePoint } from '../pareto/hypervolume.js';
import { paretoFrontIndices } from '../pareto/pareto.js';
import { NoisyEhvi } from '../acquisition/nehvi.js';
import { PlainEhvi } from '../acquisition/plain.js';
import { optimizeDiscrete, type LocalSearchOptions } from '../acquisition/optimize.js';
import { checkObjectives, objectiveValue, sampleUnique, takenKeys, type SamplerOptions } from './common.js';

export interface BoOptions extends SamplerOptions {
  /** Random configs before the first model-based proposal (reference run: 100; AutoPEFT default 20). */
  nInit?: number;
  /**
   * Reference point, one value per objective in its natural orientation (e.g. [metric floor, max
   * param %]). Default: inferred from the observed front (nadir + 10% of its range, like BoTorch).
   */
  referencePoint?: readonly number[];
  /**
   * 'nehvi' (default): noisy EHVI over joint posterior samples of the incumbents, pending trials as
   * sampled fantasies. 'ehvi': the front from the observed (warped) values, pending trials at their
   * posterior mean (Kriging believer): cheaper, right for noise-free metrics.
   */
  acquisition?: 'nehvi' | 'ehvi';
  /** Joint posterior samples of the incumbents for the noisy EHVI. */
  posteriorSamples?: number;
  /** GP fitting effort. */
  fit?: {
    restarts?: number;
    maxIter?: number;
    warmMaxIter?: number;
    prior?: GpPrior;
    /** Hyperparameters are fitted on at most this many trials (the observed front + a seeded random rest); default 300. */
    maxFitPoints?: number;
  };
  /** Acquisition optimisation effort. */
  search?: LocalSearchOptions;
  /** Reuse the previous fit's hyperparameters as a start (faster; results then depend on the call sequence). Default true. */
  warmStart?: boolean;
  /**
   * Observation noise model (default `SEARCH_DEFAULTS.noise`). 'learned': one noise variance for all trials, fitted with
   * the GP. 'binomial': each trial's metric is an accuracy on n validation examples, with the
   * binomial variance p(1 - p)/n known per trial (n from the trial's `validationExamples` user
   * attribute, else `validationExamples` here), added to the learned noise; carried into the
   * copula's scale by its average slope (the delta method).
   */
  noise?: 'learned' | 'binomial';
  /** Validation examples of trials that do not record their own (for `noise: 'binomial'`). */
  validationExamples?: number;
}

/**
 * Known noise variances of the modelled metric in the copula's scale: binomial p(1 - p)/n of each
 * accuracy, times the squared slope std(z)/std(y) of the warp.
 */
export function binomialNoise(
  trials: readonly FrozenTrial[],
  y: readonly number[],
  z: ArrayLike<number>,
  fallbackN: number | undefined,
): Float64Array {
  const sd = (v: ArrayLike<number>): number => {
    const a = Array.from(v);
    const m = a.reduce((s, x) => s + x, 0) / a.length;
    return Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / a.length);
  };
  const sy = sd(y);
  const slope = sy > 0 ? sd(z) / sy : 0;
  return Float64Array.from(trials, (t, i) => {
    const own = t.userAttrs.validationExamples;
    const n = typeof own === 'number' && own > 0 ? own : fallbackN;
    if (n === undefined)
      throw new SearchSpaceError(
        `trial ${t.number}: binomial noise needs its validation size; record userAttrs.validationExamples or pass validationExamples`,
      );
    const p = Math.min(1, Math.max(0, y[i]!));
    return slope * slope * ((p * (1 - p)) / n);
  });
}

/** What `BoSampler.exportState` returns (a type, not an interface, so that it is an `AttrValue`). */
export type BoState = {
  theta: number[];
  lastColdN: number;
};

export interface BoDiagnostics {
  /** Seconds spent fitting the GP and optimising the acquisition in the last call. */
  fitSec: number;
  acqSec: number;
  /** Acquisition value of each proposal of the last call (NaN for random ones). */
  values: number[];
  /** GP objective evaluations and acquisition evaluations of the last call. */
  fitEvaluations: number;
  acqEvaluations: number;
  gp: MaternGp | null;
}

export class BoSampler implements Sampler {
  readonly name = 'bo';
  private readonly o: BoOptions;
  private readonly unknown: number;
  private readonly knownIdx: number[];
  private lastTheta: Float64Array | null = null;
  /** Number of trials at the last multi-start (cold) fit. */
  private lastColdN = 0;
  /** Timing and values of the last call (for benchmarks and logs). */
  last: BoDiagnostics = { fitSec: 0, acqSec: 0, values: [], gp: null, fitEvaluations: 0, acqEvaluations: 0 };

  constructor(opts: BoOptions) {
    checkObjectives(opts.objectives, 'BoSampler');
    const unknown = opts.objectives.map((o, j) => (o.known ? -1 : j)).filter((j) => j >= 0);
    if (unknown.length !== 1) {
      throw new SearchSpaceError(
        `BoSampler: objectives must have exactly one modelled objective (without "known"), got ${unknown.length}; use nsga2 or random for several unknown objectives`,
      );
    }
    if (opts.referencePoint && opts.referencePoint.length !== opts.objectives.length) {
      throw new SearchSpaceError(
        `BoSampler: referencePoint has ${opts.referencePoint.length} values; give one per objective (${opts.objectives.length})`,
      );
    }
    this.o = opts;
    this.unknown = unknown[0]!;
    this.knownIdx = opts.objectives.map((o, j) => (o.known ? j : -1)).filter((j) => j >= 0);
  }

  /**
   * The state that warm starts depend on (last hyperparameters, size at the last multi-start fit),
   * plain JSON: store it with the study and `importState` it after a restart so that a resumed run
   * proposes exactly what the uninterrupted one would have.
   */
  exportState(): BoState | null {
    return this.lastTheta ? { theta: Array.from(this.lastTheta), lastColdN: this.lastColdN } : null;
  }

  importState(state: AttrValue): void {
    if (state === null) {
      this.lastTheta = null;
      this.lastColdN = 0;
      return;
    }
    const st = state as Partial<Record<keyof BoState, unknown>>;
    if (
      typeof state !== 'object' ||
      !Array.isArray(st.theta) ||
      st.theta.some((v) => typeof v !== 'number' || !Number.isFinite(v)) ||
      !Number.isInteger(st.lastColdN)
    ) {
      throw new SearchSpaceError(
        'BoSampler.importState: state must be {theta: finite numbers, lastColdN: integer} as exportState returns',
      );
    }
    this.lastTheta = Float64Array.from(st.theta as number[]);
    this.lastColdN = st.lastColdN as number;
  }

  sample(args: SampleArgs): Config[] {
    const { space } = this.o;
    const rng = new Rng(mixSeed(this.o.seed ?? 0, args.complete.length, args.pending.length, args.n, 3));
    const taken = takenKeys(space, args);
    const nInit = Math.max(2, this.o.nInit ?? 20);
    if (args.complete.length < nInit) {
      this.last = {
        fitSec: 0,
        acqSec: 0,
        values: new Array<number>(args.n).fill(NaN),
        gp: null,
        fitEvaluations: 0,
        acqEvaluations: 0,
      };
      return sampleUnique(space, rng, args.n, taken);
    }
    for (const t of args.complete) space.checkDomain(t.config, `trial ${t.number}`);
    for (const c of args.pending) space.checkDomain(c, 'a pending trial');
    const objs = this.o.objectives;
    const uo = objs[this.unknown]!;
    // the modelled objective through the copula; sign: latent -> minimisation convention
    const yRaw = args.complete.map((t) => objectiveValue(t, uo, this.unknown));
    const cop = normalCopula(yRaw);
    const sign: 1 | -1 = uo.direction === 'maximize' ? -1 : 1;
    const t0 = performance.now();
    const X = space.encodeAll(args.complete.map((t) => t.config));
    const d = space.dim;
    const fitO = this.o.fit ?? {};
    // NOTE: warm-started fits can stay in the basin found with few data; a full multi-start fit is
    // redone whenever the data grew by 25% since the last one (amortised: ~1 in 50 calls at n = 200).
    const n = args.complete.length;
    const canWarm = this.o.warmStart !== false && this.lastTheta?.length === d + 2 && n < 1.25 * this.lastColdN;
    const warm = canWarm ? this.lastTheta : null;
    if (!warm) this.lastColdN = n;
    // NOTE: a warm start (last call's optimum) converges in a few iterations (looser ftol 1e-6:
    // ~2e-4 nats at n = 200, invisible to the acquisition); a cold fit gets one random restart
    // besides the default start. Iteration caps bound the cost (each evaluation is O(n³)).
    // NOTE: beyond maxFitPoints trials θ is fitted on a subset (the observed front plus a seeded
    // random rest): each evaluation costs O(m³); the GP still conditions on every trial.
    const knownMin = (c: Config): number[] =>
      this.knownIdx.map((j) => (objs[j]!.direction === 'maximize' ? -1 : 1) * objs[j]!.known!(c));
    // observed points in (known..., latent) minimisation coordinates, and their front
    const completeKnown = args.complete.map((t) => knownMin(t.config));
    const obsPts = completeKnown.map((kn, i) => [...kn, sign * cop.z[i]!]);
    const obsFront = paretoFrontIndices(obsPts);
    const maxFit = fitO.maxFitPoints ?? 300;
    let fitRows: number[] | undefined;
    if (n > maxFit) {
      const front = obsFront.slice(0, maxFit);
      const inFront = new Set(front);
      const rest = rng.shuffle(Array.from({ length: n }, (_, i) => i).filter((i) => !inFront.has(i)));
      fitRows = [...front, ...rest.slice(0, maxFit - front.length)].sort((a, b) => a - b);
    }
    const gp = fitGp(X, n, d, cop.z, {
      ...(fitRows ? { fitRows } : {}),
      ...((this.o.noise ?? SEARCH_DEFAULTS.noise) === 'binomial'
        ? { noiseVariances: binomialNoise(args.complete, yRaw, cop.z, this.o.validationExamples) }
        : {}),
      restarts: warm ? 0 : (fitO.restarts ?? 1),
      maxIter: warm ? (fitO.warmMaxIter ?? 15) : (fitO.maxIter ?? 50),
      ...(warm ? { ftol: 1e-6 } : {}),
      ...(warm ? { warmStart: warm } : {}),
      ...(fitO.prior ? { prior: fitO.prior } : {}),
      rng,
    });
    this.lastTheta = gp.theta;
    const t1 = performance.now();
    let ref: number[];
    if (this.o.referencePoint) {
      const rp = this.o.referencePoint;
      ref = [
        ...this.knownIdx.map((j) => (objs[j]!.direction === 'maximize' ? -1 : 1) * rp[j]!),
        sign * cop.toLatent(rp[this.unknown]!),
      ];
    } else ref = inferReferencePoint(obsPts, 0.1);
    const paretoConfigs = obsFront.map((i) => args.complete[i]!.config);
    const out: Config[] = [];
    const values: number[] = [];
    let acqEvaluations = 0;
    const pendingCfg: Config[] = [...args.pending];
    for (let q = 0; q < args.n; q++) {
      // incumbents: the complete trials (encoded and known values computed above), then the pending configs
      const incKnown = [...completeKnown, ...pendingCfg.map(knownMin)];
      let acq: { value(x: ArrayLike<number>, xo: number, known: ArrayLike<number>): number };
      if (this.o.acquisition === 'ehvi') {
        // Kriging believer: pending configs enter the front at their posterior mean
        const pl = Array.from(cop.z);
        for (const c of pendingCfg) pl.push(gp.predict(space.encode(c)).mean);
        acq = new PlainEhvi({ gp, sign, known: incKnown, latent: pl, ref });
      } else {
        acq = new NoisyEhvi({
          gp,
          sign,
          incumbentsX: concatRows(X, space.encodeAll(pendingCfg)),
          incumbentsKnown: incKnown,
          ref,
          nSamples: this.o.posteriorSamples ?? 32,
          rng,
        });
      }
      const xb = new Float64Array(d);
      const best = optimizeDiscrete({
        space,
        rng,
        exclude: taken,
        paretoConfigs,
        score: (c) => acq.value(space.encode(c, xb), 0, knownMin(c)),
        ...(this.o.search ?? {}),
      });
      acqEvaluations += best?.evaluations ?? 0;
      let pick: Config;
      if (best && best.value > 0) {
        pick = best.config;
        values.push(best.value);
      } else {
        // no candidate improves in expectation (all mass beyond the reference point): explore
        pick = sampleUnique(space, rng, 1, taken)[0]!;
        values.push(0);
      }
      taken.add(space.key(pick));
      out.push(pick);
      pendingCfg.push(pick);
    }
    const t2 = performance.now();
    this.last = {
      fitSec: (t1 - t0) / 1000,
      acqSec: (t2 - t1) / 1000,
      values,
      gp,
      fitEvaluations: gp.fitEvaluations,
      acqEvaluations,
    };
    return out;
  }
}

/** a then b (row-major blocks of equal width) in one array. */
function concatRows(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
