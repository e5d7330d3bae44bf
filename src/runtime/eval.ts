/** EvalProgram: forward only (dropout off), reading the params from a ParamStore shared with training. */
import type { Graph, Value } from '../graph/ir.js';
import { emitOnnx } from '../graph/onnx/emit.js';
import { FeedError } from './errors.js';
import { ParamStore } from './params.js';
import { createSession, type ort, type SessionConfig } from './session.js';

export class EvalProgram {
  constructor(
    readonly session: ort.InferenceSession,
    readonly store: ParamStore | undefined,
    readonly dataInputs: readonly Value[],
    readonly outputNames: readonly string[],
    /** Names of the params the model reads (graph inputs). */
    private readonly paramInputs: ReadonlySet<string>,
  ) {}

  /** Runs the forward pass with the store's current params. */
  async run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    const all: Record<string, ort.Tensor> = {};
    for (const v of this.dataInputs) {
      const t = feeds[v.name];
      if (!t)
        throw new FeedError(
          `eval: missing feed '${v.name}' (${v}); feeds given: ${Object.keys(feeds).join(', ') || 'none'}`,
        );
      all[v.name] = t;
    }
    this.store?.feedInto(all, this.paramInputs);
    const out = await this.session.run(all);
    const res: Record<string, ort.Tensor> = {};
    for (const n of this.outputNames) res[n] = out[n]!;
    return res;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export async function compileEvalWithStore(
  store: ParamStore | undefined,
  outputs: Record<string, Value>,
  cfg: SessionConfig = {},
): Promise<EvalProgram> {
  const outs = Object.entries(outputs);
  const model = emitOnnx({
    outputs: outs,
    paramInputs: store?.params ?? [],
    training: false,
    contribOps: cfg.contribOps,
    externalDataDir: cfg.externalDataDir,
  });
  const session = await createSession(model, cfg);
  const params = new Set<Value>(store?.params);
  return new EvalProgram(
    session,
    store,
    model.inputs.filter((x) => !params.has(x)),
    outs.map(([k]) => k),
    new Set(model.inputs.filter((x) => params.has(x)).map((x) => x.name)),
  );
}

/**
 * A forward-only program. With `params`, those are fed from a flat ParamStore (so new values can be
 * written later); without, every param is frozen into the model as an initializer.
 */
export async function compileEval(
  graph: Graph,
  outputs: Record<string, Value>,
  cfg: SessionConfig & { params?: readonly Value[] } = {},
): Promise<EvalProgram> {
  const store = cfg.params && cfg.params.length > 0 ? new ParamStore(graph, cfg.params) : undefined;
  return compileEvalWithStore(store, outputs, cfg);
}
