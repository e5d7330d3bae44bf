/**
 * The transformers.js export of USE-lite (adapter: serial adapter, prefix-tuning and LoRA):
 * - its Unigram tokenizer.json, through transformers.js' AutoTokenizer (@huggingface/tokenizers
 *   underneath), gives exactly USE-lite's ids on every dev sentence of SST-2, CoLA, RTE and MRPC;
 * - transformers.js has no class for model_type 'use-lite', so `pipeline('text-classification',
 *   dir)` refuses it; AutoModel (the base class) + AutoTokenizer in a TextClassificationPipeline
 *   runs the folder and gives the labels and scores (<= 1e-4) of `autopeft predict --adapter`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadUseLiteBackbone } from '../../src/models/use-lite/backbone.js';
import { colaDev, MISSING_DATA_MESSAGE, mrpcDev, rteDev, sst2Dev } from '../../src/models/use-lite/test-sentences.js';
import { cli, writeRandomAdapter } from './helpers.js';

const N = 24;
const sst2 = sst2Dev();

describe('export --format transformers.js (USE-lite)', { skip: sst2 ? false : MISSING_DATA_MESSAGE }, () => {
  const backbone = loadUseLiteBackbone();
  let dir = '';
  let out = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autopeft-tjs-use-'));
    const adapter = join(dir, 'adapter');
    await writeRandomAdapter(adapter, backbone, 'use-lite', { sa: 8, pt: 2, lora: 2, layers: [true, true] }, [
      'negative',
      'positive',
    ]);
    out = join(dir, 'export');
    const r = await cli(['export', '--adapter', adapter, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { onnx: { maxAbsDiff: number } };
    assert.ok(doc.onnx.maxAbsDiff < 1e-4, `export check ${doc.onnx.maxAbsDiff}`);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("AutoTokenizer on tokenizer.json reproduces USE-lite's tokenizer on every GLUE dev sentence", async () => {
    const { AutoTokenizer, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = '';
    const tok = await AutoTokenizer.from_pretrained(out, { local_files_only: true });
    let n = 0;
    for (const [name, texts] of [
      ['sst2', sst2!],
      ['cola', colaDev()!],
      ['rte', rteDev()!],
      ['mrpc', mrpcDev()!],
    ] as const) {
      for (const t of texts) {
        const got = tok.encode(t, { add_special_tokens: false });
        assert.deepEqual(got, backbone.tokenizer.encodeIds(t), `${name}: ${JSON.stringify(t)}`);
        n++;
      }
    }
    assert.ok(n > 3000);
    // Pairs: A </s> B, as USE-lite's encode joins them.
    const pair = tok(sst2![0]!, { text_pair: sst2![1]!, add_special_tokens: true });
    assert.deepEqual(
      Array.from(pair.input_ids.data as BigInt64Array, Number),
      backbone.tokenizer.encode(sst2![0]!, sst2![1]!).inputIds,
    );
  });

  it("pipeline('text-classification') refuses model_type use-lite; AutoModel + TextClassificationPipeline matches predict", async () => {
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config['model_type'], 'use-lite');
    const tjs = await import('@huggingface/transformers');
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = '';
    await assert.rejects(
      tjs.pipeline('text-classification', out, { dtype: 'fp32', local_files_only: true }),
      /Unsupported model type:? "?use-lite/,
    );
    const texts = sst2!.slice(0, N);
    const input = join(dir, 'in.txt');
    await writeFile(input, `${texts.join('\n')}\n`);
    const r = await cli(['predict', '--adapter', join(dir, 'adapter'), '--input', input, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const ours = (JSON.parse(r.stdout) as { predictions: { label: string; score: number; scores: number[] }[] })
      .predictions;
    const pos = ours.map((p) => p.scores[1]!);
    assert.ok(Math.max(...pos) - Math.min(...pos) > 1e-3, 'scores barely vary');
    const model = await tjs.AutoModel.from_pretrained(out, { dtype: 'fp32', local_files_only: true });
    const tokenizer = await tjs.AutoTokenizer.from_pretrained(out, { local_files_only: true });
    const classify = new tjs.TextClassificationPipeline({ task: 'text-classification', model, tokenizer });
    try {
      const got = (await classify(texts)) as { label: string; score: number }[];
      for (const [i, g] of got.entries()) {
        assert.equal(g.label, ours[i]!.label, `sentence ${i}`);
        assert.ok(Math.abs(g.score - ours[i]!.score) <= 1e-4, `sentence ${i}: ${g.score} vs ${ours[i]!.score}`);
      }
    } finally {
      await classify.dispose();
    }
    const md = await cli(['predict', '--model-dir', out, '--input', input, '--json']);
    assert.equal(md.code, 0, md.stderr);
    const viaExport = (JSON.parse(md.stdout) as { predictions: { label: string; score: number }[] }).predictions;
    for (const [i, g] of viaExport.entries()) assert.ok(Math.abs(g.score - ours[i]!.score) <= 1e-4);
  });
});
