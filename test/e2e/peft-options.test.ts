/**
 * Every documented `--peft` key, end to end through the real CLI process (`node bin/autopeft.mjs
 * train ... --json --out`), on a tiny random BERT and the toy task: each option reaches training
 * (the trained weights differ from a run without it, where two runs without it are bit-identical)
 * and is recorded in the `--json` line, the adapter config and the summary. Keys that cannot be
 * honoured are one line naming the key, exit 2. docs/peft.md lists the keys and their bounds.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBert } from '../../src/models/testing/tiny.js';
import { readSafetensors } from '../../src/models/io/safetensors.js';
import { runCli } from '../../src/cli/testing.js';
import { writeToyTask } from '../helpers/toy-task.js';

const BIN = join(import.meta.dirname, '../../bin/autopeft.mjs');
const H = 32;
/** Every size and `layers` given; options left at their defaults. */
const BASE = { sa: 2, pa: 4, pt: 2, lora: 2, layers: [1] };
let dir: string;
let task: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-peft-e2e-'));
  await writeTinyBert(join(dir, 'tiny'), { layers: 2, hidden: H, heads: 2, std: 0.1 });
  task = writeToyTask(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

interface Trained {
  json: { config: Record<string, unknown>; trainableParams: number; paramPct: number };
  adapterConfig: { peft: Record<string, unknown> };
  weights: Map<string, { shape: number[]; data: Float32Array }>;
  summary: string;
}

/** `train --peft <peft> --out <dir>/<name> --json`, a few steps at batch 8. */
async function train(name: string, peft: string): Promise<Trained> {
  const out = join(dir, name);
  const r = await cli([
    'train',
    '--model',
    join(dir, 'tiny'),
    '--task',
    task,
    '--peft',
    peft,
    '--epochs',
    '1',
    '--max-steps',
    '6',
    '--max-length',
    '16',
    '--batch-size',
    '8',
    '--threads',
    '1',
    '--out',
    out,
    '--json',
    '--quiet',
  ]);
  assert.equal(r.code, 0, r.stderr);
  // --json: stdout is exactly one JSON document; the human summary goes to stderr.
  const summary = r.stderr.split('\n').find((l) => l.includes(' · ')) ?? '';
  const { tensors } = await readSafetensors(join(out, 'autopeft_adapter.safetensors'));
  const weights: Trained['weights'] = new Map();
  for (const [k, t] of tensors) weights.set(k, { shape: [...t.shape], data: t.data as Float32Array });
  return {
    json: JSON.parse(r.stdout),
    adapterConfig: JSON.parse(readFileSync(join(out, 'autopeft_adapter.json'), 'utf8')),
    weights,
    summary,
  };
}

const peftNames = (t: Trained, method: string) => [...t.weights.keys()].filter((k) => k.includes(`.${method}.`));
const same = (a: Trained, b: Trained, names: readonly string[]) =>
  names.every((n) => {
    const x = a.weights.get(n)!.data;
    const y = b.weights.get(n)?.data;
    return y !== undefined && x.length === y.length && x.every((v, i) => v === y[i]);
  });

const DEFAULTS = { paScaling: 4, ptBottleneck: 800, loraAlpha: 16, saForm: 'houlsby' };

test('every --peft key reaches training and is recorded (json, adapter config, summary)', async () => {
  const base = await train('base', JSON.stringify(BASE));
  const again = await train('again', JSON.stringify(BASE));
  const all = [...base.weights.keys()].filter((k) => k.startsWith('peft.'));
  assert.ok(same(base, again, all), 'two runs of one config train bit-identical weights (the control)');

  // Sizes and layers: the tensors trained are those of the config, and it is recorded as given.
  const recorded = { layers: [false, true], sa: 2, pa: 4, pt: 2, lora: 2, options: DEFAULTS };
  assert.deepEqual(base.json.config, recorded);
  assert.deepEqual(base.adapterConfig.peft, recorded);
  assert.match(base.summary, / · SA2 PA4 PT2 LoRA2 @ layers 1$/);
  assert.deepEqual(base.weights.get('peft.layer.1.sa.down.weight')?.shape, [2, H]);
  assert.deepEqual(base.weights.get('peft.layer.1.pa.down.weight')?.shape, [4, H]);
  assert.deepEqual(base.weights.get('peft.layer.1.lora.query.A')?.shape, [2, H]);
  assert.deepEqual(base.weights.get('peft.pt.wte')?.shape, [2, H]);
  assert.equal(
    all.some((k) => k.startsWith('peft.layer.0.')),
    false,
    'layer 0 is off',
  );

  // paScaling: the PA branch is scaled by it, so every trained weight moves differently.
  const pa = await train('pa-scaling', JSON.stringify({ ...BASE, paScaling: 9 }));
  assert.deepEqual(pa.json.config.options, { ...DEFAULTS, paScaling: 9 });
  assert.deepEqual(pa.adapterConfig.peft.options, { ...DEFAULTS, paScaling: 9 });
  assert.match(pa.summary, /@ layers 1 \(paScaling 9\)$/);
  assert.equal(same(base, pa, peftNames(base, 'pa')), false, 'paScaling changed what PA trained');

  // loraAlpha, given in a JSON file (the other --peft form).
  const file = join(dir, 'lora-alpha.json');
  writeFileSync(file, JSON.stringify({ ...BASE, loraAlpha: 64 }));
  const lora = await train('lora-alpha', file);
  assert.deepEqual(lora.json.config.options, { ...DEFAULTS, loraAlpha: 64 });
  assert.deepEqual(lora.adapterConfig.peft.options, { ...DEFAULTS, loraAlpha: 64 });
  assert.match(lora.summary, /\(loraAlpha 64\)$/);
  assert.equal(same(base, lora, peftNames(base, 'lora')), false, 'loraAlpha changed what LoRA trained');

  // ptBottleneck, given in the recorded form (options nested), which --peft takes back as it is.
  const pt = await train('pt-bottleneck', JSON.stringify({ ...recorded, options: { ...DEFAULTS, ptBottleneck: 8 } }));
  assert.deepEqual(pt.json.config.options, { ...DEFAULTS, ptBottleneck: 8 });
  assert.deepEqual(pt.adapterConfig.peft.options, { ...DEFAULTS, ptBottleneck: 8 });
  assert.deepEqual(pt.weights.get('peft.pt.mlp.0.weight')?.shape, [8, H]);
  // The MLP is W1 [P, H] + b1 [P] + W2 [2·w, P] (one active layer, w = H): 792 fewer columns.
  assert.equal(base.json.trainableParams - pt.json.trainableParams, (800 - 8) * (H + 1 + 2 * H));
  // The paper's param % counts no option.
  assert.equal(pt.json.paramPct, base.json.paramPct);
});

test('--peft keys that cannot be honoured: one line naming the key and what is allowed, exit 2', async () => {
  const model = join(dir, 'tiny');
  // Through the real process once (no stack trace on stderr)...
  const big = await cli(['train', '--model', model, '--task', task, '--peft', '{"sa":1e9}']);
  assert.equal(big.code, 2);
  assert.equal(
    big.stderr,
    `autopeft: --peft: "sa" is 1000000000, above this model's limit ${4 * H} (4 x the hidden size); choose a value in 0..${4 * H}\n`,
  );
  // ...and the rest in-process (same main, same error path).
  const cases: [string, RegExp][] = [
    [
      '{"pt":100000}',
      /"pt" is 100000, above this model's limit 64 \(the larger of the hidden size and the model's longest input\)/,
    ],
    ['{"lora":64}', /"lora" is 64, above this model's limit 32 \(the attention width of the active layers\)/],
    ['{"pa":4,"ptBottleneck":100000}', /"ptBottleneck" is 100000, above this model's limit 800/],
    ['{"lora":8,"loraAlpha":64,"paScaling":"9"}', /"paScaling" must be a finite number > 0, got "9"/],
    ['{"lora":8,"loraAlpha":-1}', /"loraAlpha" must be a finite number > 0, got -1/],
    [
      '{"lora":8,"alpha":64}',
      /unknown field "alpha" \(known: layers, sa, pa, pt, lora, paScaling, ptBottleneck, loraAlpha, saForm, options\)/,
    ],
    ['{"sa":"16"}', /"sa" must be a non-negative integer \(serial adapter bottleneck; 0 = off\), got "16"/],
    ['[16]', /expected a JSON object like \{"sa": 16, "layers": "all"\}, got \[16\]/],
  ];
  for (const [peft, re] of cases) {
    const r = await runCli(['train', '--model', model, '--task', task, '--peft', peft]);
    assert.equal(r.code, 2, `${peft}: ${r.stderr}`);
    assert.match(r.stderr, /^autopeft: --peft: [^\n]*\n$/, peft);
    assert.match(r.stderr, re, peft);
  }
  const both = await runCli(['train', '--model', model, '--task', task, '--full-ft', '--peft', '{"sa":2}']);
  assert.equal(both.code, 2);
  assert.equal(both.stderr, 'autopeft: --full-ft trains the whole backbone and takes no --peft; drop one of them\n');
});

test('--seeds is bounded (1e12 once ended in a RangeError stack trace)', async () => {
  for (const cmd of ['retrain', 'transfer', 'baselines']) {
    const extra = cmd === 'transfer' ? ['--task', task] : [];
    const r = await runCli([cmd, '--study', 'x', ...extra, '--storage', join(dir, 'none.sqlite'), '--seeds', '1e12']);
    assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /^autopeft: --seeds takes an integer in [01]\.\.100, got "1e12"\n$/, cmd);
  }
  const ok = await runCli(['retrain', '--study', 'x', '--storage', join(dir, 'none.sqlite'), '--seeds', '100']);
  assert.doesNotMatch(ok.stderr, /--seeds/, 'the cap itself is accepted');
});
