/**
 * The transformers.js export of a tiny BERT (a checkpoint the test builds) with a serial adapter,
 * prefix-tuning and LoRA, loaded where users deploy:
 * - @huggingface/transformers `pipeline('text-classification', dir)` on real SST-2 dev sentences
 *   gives the labels and scores (<= 1e-4) of `autopeft predict --adapter` (evaluate's forward);
 * - `autopeft predict --model-dir` (the folder's own onnx + tokenizer.json) gives them too;
 * - onnxruntime-web's wasm backend in Node runs onnx/model.onnx to the same logits as
 *   onnxruntime-node, at two sequence lengths (symbolic axes).
 * Everything through the real CLI process.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackbone } from '../../src/models/backbone.js';
import { writeTinyBert } from '../../src/models/testing/tiny.js';
import { MISSING_DATA_MESSAGE, sst2Dev } from '../../src/models/use-lite/test-sentences.js';
import { cli, writeRandomAdapter } from './helpers.js';

interface Row {
  text: string;
  label: string;
  score: number;
  scores: number[];
}

const N = 48;
const sentences = sst2Dev()?.slice(0, N) ?? null;

describe('export --format transformers.js (tiny BERT)', { skip: sentences ? false : MISSING_DATA_MESSAGE }, () => {
  let dir = '';
  let model = '';
  let adapter = '';
  let out = '';
  let input = '';
  let ours: Row[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autopeft-tjs-'));
    model = join(dir, 'tiny-bert');
    await writeTinyBert(model, { layers: 2, hidden: 16, heads: 2, seed: 3, maxPositions: 64 });
    adapter = join(dir, 'adapter');
    await writeRandomAdapter(
      adapter,
      await loadBackbone(model),
      model,
      { sa: 4, pt: 2, lora: 2, layers: [true, true] },
      ['negative', 'positive'],
    );
    out = join(dir, 'export');
    input = join(dir, 'sst2.txt');
    await writeFile(input, `${sentences!.join('\n')}\n`);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the transformers.js layout with a model card; --json is one JSON document', async () => {
    const r = await cli(['export', '--adapter', adapter, '--out', out, '--seq-len', '64', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      format: string;
      files: string[];
      onnx: { maxAbsDiff: number; inputs: string[] };
    };
    assert.equal(doc.format, 'transformers.js');
    assert.ok(doc.onnx.maxAbsDiff < 1e-4, `export check ${doc.onnx.maxAbsDiff}`);
    assert.deepEqual(doc.onnx.inputs.sort(), ['attention_mask', 'input_ids', 'token_type_ids']);
    for (const f of ['onnx/model.onnx', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'README.md'])
      assert.ok(existsSync(join(out, f)), f);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config['model_type'], 'bert');
    assert.deepEqual(config['id2label'], { '0': 'negative', '1': 'positive' });
    assert.deepEqual(config['label2id'], { negative: 0, positive: 1 });
    const card = await readFile(join(out, 'README.md'), 'utf8');
    assert.match(card, /sst2/);
    assert.match(card, /official dev set: accuracy 0\.5000/);
    assert.match(card, /1\.23% of the backbone/);
    assert.match(card, /serial adapter 4/);
  });

  it('`predict --adapter` through the CLI: labels and scores, JSONL and stdin inputs', async () => {
    const r = await cli(['predict', '--adapter', adapter, '--input', input, '--max-length', '64', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { labels: string[]; predictions: Row[] };
    assert.deepEqual(doc.labels, ['negative', 'positive']);
    ours = doc.predictions;
    assert.equal(ours.length, N);
    for (const p of ours) {
      assert.ok(Math.abs(p.scores[0]! + p.scores[1]! - 1) < 1e-6);
      assert.equal(p.score, Math.max(...p.scores));
    }
    // The scores vary from sentence to sentence: the comparisons below are not against a constant.
    const pos = ours.map((p) => p.scores[1]!);
    assert.ok(
      Math.max(...pos) - Math.min(...pos) > 1e-3,
      `scores barely vary: ${Math.min(...pos)}..${Math.max(...pos)}`,
    );
    const jsonl = sentences!
      .slice(0, 3)
      .map((text) => JSON.stringify({ text }))
      .join('\n');
    const s = await cli(
      ['predict', '--adapter', adapter, '--input', '-', '--jsonl', '--max-length', '64', '--json'],
      jsonl,
    );
    assert.equal(s.code, 0, s.stderr);
    const sd = JSON.parse(s.stdout) as { predictions: Row[] };
    for (const [i, p] of sd.predictions.entries()) assert.ok(Math.abs(p.score - ours[i]!.score) < 1e-5);
    const human = await cli(['predict', '--adapter', adapter, '--text', sentences![0]!, '--max-length', '64']);
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stdout, `${ours[0]!.label}\t${ours[0]!.score.toFixed(4)}\t${sentences![0]}\n`);
    const bad = await cli(['predict', '--adapter', adapter, '--model-dir', out, '--text', 'x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /exactly one of --adapter/);
  });

  it("@huggingface/transformers pipeline('text-classification', dir) gives the same labels and scores", async () => {
    const { pipeline, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = '';
    const classify = await pipeline('text-classification', out, { dtype: 'fp32', local_files_only: true });
    try {
      const got = (await classify(sentences!)) as { label: string; score: number }[];
      assert.equal(got.length, N);
      got.forEach((g, i) => {
        assert.equal(g.label, ours[i]!.label, `sentence ${i}`);
        assert.ok(Math.abs(g.score - ours[i]!.score) <= 1e-4, `sentence ${i}: ${g.score} vs ${ours[i]!.score}`);
      });
    } finally {
      await classify.dispose();
    }
  });

  it('`predict --model-dir` (onnx + tokenizer.json of the folder) agrees', async () => {
    const r = await cli(['predict', '--model-dir', out, '--input', input, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const got = (JSON.parse(r.stdout) as { predictions: Row[] }).predictions;
    got.forEach((g, i) => {
      assert.equal(g.label, ours[i]!.label);
      assert.ok(Math.abs(g.score - ours[i]!.score) <= 1e-4);
    });
  });

  it("onnxruntime-web's wasm backend in Node matches onnxruntime-node at two lengths", async () => {
    const web = await import('onnxruntime-web');
    const node = await import('onnxruntime-node');
    web.env.wasm.numThreads = 1;
    const bytes = readFileSync(join(out, 'onnx', 'model.onnx'));
    const ws = await web.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const ns = await node.InferenceSession.create(bytes);
    try {
      for (const seq of [7, 23]) {
        const batch = 3;
        const ids = BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt(5 + ((i * 7) % 30)));
        const mask = BigInt64Array.from({ length: batch * seq }, (_, i) => (i % seq < seq - ((i / seq) | 0) ? 1n : 0n));
        const types = new BigInt64Array(batch * seq);
        const feeds = <T extends { Tensor: typeof web.Tensor }>(o: T) => ({
          input_ids: new o.Tensor('int64', ids, [batch, seq]),
          attention_mask: new o.Tensor('int64', mask, [batch, seq]),
          token_type_ids: new o.Tensor('int64', types, [batch, seq]),
        });
        const a = (await ws.run(feeds(web))).logits!.data as Float32Array;
        const b = (await ns.run(feeds(node as unknown as typeof web))).logits!.data as Float32Array;
        assert.equal(a.length, batch * 2);
        for (const [i, x] of a.entries())
          assert.ok(Math.abs(x - b[i]!) <= 1e-4, `seq ${seq} logit ${i}: ${x} vs ${b[i]}`);
      }
    } finally {
      await ws.release();
      await ns.release();
    }
  });
});
