import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkPeftBounds,
  DEFAULT_PEFT_OPTIONS,
  describePeft,
  emptyPeftConfig,
  isNoop,
  parsePeftConfig,
  peftBounds,
  PeftConfigError,
  readPeftArg,
  type PeftModelLimits,
} from './config.js';

/** BERT-base-like limits: 12 layers, H 768, 512 positions. */
const BASE: PeftModelLimits = { numLayers: 12, hidden: 768, maxLength: 512 };
/** USE-lite-like: layer 0 attends at 256 on a 512-wide stream, 128 tokens. */
const USE: PeftModelLimits = { numLayers: 2, hidden: 512, attentionWidths: [256, 512], maxLength: 128 };

const userError = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof PeftConfigError, String(e));
  assert.equal(e.userFacing, true);
  assert.doesNotMatch(e.message, /\n/, 'one line');
  assert.match(e.message, re);
  return true;
};

test('parsePeftConfig: layers as "all", indices or flags; sizes default to 0', () => {
  assert.deepEqual(parsePeftConfig({ sa: 16 }, 3).layers, [true, true, true]);
  const c = parsePeftConfig({ layers: [0, 2], pt: 8, lora: 4 }, 3);
  assert.deepEqual([c.layers, c.sa, c.pa, c.pt, c.lora], [[true, false, true], 0, 0, 8, 4]);
  assert.deepEqual(parsePeftConfig({ layers: [false, true], pa: 2 }, 2).layers, [false, true]);
  assert.deepEqual(c.options, DEFAULT_PEFT_OPTIONS);
  assert.deepEqual(DEFAULT_PEFT_OPTIONS, { paScaling: 4, ptBottleneck: 800, loraAlpha: 16, saForm: 'houlsby' });
});

test('parsePeftConfig: every option given is kept, flat or nested; its own output parses to itself', () => {
  const c = parsePeftConfig({ lora: 8, loraAlpha: 64, pa: 4, paScaling: 9, pt: 2, ptBottleneck: 0 }, 2);
  assert.deepEqual(c.options, { paScaling: 9, ptBottleneck: 0, loraAlpha: 64, saForm: 'houlsby' });
  const nested = parsePeftConfig({ lora: 8, options: { loraAlpha: 64, paScaling: 0.5, saForm: 'pfeiffer' } }, 2);
  assert.deepEqual(nested.options, { paScaling: 0.5, ptBottleneck: 800, loraAlpha: 64, saForm: 'pfeiffer' });
  // The recorded form (what `train --json` prints) is accepted back unchanged.
  assert.deepEqual(parsePeftConfig(JSON.parse(JSON.stringify(c)), 2), c);
  assert.deepEqual(parsePeftConfig(JSON.parse(JSON.stringify(c)), USE), c);
});

test('saForm: houlsby by default, pfeiffer when asked, anything else one line naming the forms; recorded in the description', () => {
  assert.equal(parsePeftConfig({ sa: 4 }, 2).options.saForm, 'houlsby');
  const p = parsePeftConfig({ sa: 4, saForm: 'pfeiffer' }, 2);
  assert.equal(p.options.saForm, 'pfeiffer');
  assert.equal(describePeft(p), 'SA4 @ all layers (saForm pfeiffer)');
  assert.equal(describePeft(parsePeftConfig({ sa: 4 }, 2)), 'SA4 @ all layers');
  // The form belongs to the serial adapter: without one it is not shown.
  assert.equal(describePeft(parsePeftConfig({ pa: 4, saForm: 'pfeiffer' }, 2)), 'PA4 @ all layers');
  assert.throws(
    () => parsePeftConfig({ sa: 4, saForm: 'Pfeiffer' }, 2),
    userError(/"saForm" must be one of houlsby, pfeiffer, got "Pfeiffer"/),
  );
  assert.throws(() => parsePeftConfig({ sa: 4, saForm: 1 }, 2), userError(/"saForm" must be one of/));
});

test('parsePeftConfig: unknown keys, non-numbers and bad values are one line naming the key and what is allowed', () => {
  assert.throws(
    () => parsePeftConfig({ sa: -1 }, 2),
    userError(/"sa" must be a non-negative integer \(serial adapter bottleneck; 0 = off\), got -1/),
  );
  assert.throws(
    () => parsePeftConfig({ lora: 2.5 }, 2),
    userError(/"lora" must be a non-negative integer \(LoRA rank; 0 = off\), got 2\.5/),
  );
  assert.throws(() => parsePeftConfig({ pt: '8' }, 2), userError(/"pt" .* got "8"/));
  assert.throws(() => parsePeftConfig({ sa: 1, layers: [5] }, 2), userError(/layer index 5 is out of range 0\.\.1/));
  assert.throws(
    () => parsePeftConfig({ sa: 1, layers: [true] }, 2),
    userError(/has 1 flags but the model has 2 layers/),
  );
  assert.throws(() => parsePeftConfig({ sa: 1, layers: 'some' }, 2), userError(/"layers" must be "all"/));
  assert.throws(
    () => parsePeftConfig({ adapters: 1 }, 2),
    userError(/unknown field "adapters" \(known: layers, sa, pa/),
  );
  assert.throws(() => parsePeftConfig({ lora: 8, lora_alpha: 64 }, 2), userError(/unknown field "lora_alpha"/));
  assert.throws(
    () => parsePeftConfig({ pa: 4, paScaling: '9' }, 2),
    userError(/"paScaling" must be a finite number > 0, got "9"/),
  );
  assert.throws(
    () => parsePeftConfig({ pa: 4, paScaling: 0 }, 2),
    userError(/"paScaling" must be a finite number > 0, got 0/),
  );
  assert.throws(
    () => parsePeftConfig({ lora: 4, loraAlpha: null }, 2),
    userError(/"loraAlpha" must be a finite number > 0, got null/),
  );
  assert.throws(
    () => parsePeftConfig({ pt: 4, ptBottleneck: 1.5 }, 2),
    userError(/"ptBottleneck" must be an integer >= 0/),
  );
  assert.throws(() => parsePeftConfig({ options: { foo: 1 } }, 2), userError(/unknown option "options\.foo"/));
  assert.throws(() => parsePeftConfig({ options: 3 }, 2), userError(/"options" must be an object/));
  assert.throws(
    () => parsePeftConfig({ loraAlpha: 8, options: { loraAlpha: 64 } }, 2),
    userError(/"loraAlpha" is given both flat and in "options"/),
  );
  assert.throws(() => parsePeftConfig([16], 2), userError(/expected a JSON object .*got \[16\]/));
  assert.throws(() => readPeftArg('[16]', 2), userError(/--peft: expected a JSON object/));
  assert.throws(() => readPeftArg('{sa:1}', 2), userError(/not valid JSON/));
  assert.throws(() => readPeftArg('/no/such/file.json', 2), userError(/neither inline JSON nor an existing file/));
});

test('readPeftArg: a JSON file is read like inline JSON, errors name the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-peft-'));
  try {
    const f = join(dir, 'peft.json');
    writeFileSync(f, JSON.stringify({ lora: 4, loraAlpha: 32, layers: [1] }));
    const c = readPeftArg(f, USE);
    assert.deepEqual([c.layers, c.lora, c.options.loraAlpha], [[false, true], 4, 32]);
    writeFileSync(f, JSON.stringify({ lora: 4, alpha: 32 }));
    assert.throws(
      () => readPeftArg(f, USE),
      userError(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: unknown field "alpha"`)),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('peftBounds: sizes bounded by the model (4·H bottlenecks, prefix <= max(H, longest input), rank <= attention width)', () => {
  assert.deepEqual(peftBounds(BASE), { sa: 3072, pa: 3072, pt: 768, lora: 768, ptBottleneck: 3072 });
  // USE-lite: LoRA on layer 0 is bounded by its 256-wide attention; on layer 1 alone by 512.
  assert.equal(peftBounds(USE).lora, 256);
  assert.equal(peftBounds(USE, [false, true]).lora, 512);
  assert.equal(peftBounds(USE).pt, 512);
  // A tiny model keeps the reference MLP width 800 and its 64 positions as the prefix cap.
  assert.deepEqual(peftBounds({ numLayers: 2, hidden: 32, maxLength: 64 }), {
    sa: 128,
    pa: 128,
    pt: 64,
    lora: 32,
    ptBottleneck: 800,
  });
  // At the bound: accepted; one above: one line naming the key, the limit and why.
  parsePeftConfig({ sa: 3072, pa: 3072, pt: 768, lora: 768, ptBottleneck: 3072 }, BASE);
  assert.throws(
    () => parsePeftConfig({ sa: 1e9 }, BASE),
    userError(/"sa" is 1000000000, above this model's limit 3072 \(4 x the hidden size\); choose a value in 0\.\.3072/),
  );
  assert.throws(() => parsePeftConfig({ pa: 3073 }, BASE), userError(/"pa" is 3073, above this model's limit 3072/));
  assert.throws(
    () => parsePeftConfig({ pt: 100000 }, BASE),
    userError(
      /"pt" is 100000, above this model's limit 768 \(the larger of the hidden size and the model's longest input\)/,
    ),
  );
  assert.throws(
    () => parsePeftConfig({ lora: 300 }, USE),
    userError(/"lora" is 300, above this model's limit 256 \(the attention width/),
  );
  assert.equal(parsePeftConfig({ lora: 300, layers: [1] }, USE).lora, 300);
  assert.throws(
    () => parsePeftConfig({ pt: 1, ptBottleneck: 5000 }, BASE),
    userError(/"ptBottleneck" is 5000, above this model's limit 3072/),
  );
  assert.throws(() => readPeftArg('{"sa":1e9}', BASE), userError(/^--peft: "sa" is 1000000000/));
  // A layer count alone checks the form, not the bounds; checkPeftBounds does them later.
  const big = parsePeftConfig({ sa: 1e9 }, 12);
  assert.throws(
    () => checkPeftBounds(big, BASE, 'trial PEFT config'),
    userError(/^trial PEFT config: "sa" is 1000000000/),
  );
});

test('describePeft shows sizes, layers and the options that differ from the defaults for active modules', () => {
  const cfg = parsePeftConfig({ sa: 3, pt: 12, lora: 2, layers: [0, 2] }, 3);
  assert.equal(describePeft(cfg), 'SA3 PT12 LoRA2 @ layers 0,2');
  assert.equal(isNoop(cfg), false);
  assert.equal(
    describePeft(parsePeftConfig({ lora: 8, loraAlpha: 64, paScaling: 9 }, 2)),
    'LoRA8 @ all layers (loraAlpha 64)',
  );
  assert.equal(describePeft(parsePeftConfig({ pa: 8, paScaling: 9 }, 2)), 'PA8 @ all layers (paScaling 9)');
  assert.equal(isNoop(emptyPeftConfig(2)), true);
  assert.equal(isNoop(parsePeftConfig({ sa: 4, layers: [] }, 2)), true);
});
