/**
 * Scores a saved adapter (src/peft/io.ts format) on a task split: the PEFT modules and the head
 * are built as frozen constants into one forward program per padded length.
 */
import { Batcher } from '../data/batching.js';
import { computeMetrics, labelsOf, type MetricResult } from '../data/metrics.js';
import { predictionsOf, tokenFeeds } from './feeds.js';
import type { Example, TaskInfo } from '../data/tasks/types.js';
import type { Backbone } from '../models/backbone.js';
import { createPeft } from '../peft/create.js';
import { checkAdapterBackbone, type SavedAdapter } from '../peft/io.js';
import { compileEval } from '../runtime/eval.js';
import { TrainingError } from './errors.js';
import { gatherLogits, ProgramsByLength } from './programs.js';

export interface EvaluateOptions {
  backbone: Backbone;
  adapter: SavedAdapter;
  task: TaskInfo;
  examples: readonly Example[];
  maxLength: number;
  batchSize?: number;
  seqBucket?: number;
  threads?: number;
}

/** One forward program per padded length, the adapter's PEFT modules and head built in as constants. */
function frozenPrograms(o: EvaluateOptions, numLabels: number) {
  const headWeights = new Map(
    [...o.adapter.headWeights].map(([k, t]) => [
      k,
      { data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) },
    ]),
  );
  return new ProgramsByLength(
    async (seqLen: number) => {
      const peft = createPeft(o.adapter.config, o.backbone.dims, { mode: 'frozen', weights: o.adapter.weights });
      const built = o.backbone.buildClassifier({
        seqLen,
        numLabels,
        hooks: peft.hooks,
        seed: 0,
        dropout: false,
        headWeights,
      });
      peft.assertBuilt();
      const threads = o.threads !== undefined ? { threads: o.threads } : {};
      return { prog: await compileEval(built.graph, { logits: built.logits }, threads), inputs: built.inputNames };
    },
    (p) => p.prog.release(),
  );
}

export async function evaluateAdapter(o: EvaluateOptions): Promise<MetricResult & { n: number }> {
  const { backbone, adapter, task } = o;
  checkAdapterBackbone(adapter, backbone.dims);
  const numLabels = task.regression ? 1 : task.numLabels;
  if (adapter.head && adapter.head.numLabels !== numLabels) {
    throw new TrainingError(
      `the adapter's head has ${adapter.head.numLabels} outputs but task ${task.name} needs ${numLabels}; evaluate it on the task it was trained for`,
    );
  }
  if (o.examples.length === 0) throw new TrainingError(`no examples to evaluate on for task ${task.name}`);
  const maxLength = Math.min(o.maxLength, backbone.maxLength);
  const seqBucket = o.seqBucket ?? 16;
  const batcher = new Batcher(o.examples, backbone.tokenizer, {
    batchSize: o.batchSize ?? 64,
    maxLength,
    padToMultipleOf: seqBucket,
    shuffle: false,
    regression: task.regression,
  });
  const programs = frozenPrograms(o, numLabels);
  let logits: Float32Array;
  try {
    logits = await gatherLogits(batcher.batches(), o.examples.length, numLabels, async (b) => {
      const p = await programs.get(b.seq);
      return (await p.prog.run(tokenFeeds(b, p.inputs))).logits!.data as Float32Array;
    });
  } finally {
    await programs.release();
  }
  const preds = predictionsOf(logits, o.examples.length, numLabels, task.regression);
  const r = computeMetrics(task, preds, labelsOf(o.examples));
  return { ...r, n: o.examples.length };
}
