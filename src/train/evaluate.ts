/**
 * Scores a saved adapter (src/peft/io.ts format) on a task split: the PEFT modules and the head
 * are built as frozen constants into one forward program per padded length.
 */
import { Batcher } from '../data/batching.js';
import { computeMetrics, labelsOf, type MetricResult } from '../data/metrics.js';
import { predictionsOf, tokenFeeds } from './feeds.js';
import type { Example, TaskInfo } from '../data/tasks/types.js';
import type { Backbone } from '../models/backbone.js';
import type { PairEncoding } from '../models/types.js';
import { effectivePairEncoding } from './trainer.js';
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
function frozenPrograms(o: EvaluateOptions, numLabels: number, siamese: boolean) {
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
        ...(siamese ? { pairEncoding: 'siamese' as const, pairHead: o.adapter.head?.pairHead } : {}),
      });
      peft.assertBuilt();
      const threads = o.threads !== undefined ? { threads: o.threads } : {};
      return { prog: await compileEval(built.graph, { logits: built.logits }, threads), inputs: built.inputNames };
    },
    (p) => p.prog.release(),
  );
}

/** The pair encoding a saved adapter was trained with (absent in its config: `cross`), checked against the backbone. */
function adapterPairEncoding(adapter: SavedAdapter, backbone: Backbone): PairEncoding {
  const enc = adapter.head?.pairEncoding ?? 'cross';
  if (!(backbone.pairEncodings ?? ['cross']).includes(enc))
    throw new TrainingError(
      `the adapter encodes sentence pairs as '${enc}', which ${backbone.kind} backbones cannot build; evaluate it on the backbone it was trained on`,
    );
  return enc;
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
  // The adapter was trained with one pair encoding; its head only fits that one.
  const pairEncoding = adapterPairEncoding(adapter, backbone);
  const siamese = effectivePairEncoding(pairEncoding, o.examples) === 'siamese';
  const batcher = new Batcher(o.examples, backbone.tokenizer, {
    batchSize: o.batchSize ?? 64,
    maxLength,
    padToMultipleOf: seqBucket,
    shuffle: false,
    regression: task.regression,
    pairEncoding: siamese ? 'siamese' : 'cross',
  });
  const programs = frozenPrograms(o, numLabels, siamese);
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
