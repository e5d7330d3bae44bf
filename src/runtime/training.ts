/**
 * TrainingProgram: one ORT session whose run does forward and backward (our autodiff) and returns
 * the loss and each param's gradient; the decoupled-weight-decay Adam update then runs in JS
 * (./adamw.ts) over the flat param and moment vectors, in place. The params go into ORT without a
 * copy (the binding wraps the typed array), and only the gradients come out: the binding copies
 * every output into a fresh buffer, which for params + m + v (3 x 109M floats at BERT-base shape)
 * cost more than the whole update (docs/engine.md, Benchmark).
 */
import { gradients } from '../graph/autodiff.js';
import { GraphError } from '../graph/errors.js';
import { shapeSize, type Graph, type Value } from '../graph/ir.js';
import { add, cast, div, mul, pow, sqrt, sub } from '../graph/ops/elementwise.js';
import { emitOnnx } from '../graph/onnx/emit.js';
import {
  type AdamWSettings,
  type DecayForm,
  type FloatArray,
  adamWScalars,
  adamWSegment,
  sumOfSquares,
} from './adamw.js';
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
  maxGradNorm?: number | undefined;
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
 * The AdamW update over flat vectors [n] as graph ops (PyTorch AdamW semantics). Programs run the
 * same arithmetic in JS (./adamw.ts); this form is its specification, which the tests hold it to:
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
  /**
   * The tensors this program allocated and never handed out: a step updates these in place. A
   * tensor given out by getState() (or adopted by setState(), or written by store.write()) is never
   * mutated: the next step writes into fresh buffers, which the program then owns.
   */
  private owned = new Set<ort.Tensor>();
  /** Where the last step's time went: the ORT run (forward + backward) and the AdamW update (ms). */
  readonly lastStepMs = { run: 0, update: 0 };

  constructor(
    readonly session: ort.InferenceSession,
    readonly store: ParamStore,
    /** Output name of each param's gradient (store.params order); undefined: the loss does not depend on it. */
    private readonly gradNames: readonly (string | undefined)[],
    private readonly decay: readonly DecayForm[],
    private readonly adamw: AdamWSettings,
    readonly dataInputs: readonly Value[],
    readonly outputNames: readonly string[],
    private readonly config: SessionConfig,
    /** Number of ONNX nodes in the emitted training graph. */
    readonly nodeCount: number,
    /** Names of the params the model reads (graph inputs). */
    private readonly paramInputs: ReadonlySet<string>,
  ) {
    this.m = this.zeros();
    this.v = this.zeros();
    this.owned.add(this.m).add(this.v);
  }

  private zeros(): ort.Tensor {
    const n = this.store.size;
    return tensor(this.store.dtype, this.store.dtype === 'float32' ? new Float32Array(n) : new Float64Array(n), [n]);
  }

  /** The tensor to write `t`'s next values into: `t` itself when owned, else a fresh one (then owned). */
  private target(t: ort.Tensor): ort.Tensor {
    if (this.owned.has(t)) return t;
    const z = this.zeros();
    this.owned.add(z);
    return z;
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
    this.store.feedInto(all, this.paramInputs);
    const t0 = performance.now();
    const out = await this.session.run(all);
    const t1 = performance.now();
    const grads = this.gradNames.map((n) => (n === undefined ? null : (out[n]!.data as FloatArray)));
    this.update(grads, lr);
    this.lastStepMs.run = t1 - t0;
    this.lastStepMs.update = performance.now() - t1;
    const outputs: Record<string, ort.Tensor> = {};
    for (const n of this.outputNames) outputs[n] = out[n]!;
    return { loss: Number((out['loss']!.data as Float32Array)[0]), outputs };
  }

  /** AdamW over all params (bias correction with step = stepsTaken + 1), in place where owned. */
  private update(grads: readonly (FloatArray | null)[], lr: number): void {
    const { store } = this;
    const f32 = store.dtype === 'float32';
    const norm = this.adamw.maxGradNorm === undefined ? undefined : Math.sqrt(sumOfSquares(grads));
    const s = adamWScalars(this.adamw, lr, this.stepsTaken + 1, norm, f32);
    const pT = this.target(store.current);
    const mT = this.target(this.m);
    const vT = this.target(this.v);
    const tensors = [store.current, this.m, this.v, pT, mT, vT] as const;
    store.params.forEach((p, k) => {
      const n = shapeSize(p.shape);
      const g = grads[k]!;
      if (g !== null && g.length !== n)
        throw new GraphError(`training step: gradient of ${p} has ${g.length} values, expected ${n}`);
      adamWSegment(tensors, g, store.offsets[k]!, n, s, this.decay[k]!);
    });
    store.current = pT;
    this.m = mT;
    this.v = vT;
    this.stepsTaken++;
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
   * bucket) share one training run by handing this state to each other with `setState` (or
   * `handOver`, which keeps updating in place). The tensors handed out are never changed afterwards
   * (a snapshot): the next step of this program, or of one that adopted them, writes new tensors
   * (one allocation each, then in place again).
   */
  getState(): TrainingState {
    this.owned.clear();
    return { params: this.store.current, m: this.m, v: this.v, stepsTaken: this.stepsTaken };
  }

  /**
   * The current params as a snapshot (the ORT tensor itself, never changed afterwards: the next step
   * writes its params into a fresh buffer once, then in place again). Unlike `getState`, the moments
   * stay this program's and keep being updated in place.
   */
  snapshotParams(): ort.Tensor {
    this.owned.delete(this.store.current);
    return this.store.current;
  }

  /** Replaces the current params (e.g. with a snapshot of the best epoch's), keeping the moments. */
  setParams(params: ort.Tensor): void {
    if (params.dims[0] !== this.store.size)
      throw new GraphError(`setParams: ${params.dims[0]} values given, this program has ${this.store.size} params`);
    this.owned.delete(this.store.current);
    this.store.current = params;
  }

  /** Adopts another program's state (same param layout); see `getState`. */
  setState(state: TrainingState): void {
    if (state.params.dims[0] !== this.store.size) {
      throw new GraphError(
        `setState: state has ${state.params.dims[0]} params, this program has ${this.store.size}; build both programs from the same model and PEFT config`,
      );
    }
    this.owned.clear();
    this.store.current = state.params;
    this.m = state.m;
    this.v = state.v;
    this.stepsTaken = state.stepsTaken;
  }

  /**
   * Moves this program's state to `next` (same param layout) for its next step, with the ownership
   * of its buffers: unlike `next.setState(this.getState())`, nothing becomes a snapshot, so `next`
   * keeps updating them in place (programs of one run take turns every few steps). This program
   * must adopt a state again before it steps (it would otherwise write into fresh buffers).
   */
  handOver(next: TrainingProgram): void {
    if (next === this) return;
    const owned = [...this.owned];
    next.setState(this.getState());
    for (const t of owned) next.owned.add(t);
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
    this.owned.delete(this.m);
    this.owned.delete(this.v);
    this.m = mk(state.m);
    this.v = mk(state.v);
    this.owned.add(this.m).add(this.v);
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

/** Appends the gradients to the graph (one output per param), emits it and opens the session. */
export async function compileTraining(opts: TrainingOptions): Promise<TrainingProgram> {
  const loss = opts.loss;
  const g = loss.graph;
  const params = opts.params ?? g.params;
  const store = new ParamStore(g, params);
  const grads = gradients(loss, params);
  const dt = store.dtype;
  const cfg = opts.optimizer ?? {};
  const wd = cfg.weightDecay ?? 0;
  const reserved = (k: string) => k === 'loss' || k.startsWith('grad:');
  const outputs: [string, Value][] = [['loss', loss.dtype === dt ? loss : cast(loss, dt)]];
  const gradNames = params.map((p, k) => {
    const gp = grads.get(p);
    if (!gp) return undefined;
    const name = `grad:${k}`;
    outputs.push([name, gp]);
    return name;
  });
  const extra = Object.entries(opts.outputs ?? {});
  for (const [k, val] of extra) {
    if (reserved(k)) throw new GraphError(`compileTraining: output name '${k}' is reserved (loss, grad:*)`);
    outputs.push([k, val]);
  }
  const decay = params.map((p): DecayForm => {
    if (wd === 0) return 'none';
    if (!cfg.noDecay) return 'scaled';
    return cfg.noDecay(p.name) ? 'masked-off' : 'masked-on';
  });
  const model = emitOnnx({
    outputs,
    paramInputs: params,
    training: true,
    contribOps: opts.contribOps,
    externalDataDir: opts.externalDataDir,
  });
  const session = await createSession(model, opts);
  const paramSet = new Set<Value>(params);
  const dataInputs = model.inputs.filter((x) => !paramSet.has(x));
  return new TrainingProgram(
    session,
    store,
    gradNames,
    decay,
    {
      beta1: cfg.beta1 ?? 0.9,
      beta2: cfg.beta2 ?? 0.999,
      eps: cfg.eps ?? 1e-8,
      weightDecay: wd,
      maxGradNorm: cfg.maxGradNorm,
    },
    dataInputs,
    extra.map(([k]) => k),
    opts,
    model.nodeCount,
    new Set(model.inputs.filter((x) => paramSet.has(x)).map((x) => x.name)),
  );
}
