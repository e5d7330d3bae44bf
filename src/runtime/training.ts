/**
 * TrainingProgram: one ORT session whose single run does forward, backward (our autodiff) and a
 * decoupled-weight-decay Adam update over the flat param vector. lr and step are inputs, so
 * schedules live outside; params, m and v go in and come out, and step n's output tensors are fed
 * straight back as step n+1's inputs (the binding keeps nothing native between runs).
 */
import { gradients } from '../graph/autodiff.js';
import { GraphError } from '../graph/errors.js';
import { shapeSize, type Graph, type Value } from '../graph/ir.js';
import { add, cast, div, greater, mul, pow, sqrt, sub, where } from '../graph/ops/elementwise.js';
import { reduceSum } from '../graph/ops/reduce.js';
import { concat, expandLike, reshape } from '../graph/ops/shape.js';
import { emitOnnx } from '../graph/onnx/emit.js';
import { FeedError } from './errors.js';
import { ParamStore, type NamedTensor } from './params.js';
import { createSession, type ort, tensor, type SessionConfig } from './session.js';
import { type EvalProgram, compileEvalWithStore } from './eval.js';

export interface AdamWConfig {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (AdamW), default 0. */
  weightDecay?: number;
  /** Params that get no weight decay (e.g. biases and LayerNorm weights). */
  noDecay?: (paramName: string) => boolean;
  /** Clip the global gradient L2 norm to this value before the update. */
  maxGradNorm?: number;
}

export interface TrainingOptions extends SessionConfig {
  /** Scalar loss. */
  loss: Value;
  /** Trainable params (default: every g.param() the loss depends on... and the rest, in graph order). */
  params?: readonly Value[];
  optimizer?: AdamWConfig;
  /** Extra values fetched every step (e.g. logits), by name. */
  outputs?: Record<string, Value>;
}

export interface TrainingState {
  params: ort.Tensor;
  m: ort.Tensor;
  v: ort.Tensor;
  stepsTaken: number;
}

export interface StepResult {
  loss: number;
  outputs: Record<string, ort.Tensor>;
}

/**
 * Builds the AdamW update over flat vectors [n] (PyTorch AdamW semantics):
 * m' = b1 m + (1-b1) g;  v' = b2 v + (1-b2) g^2;  p' = p (1 - lr wd) - lr/(1-b1^t) * m' / (sqrt(v'/(1-b2^t)) + eps).
 */
export function adamWUpdate(
  p: Value,
  gr: Value,
  m: Value,
  v: Value,
  lr: Value,
  step: Value,
  cfg: AdamWConfig,
  decayMask?: Value,
): { p: Value; m: Value; v: Value } {
  const b1 = cfg.beta1 ?? 0.9;
  const b2 = cfg.beta2 ?? 0.999;
  const eps = cfg.eps ?? 1e-8;
  const wd = cfg.weightDecay ?? 0;
  const g = p.graph;
  const dt = p.dtype;
  const bc1 = sub(1, pow(g.scalar(b1, dt), step));
  const bc2 = sub(1, pow(g.scalar(b2, dt), step));
  const m2 = add(m, mul(sub(gr, m), 1 - b1));
  const v2 = add(v, mul(sub(mul(gr, gr), v), 1 - b2));
  const denom = add(sqrt(div(v2, bc2)), eps);
  const upd = mul(div(m2, denom), div(lr, bc1));
  let decayed = p;
  if (wd !== 0) {
    const lw = mul(lr, wd);
    decayed = decayMask ? sub(p, mul(p, mul(decayMask, lw))) : mul(p, sub(1, lw));
  }
  return { p: sub(decayed, upd), m: m2, v: v2 };
}

export class TrainingProgram {
  /** Number of steps taken (the next step uses step = stepsTaken + 1 for bias correction). */
  stepsTaken = 0;
  private m: ort.Tensor;
  private v: ort.Tensor;

  constructor(
    readonly session: ort.InferenceSession,
    readonly store: ParamStore,
    private readonly names: {
      m: string;
      v: string;
      lr: string;
      step: string;
      pOut: string;
      mOut: string;
      vOut: string;
    },
    readonly dataInputs: readonly Value[],
    readonly outputNames: readonly string[],
    private readonly config: SessionConfig,
    /** Number of ONNX nodes in the emitted training graph. */
    readonly nodeCount: number,
  ) {
    const z = () =>
      tensor(store.dtype, store.dtype === 'float32' ? new Float32Array(store.size) : new Float64Array(store.size), [
        store.size,
      ]);
    this.m = z();
    this.v = z();
  }

  get graph(): Graph {
    return this.store.graph;
  }

  /** One forward + backward + AdamW step on a batch. `feeds` maps data input names to tensors. */
  async step(feeds: Record<string, ort.Tensor>, lr: number): Promise<StepResult> {
    const all: Record<string, ort.Tensor> = {};
    for (const v of this.dataInputs) {
      const t = feeds[v.name];
      if (!t)
        throw new FeedError(
          `training step: missing feed '${v.name}' (${v}); feeds given: ${Object.keys(feeds).join(', ') || 'none'}`,
        );
      all[v.name] = t;
    }
    const dt = this.store.dtype;
    const sc = (x: number) => tensor(dt, dt === 'float32' ? Float32Array.of(x) : Float64Array.of(x), []);
    all[this.store.input.name] = this.store.current;
    all[this.names.m] = this.m;
    all[this.names.v] = this.v;
    all[this.names.lr] = sc(lr);
    all[this.names.step] = sc(this.stepsTaken + 1);
    const out = await this.session.run(all);
    this.store.current = out[this.names.pOut]!;
    this.m = out[this.names.mOut]!;
    this.v = out[this.names.vOut]!;
    this.stepsTaken++;
    const outputs: Record<string, ort.Tensor> = {};
    for (const n of this.outputNames) outputs[n] = out[n]!;
    return { loss: Number((out['loss']!.data as Float32Array)[0]), outputs };
  }

  /** Current param values keyed by name (copies). */
  readParams(): Map<string, NamedTensor> {
    return this.store.read();
  }

  /** Current Adam moments (copies of the flat vectors, param order as `store.params`). */
  readOptimizerState(): { m: Float32Array | Float64Array; v: Float32Array | Float64Array; step: number } {
    return {
      m: (this.m.data as Float32Array).slice(),
      v: (this.v.data as Float32Array).slice(),
      step: this.stepsTaken,
    };
  }

  /**
   * The optimiser state as the ORT tensors themselves (no copies): params, Adam moments, steps.
   * Programs built from the same model at different static shapes (e.g. one per sequence-length
   * bucket) share one training run by handing this state to each other with `setState`.
   */
  getState(): TrainingState {
    return { params: this.store.current, m: this.m, v: this.v, stepsTaken: this.stepsTaken };
  }

  /** Adopts another program's state (same param layout); see `getState`. */
  setState(state: TrainingState): void {
    if (state.params.dims[0] !== this.store.size) {
      throw new GraphError(
        `setState: state has ${state.params.dims[0]} params, this program has ${this.store.size}; build both programs from the same model and PEFT config`,
      );
    }
    this.store.current = state.params;
    this.m = state.m;
    this.v = state.v;
    this.stepsTaken = state.stepsTaken;
  }

  /** Restores Adam moments and the step count (e.g. when resuming from a checkpoint). */
  restoreOptimizerState(state: { m: ArrayLike<number>; v: ArrayLike<number>; step: number }): void {
    const n = this.store.size;
    if (state.m.length !== n || state.v.length !== n)
      throw new FeedError(
        `restoreOptimizerState: m and v must have ${n} values (got ${state.m.length}, ${state.v.length})`,
      );
    const mk = (x: ArrayLike<number>) =>
      tensor(this.store.dtype, this.store.dtype === 'float32' ? Float32Array.from(x) : Float64Array.from(x), [n]);
    this.m = mk(state.m);
    this.v = mk(state.v);
    this.stepsTaken = state.step;
  }

  /** Forward-only program over the same graph that reads this program's current params. */
  async evalProgram(outputs: Record<string, Value>, cfg: SessionConfig = this.config): Promise<EvalProgram> {
    return compileEvalWithStore(this.store, outputs, cfg);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Appends gradients + AdamW to the graph, emits it and opens the session. */
export async function compileTraining(opts: TrainingOptions): Promise<TrainingProgram> {
  const loss = opts.loss;
  const g = loss.graph;
  const params = opts.params ?? g.params;
  const store = new ParamStore(g, params);
  const grads = gradients(loss, params);
  const dt = store.dtype;
  const flatParts = params.map((p) => {
    const gp = grads.get(p) ?? expandLike(g.scalar(0, dt), p.shape);
    return reshape(gp, [shapeSize(p.shape)]);
  });
  let gflat = flatParts.length === 1 ? flatParts[0]! : concat(flatParts, 0);
  const cfg = opts.optimizer ?? {};
  if (cfg.maxGradNorm !== undefined) {
    const norm = sqrt(reduceSum(mul(gflat, gflat)));
    const c = cfg.maxGradNorm;
    gflat = mul(gflat, where(greater(norm, c), div(c, norm), 1));
  }
  const m = g.freshInput('adam_m', dt, [store.size]);
  const v = g.freshInput('adam_v', dt, [store.size]);
  const lr = g.freshInput('lr', dt, []);
  const step = g.freshInput('step', dt, []);
  let mask: Value | undefined;
  if (cfg.noDecay && (cfg.weightDecay ?? 0) !== 0) {
    const md = dt === 'float32' ? new Float32Array(store.size) : new Float64Array(store.size);
    params.forEach((p, k) => {
      md.fill(cfg.noDecay!(p.name) ? 0 : 1, store.offsets[k], store.offsets[k]! + shapeSize(p.shape));
    });
    mask = g.constant(md, [store.size]);
  }
  const upd = adamWUpdate(store.input, gflat, m, v, lr, step, cfg, mask);
  const outputs: [string, Value][] = [
    ['loss', loss.dtype === dt ? loss : cast(loss, dt)],
    ['params_out', upd.p],
    ['adam_m_out', upd.m],
    ['adam_v_out', upd.v],
  ];
  const extra = Object.entries(opts.outputs ?? {});
  for (const [k, val] of extra) {
    if (['loss', 'params_out', 'adam_m_out', 'adam_v_out'].includes(k))
      throw new GraphError(`compileTraining: output name '${k}' is reserved`);
    outputs.push([k, val]);
  }
  const model = emitOnnx({
    outputs,
    flatParams: { input: store.input, params },
    training: true,
    contribOps: opts.contribOps,
    externalDataDir: opts.externalDataDir,
  });
  const session = await createSession(model, opts);
  const special = new Set<Value>([store.input, m, v, lr, step]);
  const dataInputs = model.inputs.filter((x) => !special.has(x));
  return new TrainingProgram(
    session,
    store,
    { m: m.name, v: v.name, lr: lr.name, step: step.name, pOut: 'params_out', mOut: 'adam_m_out', vOut: 'adam_v_out' },
    dataInputs,
    extra.map(([k]) => k),
    opts,
    model.nodeCount,
  );
}
