/**
 * `export --format adapters | peft` through the real CLI (files, tensor names, model card, one-line
 * rejections), and the model card's place on a study's front.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackbone } from '../../src/models/backbone.js';
import { readSafetensors } from '../../src/models/io/safetensors.js';
import { writeTinyBert } from '../../src/models/testing/tiny.js';
import { loadUseLiteBackbone } from '../../src/models/use-lite/backbone.js';
import { loadPeftAdapter } from '../../src/peft/io.js';
import { modelCard, studyPlacement } from '../../src/pipeline/export.js';
import { cli, writeRandomAdapter } from './helpers.js';

describe('export --format adapters | peft', () => {
  let dir = '';
  let model = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autopeft-formats-'));
    model = join(dir, 'tiny-bert');
    await writeTinyBert(model, { layers: 2, hidden: 16, heads: 2, seed: 3 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('peft: LoraConfig + adapter_model.safetensors with PEFT key names; a card; our files beside them', async () => {
    const ad = join(dir, 'lora');
    await writeRandomAdapter(ad, await loadBackbone(model), model, { lora: 4, layers: [false, true] }, ['a', 'b']);
    const out = join(dir, 'peft');
    const r = await cli(['export', '--adapter', ad, '--out', out, '--format', 'peft', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const cfg = JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(cfg['peft_type'], 'LORA');
    assert.deepEqual(cfg['layers_to_transform'], [1]);
    assert.equal(cfg['base_model_name_or_path'], model);
    const { tensors } = await readSafetensors(join(out, 'adapter_model.safetensors'));
    assert.ok(tensors.has('base_model.model.bert.encoder.layer.1.attention.self.query.lora_A.weight'));
    assert.ok(tensors.has('base_model.model.classifier.weight'));
    assert.ok(![...tensors.keys()].some((k) => k.includes('layer.0.')));
    assert.match(await readFile(join(out, 'README.md'), 'utf8'), /PeftModel\.from_pretrained/);
    // autopeft's own files sit beside PEFT's and still load as ours.
    assert.equal((await loadPeftAdapter(out)).config.lora, 4);
  });

  it('adapters: adapter_config.json (ConfigUnion) + adapter.safetensors + head; the serial-adapter difference in the card', async () => {
    const ad = join(dir, 'sa-pt');
    await writeRandomAdapter(ad, await loadBackbone(model), model, { sa: 4, pt: 2, layers: [true, true] }, ['a', 'b']);
    const out = join(dir, 'adapters');
    const r = await cli(['export', '--adapter', ad, '--out', out, '--format', 'adapters']);
    assert.equal(r.code, 0, r.stderr);
    const cfg = JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8')) as {
      config: { architecture: string; configs: { architecture: string }[] };
      name: string;
    };
    assert.equal(cfg.config.architecture, 'union');
    assert.deepEqual(
      cfg.config.configs.map((c) => c.architecture),
      ['bottleneck', 'prefix_tuning'],
    );
    const { tensors } = await readSafetensors(join(out, 'adapter.safetensors'));
    assert.ok(tensors.has(`bert.encoder.layer.0.output.adapters.${cfg.name}.adapter_down.0.weight`));
    assert.ok(existsSync(join(out, 'head.safetensors')));
    assert.match(await readFile(join(out, 'README.md'), 'utf8'), /original_ln_before: false/);
  });

  it('one-line rejections, exit 2: PEFT without LoRA-only, adapters with SA + PA, USE-lite, a bad --format', async () => {
    const ad = join(dir, 'sa-pa');
    await writeRandomAdapter(ad, await loadBackbone(model), model, { sa: 4, pa: 4 }, ['a', 'b']);
    for (const [format, re] of [
      ['peft', /LoRA only/],
      ['adapters', /one bottleneck adapter/],
      ['onnx', /--format must be one of transformers\.js, adapters, peft/],
    ] as const) {
      const r = await cli(['export', '--adapter', ad, '--out', join(dir, `x-${format}`), '--format', format]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    const ul = join(dir, 'use-lite');
    await writeRandomAdapter(ul, loadUseLiteBackbone(), 'use-lite', { lora: 2 }, ['a', 'b']);
    const r = await cli(['export', '--adapter', ul, '--out', join(dir, 'x-ul'), '--format', 'peft']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no USE-lite model/);
  });
});

describe('model card: place on the study front', () => {
  it('names the front rank and lists the front by param %', async () => {
    // (accuracy max, param % min): 0 and 2 are on the front, 1 is dominated by 0.
    const trials = [
      { number: 0, values: [0.8, 1.0] },
      { number: 1, values: [0.7, 2.0] },
      { number: 2, values: [0.85, 3.0] },
    ];
    const onFront = studyPlacement('s', ['accuracy', 'param_pct'], ['maximize', 'minimize'], trials, 2)!;
    assert.equal(onFront.frontRank, 0);
    assert.deepEqual(
      onFront.front.map((f) => f.trial),
      [0, 2],
    );
    const dominated = studyPlacement('s', ['accuracy', 'param_pct'], ['maximize', 'minimize'], trials, 1)!;
    assert.equal(dominated.frontRank, 1);
    assert.equal(studyPlacement('s', ['a', 'b'], ['maximize', 'minimize'], trials, 9), undefined);
    const bb = loadUseLiteBackbone();
    const { parsePeftConfig } = await import('../../src/peft/config.js');
    const card = modelCard(
      {
        backbone: bb,
        adapter: {
          config: parsePeftConfig({ sa: 8 }, 2),
          backbone: { id: 'use-lite', dims: bb.dims },
          task: 'sst2',
          weights: new Map(),
          headWeights: new Map(),
        },
        outDir: 'x',
        maxLength: 128,
        checkTexts: [],
        study: onFront,
      },
      'transformers.js',
      128,
      [],
    );
    assert.match(card, /Trial 2 of study `s` \(3 finished trials/);
    assert.match(card, /\*\*on the Pareto front\*\*/);
    assert.match(card, /\| \*\*2\*\* \| 0\.8500 \| 3\.00 \|/);
    assert.match(card, /TextClassificationPipeline/);
  });
});
