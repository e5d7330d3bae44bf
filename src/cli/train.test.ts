import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBert } from '../models/testing/tiny.js';
import { runCli } from './testing.js';

const DATA = join(import.meta.dirname, '../../../shared/data');
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-cli-'));
  await writeTinyBert(join(dir, 'tiny'), { layers: 2, hidden: 32, heads: 2, std: 0.1 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('autopeft train: real RTE slice on a tiny checkpoint, summary and --json line', {
  skip: !existsSync(join(DATA, 'glue/rte')) && `no ${DATA}/glue/rte`,
}, async () => {
  const r = await runCli([
    'train',
    '--model',
    join(dir, 'tiny'),
    '--task',
    'rte',
    '--data',
    DATA,
    '--peft',
    '{"pa":4,"layers":[1]}',
    '--epochs',
    '1',
    '--train-limit',
    '64',
    '--max-length',
    '48',
    '--threads',
    '1',
    '--json',
    '--quiet',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json();
  assert.equal(j.task, 'rte');
  assert.ok(typeof j.metric === 'number' && j.metric >= 0 && j.metric <= 1);
  assert.deepEqual(Object.keys(j.metrics as object), ['accuracy']);
  // Paper formula: 1 active layer x 2*H*D / backbone params.
  assert.ok((j.paramPct as number) > 0 && (j.paramPct as number) < 5);
  // PA down [4,32]+[4], up [32,4]+[32] (+ BERT pooler 32x32+32 and classifier 2x32+2).
  assert.equal(j.trainableParams, 4 * 32 + 4 + 32 * 4 + 32 + (32 * 32 + 32) + (2 * 32 + 2));
  // --json: stdout is exactly that one document; the summary lines went to stderr.
  assert.deepEqual(JSON.parse(r.stdout), j);
  assert.match(r.stderr, /rte · .* · PA4 @ layers 1/);
});

test('user errors print one line and exit 2', async () => {
  const bad = await runCli(['train', '--model', join(dir, 'tiny'), '--task', 'nosuchtask', '--peft', '{"sa":2}']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^autopeft: unknown task "nosuchtask"; fix: use one of .*\n$/);
  const peft = await runCli(['train', '--model', join(dir, 'tiny'), '--task', 'rte', '--peft', '{"sa":-3}']);
  assert.equal(peft.code, 2);
  assert.match(peft.stderr, /^autopeft: --peft: "sa" must be a non-negative integer/);
  const flag = await runCli(['train', '--task', 'rte', '--epochs', 'two']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--epochs must be an integer >= 1, got "two"/);
  const model = await runCli(['train', '--model', join(dir, 'missing'), '--task', 'rte']);
  assert.equal(model.code, 2, model.stderr);
  assert.equal(model.stderr.split('\n').filter(Boolean).length, 1, model.stderr);
});

test('train --out -> evaluate reproduces the dev score -> export runs in onnxruntime with the same logits', {
  skip: !existsSync(join(DATA, 'glue/rte')) && `no ${DATA}/glue/rte`,
}, async () => {
  const ad = join(dir, 'adapter');
  const tr = await runCli([
    'train',
    '--model',
    join(dir, 'tiny'),
    '--task',
    'rte',
    '--data',
    DATA,
    '--peft',
    '{"sa":4,"pt":2,"lora":2,"layers":[0]}',
    '--epochs',
    '1',
    '--train-limit',
    '48',
    '--max-length',
    '40',
    '--threads',
    '1',
    '--out',
    ad,
    '--json',
    '--quiet',
  ]);
  assert.equal(tr.code, 0, tr.stderr);
  const ev = await runCli(['evaluate', '--adapter', ad, '--data', DATA, '--max-length', '40', '--json']);
  assert.equal(ev.code, 0, ev.stderr);
  assert.equal(ev.json().metric, tr.json().metric);
  const out = join(dir, 'export');
  const ex = await runCli(['export', '--adapter', ad, '--out', out, '--seq-len', '40']);
  assert.equal(ex.code, 0, ex.stderr);
  const m = /match autopeft's forward to ([0-9.e+-]+)/.exec(ex.stdout);
  assert.ok(m && Number(m[1]) < 1e-4, ex.stdout);
  for (const f of ['onnx/model.onnx', 'config.json', 'tokenizer.json', 'autopeft_adapter.json', 'README.md'])
    assert.ok(existsSync(join(out, f)), f);
  const bad = await runCli(['evaluate', '--adapter', join(dir, 'nope')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /autopeft_adapter\.json: not found/);
});
