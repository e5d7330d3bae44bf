import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parsePeftConfig,
  readPeftArg,
  fromSearchConfig,
  toSearchConfig,
  describePeft,
  isNoop,
  PeftConfigError,
} from './config.js';

test('parsePeftConfig: layers as "all", indices or flags; sizes default to 0', () => {
  assert.deepEqual(parsePeftConfig({ sa: 16 }, 3).layers, [true, true, true]);
  const c = parsePeftConfig({ layers: [0, 2], pt: 8, lora: 4 }, 3);
  assert.deepEqual([c.layers, c.sa, c.pa, c.pt, c.lora], [[true, false, true], 0, 0, 8, 4]);
  assert.deepEqual(parsePeftConfig({ layers: [false, true], pa: 2 }, 2).layers, [false, true]);
  assert.equal(c.options.ptBottleneck, 800);
  assert.equal(parsePeftConfig({ sa: 1, paScaling: 2 }, 1).options.paScaling, 2);
});

test('parsePeftConfig: clear one-line errors naming the field', () => {
  assert.throws(
    () => parsePeftConfig({ sa: -1 }, 2),
    (e: unknown) => e instanceof PeftConfigError && /"sa" must be a non-negative integer/.test(e.message),
  );
  assert.throws(() => parsePeftConfig({ sa: 1, layers: [5] }, 2), /layer index 5 is out of range 0\.\.1/);
  assert.throws(() => parsePeftConfig({ sa: 1, layers: [true] }, 2), /has 1 flags but the model has 2 layers/);
  assert.throws(() => parsePeftConfig({ adapters: 1 }, 2), /unknown field "adapters"/);
  assert.throws(() => readPeftArg('{sa:1}', 2), /not valid JSON/);
  assert.throws(() => readPeftArg('/no/such/file.json', 2), /neither inline JSON nor an existing file/);
});

test('search config <-> PeftConfig round trip', () => {
  const flat = { layer_0: true, layer_1: false, layer_2: true, sa: 3, pa: 0, pt: 12, lora: 2 };
  const cfg = fromSearchConfig(flat, 3);
  assert.deepEqual(toSearchConfig(cfg), flat);
  assert.equal(describePeft(cfg), 'SA3 PT12 LoRA2 @ layers 0,2');
  assert.equal(isNoop(cfg), false);
  assert.equal(isNoop(fromSearchConfig({ layer_0: true, sa: 0, pa: 0, pt: 0 }, 1)), true);
});
