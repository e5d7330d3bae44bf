/**
 * USE-lite sentence pairs through export and predict, on adapters briefly trained on MRPC:
 * - siamese: `export` writes the two-input ONNX model (input_ids, attention_mask, input_ids_b,
 *   attention_mask_b), checked against autopeft's forward on real dev pairs; its config.json and
 *   model card say so, and the card's onnxruntime-node snippet runs as printed and gives the
 *   logits of `predict --model-dir`; `predict --adapter` (scoring as `evaluate` does) and
 *   `predict --model-dir` give the same labels and scores (<= 1e-4) on MRPC dev pairs, from a
 *   --text/--pair (CLI) or pairs in process; one text alone, a --pair count mismatch and the
 *   Python-library formats are one-line errors (nothing written);
 * - the mlp (classification) and cosine (regression) pair heads export and predict alike;
 * - cross (one sequence per pair): predict --adapter and --model-dir agree on the same pairs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTask } from '../../src/data/tasks/load.js';
import type { Example } from '../../src/data/tasks/types.js';
import { loadBackbone } from '../../src/models/backbone.js';
import { parsePeftConfig } from '../../src/peft/config.js';
import { loadPeftAdapter } from '../../src/peft/io.js';
import { evaluateAdapter } from '../../src/train/evaluate.js';
import { runTrial } from '../../src/train/trial.js';
import type { PairEncoding } from '../../src/models/types.js';
import { UserError } from '../../src/core/errors.js';
import type { Backbone } from '../../src/models/backbone.js';
import { exportAdapter } from '../../src/pipeline/export.js';
import { type PredictInput, predictWithAdapter, predictWithExport } from '../../src/pipeline/predict.js';
import { flagInputs, parseInputs } from '../../src/cli/commands/predict.js';
import { seededNormal } from '../../src/core/random.js';
import { cli } from './helpers.js';

const DATA = join(import.meta.dirname, '../../../shared/data');
const haveMrpc = existsSync(join(DATA, 'glue/mrpc'));
const ROOT = join(import.meta.dirname, '../..');
const N = 24;

interface Row {
  label: string | null;
  score: number;
  scores: number[];
}

const predictions = (stdout: string): Row[] => (JSON.parse(stdout) as { predictions: Row[] }).predictions;

function assertSame(a: readonly Row[], b: readonly Row[], what: string): void {
  assert.equal(a.length, b.length, what);
  for (const [i, x] of a.entries()) {
    assert.equal(x.label, b[i]!.label, `${what}: pair ${i}`);
    for (const [j, s] of x.scores.entries())
      assert.ok(Math.abs(s - b[i]!.scores[j]!) <= 1e-4, `${what}: pair ${i} score ${j}: ${s} vs ${b[i]!.scores[j]}`);
  }
}

/** A few optimiser steps on MRPC (the checks are equalities between paths, not accuracy). */
async function trainBriefly(dir: string, pairEncoding: PairEncoding): Promise<void> {
  const r = await runTrial({
    model: 'use-lite',
    task: 'mrpc',
    dataDir: DATA,
    peft: parsePeftConfig({ sa: 8, pt: 2, lora: 2, layers: 'all' }, 2),
    hyper: { epochs: 1, lr: 5e-3, batchSize: 16, maxLength: 32, seed: 0, threads: 1 },
    fidelity: { trainCount: 48 },
    pairEncoding,
    saveDir: dir,
  });
  assert.equal(r.pairEncoding, pairEncoding);
}

/** `node --input-type=module` in the repository (so the snippet's bare imports resolve), stdin = code. */
function runModule(code: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--input-type=module'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (c) => resolve({ code: c ?? -1, stdout, stderr }));
    p.stdin.end(code);
  });
}

describe('USE-lite sentence pairs: export and predict', { skip: !haveMrpc && `no ${DATA}/glue/mrpc` }, () => {
  let dir = '';
  let siamese = '';
  let cross = '';
  let out = '';
  let dev: Example[] = [];
  let inputs: PredictInput[] = [];
  let backbone: Backbone;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autopeft-pairs-'));
    siamese = join(dir, 'siamese');
    cross = join(dir, 'cross');
    backbone = await loadBackbone('use-lite');
    await trainBriefly(siamese, 'siamese');
    await trainBriefly(cross, 'cross');
    dev = (await loadTask('mrpc', { dataDir: DATA })).validation!.slice(0, N);
    inputs = dev.map((e) => ({ text: e.text, pair: e.pair! }));
    out = join(dir, 'export');
    const r = await cli(['export', '--adapter', siamese, '--out', out, '--data', DATA, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { pairEncoding: string; onnx: { inputs: string[]; maxAbsDiff: number } };
    assert.equal(doc.pairEncoding, 'siamese');
    assert.deepEqual(doc.onnx.inputs, ['input_ids', 'attention_mask', 'input_ids_b', 'attention_mask_b']);
    assert.ok(doc.onnx.maxAbsDiff < 1e-4, `export check ${doc.onnx.maxAbsDiff}`);
    // Checked on the task's first 8 dev pairs (--data), not the fixed sentences.
    assert.match(r.stderr + r.stdout, /checked: .* on 8 inputs/);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the siamese adapter and its two-input export give the same labels and scores on MRPC dev pairs', async () => {
    const adapter = await loadPeftAdapter(siamese);
    assert.deepEqual([adapter.head?.pairEncoding, adapter.head?.pairHead], ['siamese', 'mlp']);
    const ours = (await predictWithAdapter({ backbone, adapter, inputs, threads: 1 })).predictions;
    const pos = ours.map((p) => p.scores[1]!);
    assert.ok(Math.max(...pos) - Math.min(...pos) > 1e-4, 'scores barely vary');
    // predict --adapter labels the pairs as evaluate scores them.
    const task = await loadTask('mrpc', { dataDir: DATA });
    const ev = await evaluateAdapter({ backbone, adapter, task: task.info, examples: dev, maxLength: 128, threads: 1 });
    const names = task.info.labelNames!;
    const correct = ours.filter((p, i) => names.indexOf(p.label!) === dev[i]!.label).length;
    assert.ok(
      Math.abs(ev.metrics.accuracy! - correct / N) < 1e-9,
      `evaluate ${ev.metrics.accuracy} vs ${correct}/${N}`,
    );

    // The tab-separated --input form reads these pairs back.
    const tsv = dev.map((e) => `${e.text}\t${e.pair}`).join('\n');
    assert.deepEqual(parseInputs(tsv, false, 'pairs.tsv'), inputs);
    const viaExport = await predictWithExport({ dir: out, inputs, threads: 1 });
    assertSame(viaExport.predictions, ours, 'adapter vs export');
    // The CLI: --text/--pair on the export give the adapter's rows.
    const args = dev.slice(0, 2).flatMap((e) => ['--text', e.text, '--pair', e.pair!]);
    const flags = await cli(['predict', '--model-dir', out, ...args, '--json']);
    assert.equal(flags.code, 0, flags.stderr);
    assertSame(predictions(flags.stdout), ours.slice(0, 2), 'CLI --text/--pair vs adapter');
  });

  it('config.json and the model card say the model takes two texts; the card snippet runs as printed', async () => {
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config['pair_encoding'], 'siamese');
    assert.deepEqual(config['input_names'], ['input_ids', 'attention_mask', 'input_ids_b', 'attention_mask_b']);
    assert.equal((config['autopeft'] as Record<string, unknown>)['pairEncoding'], 'siamese');
    const card = await readFile(join(out, 'README.md'), 'utf8');
    assert.match(card, /takes \*\*two texts\*\*/);
    assert.match(card, /encoded \*\*siamese\*\*/);
    const snippet = /```js\n([\s\S]*?)```/.exec(card)?.[1];
    assert.ok(snippet?.includes("from 'onnxruntime-node'"), 'the card shows the onnxruntime-node call');
    const a = /const a = \['(.*)'\];/.exec(snippet!)![1]!;
    const b = /const b = \['(.*)'\];/.exec(snippet!)![1]!;
    const run = await runModule(
      `const dir = ${JSON.stringify(out)};\n${snippet}\nconsole.log(JSON.stringify(Array.from(logits.data)));\n`,
    );
    assert.equal(run.code, 0, run.stderr);
    const logits = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as number[];
    const m = Math.max(...logits);
    const z = logits.reduce((s, x) => s + Math.exp(x - m), 0);
    const probs = logits.map((x) => Math.exp(x - m) / z);
    const want = (await predictWithExport({ dir: out, inputs: [{ text: a, pair: b }], threads: 1 })).predictions;
    assertSame([{ label: want[0]!.label, score: 0, scores: probs }], want, 'snippet vs predict --model-dir');
  });

  it('one text for a two-text model, a --pair count mismatch and the Python-library formats are one-line errors', async () => {
    const r = await cli(['predict', '--adapter', siamese, '--text', 'only one text']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /input 1 has no second text, but the adapter takes sentence pairs.*--pair/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    await assert.rejects(
      predictWithExport({ dir: out, inputs: [...inputs.slice(0, 2), { text: 'alone' }] }),
      (e: Error) => e instanceof UserError && /^input 3 has no second text, but .*model\.onnx takes/.test(e.message),
    );
    assert.throws(
      () => flagInputs(['a', 'b'], ['c']),
      (e: Error) => e instanceof UserError && /^--pair given 1 time\(s\) for 2 --text/.test(e.message),
    );
    assert.deepEqual(flagInputs(['a', 'b'], ['c', 'd']), [
      { text: 'a', pair: 'c' },
      { text: 'b', pair: 'd' },
    ]);
    const adapter = await loadPeftAdapter(siamese);
    for (const format of ['adapters', 'peft'] as const)
      await assert.rejects(
        exportAdapter({ backbone, adapter, outDir: join(dir, format), format, maxLength: 128, checkTexts: [] }),
        (e: Error) =>
          e instanceof UserError &&
          new RegExp(`^export --format ${format}: .*siamese.*use --format transformers\\.js`).test(e.message),
      );
    assert.ok(!existsSync(join(dir, 'adapters')), 'a refused export writes nothing');
  });

  it('the mlp head (classification) and the cosine head (regression) export and predict as the adapter does', async () => {
    const base = await loadPeftAdapter(siamese);
    const rnd = seededNormal(11);
    const randomHead = (pairHead: 'mlp' | 'cosine', numLabels: number) =>
      new Map(
        [...backbone.exportBackbone!({ seqLen: 8, numLabels, pairEncoding: 'siamese', pairHead }).weights]
          .filter(([n]) => n.startsWith('classifier'))
          .map(([n, t]) => [n, { data: Float32Array.from(t.data, () => 0.3 * rnd()), shape: [...t.shape] }]),
      );
    for (const [pairHead, numLabels] of [
      ['mlp', 2],
      ['cosine', 1],
    ] as const) {
      const adapter = {
        ...base,
        head: {
          kind: numLabels === 1 ? ('regression' as const) : ('classification' as const),
          numLabels,
          pairEncoding: 'siamese' as const,
          pairHead,
        },
        headWeights: randomHead(pairHead, numLabels),
      };
      const outDir = join(dir, `head-${pairHead}`);
      const r = await exportAdapter({ backbone, adapter, outDir, maxLength: 128, checkTexts: inputs.slice(0, 8) });
      assert.ok(r.onnx!.maxAbsDiff < 1e-4, `${pairHead}: export check ${r.onnx!.maxAbsDiff}`);
      const viaAdapter = await predictWithAdapter({ backbone, adapter, inputs: inputs.slice(0, 8), threads: 1 });
      const viaExport = await predictWithExport({ dir: outDir, inputs: inputs.slice(0, 8), threads: 1 });
      assert.equal(viaExport.regression, numLabels === 1);
      assertSame(viaExport.predictions, viaAdapter.predictions, `${pairHead}: adapter vs export`);
    }
  });

  it('a cross adapter (one sequence per pair): predict --adapter and --model-dir agree on MRPC dev pairs', async () => {
    const adapter = await loadPeftAdapter(cross);
    assert.equal(adapter.head?.pairEncoding, 'cross');
    const crossOut = join(dir, 'cross-export');
    const r = await exportAdapter({
      backbone,
      adapter,
      outDir: crossOut,
      maxLength: 128,
      checkTexts: inputs.slice(0, 8),
    });
    assert.equal(r.pairEncoding, 'cross');
    assert.deepEqual(r.onnx?.inputs, ['input_ids', 'attention_mask']);
    assert.ok(r.onnx!.maxAbsDiff < 1e-4, `export check ${r.onnx!.maxAbsDiff}`);
    const viaAdapter = await predictWithAdapter({ backbone, adapter, inputs, threads: 1 });
    const viaExport = await predictWithExport({ dir: crossOut, inputs, threads: 1 });
    assertSame(viaExport.predictions, viaAdapter.predictions, 'cross: adapter vs export');
  });
});
