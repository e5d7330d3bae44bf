/**
 * Scores a saved adapter (src/peft/io.ts format) on a task split: the PEFT modules and the head
 * are built as frozen constants into one forward program per padded length.
 */
import { Batcher } from '../data/batching.js';
import { computeMetrics, labelsOf, type MetricResult } from '../data/metrics.js';
import { scatterPredictions, tokenFeeds } from './feeds.js';
import type { Example, TaskInfo } from '../data/tasks/types.js';
import type { Backbone } from '../models/backbone.js';
import { createPeft } from '../peft/create.js';
import { checkAdapterBackbone, type SavedAdapter } from '../peft/io.js';
import { compileEval, type EvalProgram } from '../runtime/eval.js';
import { TrainingError } from './errors.js';

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
  const headWeights = new Map(
    [...adapter.headWeights].map(([k, t]) => [
      k,
      { data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) },
    ]),
  );
  const programs = new Map<number, { prog: EvalProgram; inputs: string[] }>();
  const preds = new Float64Array(o.examples.length);
  try {
    for (const b of batcher.batches()) {
      let p = programs.get(b.seq);
      if (!p) {
        const peft = createPeft(adapter.config, backbone.dims, { mode: 'frozen', weights: adapter.weights });
        const built = backbone.buildClassifier({
          seqLen: b.seq,
          numLabels,
          hooks: peft.hooks,
          seed: 0,
          dropout: false,
          headWeights,
        });
        peft.assertBuilt();
        p = {
          prog: await compileEval(
            built.graph,
            { logits: built.logits },
            o.threads !== undefined ? { threads: o.threads } : {},
          ),
          inputs: built.inputNames,
        };
        programs.set(b.seq, p);
      }
      const logits = (await p.prog.run(tokenFeeds(b, p.inputs))).logits!.data as Float32Array;
      scatterPredictions(preds, b, logits, numLabels, task.regression);
    }
  } finally {
    for (const p of programs.values()) await p.prog.release();
  }
  const r = computeMetrics(task, preds, labelsOf(o.examples));
  return { ...r, n: o.examples.length };
}
