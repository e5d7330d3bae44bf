import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, mixSeed } from '../../core/random.js';
import { SearchSpace } from './space.js';
import { SearchSpaceError } from './errors.js';
import {
  autopeftObjectives,
  autopeftSizes,
  autopeftSpace,
  paramPct,
  layerName,
  peftFromSearch,
  searchFromPeft,
} from './autopeft.js';
import { DEFAULT_PEFT_OPTIONS, parsePeftConfig } from '../../peft/config.js';
import { paperParamPct } from '../../peft/params.js';
import type { Config } from '../types.js';

test('rng: deterministic, uniform moments, normal moments', () => {
  const a = new Rng(42),
    b = new Rng(42),
    c = new Rng(43);
  const xa = [a.float(), a.float()],
    xb = [b.float(), b.float()];
  assert.deepEqual(xa, xb);
  assert.notEqual(c.float(), xa[0]);
  const r = new Rng(1);
  let s = 0,
    s2 = 0,
    n = 20000,
    ns = 0,
    ns2 = 0;
  for (let i = 0; i < n; i++) {
    const u = r.float();
    assert.ok(u >= 0 && u < 1);
    s += u;
    s2 += u * u;
    const z = r.normal();
    ns += z;
    ns2 += z * z;
  }
  assert.ok(Math.abs(s / n - 0.5) < 0.01);
  assert.ok(Math.abs(s2 / n - 1 / 3) < 0.01);
  assert.ok(Math.abs(ns / n) < 0.03);
  assert.ok(Math.abs(ns2 / n - 1) < 0.04);
  assert.notEqual(mixSeed(1, 2), mixSeed(2, 1));
});

test('autopeft sizes and dims', () => {
  assert.deepEqual(autopeftSizes(768), [0, 1, 3, 6, 12, 24, 48, 96, 192, 384, 768]);
  assert.equal(autopeftSpace({ numLayers: 12, hidden: 768 }).dim, 15);
  assert.equal(autopeftSpace({ numLayers: 24, hidden: 1024 }).dim, 27);
  assert.equal(autopeftSpace({ numLayers: 12, hidden: 768, lora: true }).dim, 16);
  assert.throws(() => autopeftSpace({ numLayers: 0, hidden: 768 }), SearchSpaceError);
  // A reduced grid (the recorded-trials benchmark's): only these sizes are sampled.
  const reduced = autopeftSpace({ numLayers: 2, hidden: 512, sizes: [0, 1, 4, 16, 64, 256] });
  const rng = new Rng(3);
  for (let i = 0; i < 100; i++) {
    const c = reduced.sample(rng);
    for (const m of ['sa', 'pa', 'pt']) assert.ok([0, 1, 4, 16, 64, 256].includes(c[m] as number));
  }
  assert.throws(() => autopeftSpace({ numLayers: 2, hidden: 512, sizes: [0, 3] }), /strictly increasing values from/);
  assert.throws(() => autopeftSpace({ numLayers: 2, hidden: 512, sizes: [4, 1] }), SearchSpaceError);
});

test('autopeft validity, neighbours and paramPct closed form', () => {
  const space = autopeftSpace({ numLayers: 12, hidden: 768 });
  const rng = new Rng(7);
  for (let i = 0; i < 200; i++) {
    const c = space.sample(rng);
    assert.ok(space.isValid(c));
    for (const nb of space.neighbours(c)) {
      assert.ok(space.isValid(nb));
      let diff = 0;
      for (const k of Object.keys(c)) if (c[k] !== nb[k]) diff++;
      assert.equal(diff, 1);
    }
  }
  const c: Config = { sa: 48, pa: 0, pt: 0 };
  for (let l = 0; l < 12; l++) c[layerName(l)] = l < 3;
  // 3 layers, a 48-wide serial adapter: 3 * 2*768*48 / 110M
  assert.equal(paramPct(c, { numLayers: 12, hidden: 768, backboneParams: 110e6 }), (100 * 3 * 2 * 768 * 48) / 110e6);
  const full = space.neighbours(c);
  // 12 bit flips (turning off the last of 3 layers is still valid) + sa up/down + pa up + pt up
  assert.equal(full.length, 12 + 2 + 1 + 1);
  const none: Config = { ...c, sa: 0 };
  assert.equal(space.isValid(none), false);
  assert.throws(() => space.check(none), /AutoPEFT rule/);
  assert.throws(() => space.check({ ...c, sa: 5 }), /config field "sa"/);
  const lora = autopeftSpace({ numLayers: 2, hidden: 8, lora: true });
  const lc: Config = { layer_0: true, layer_1: false, sa: 0, pa: 0, pt: 0, lora: 4 };
  assert.ok(lora.isValid(lc));
  assert.equal(paramPct(lc, { numLayers: 2, hidden: 8, backboneParams: 1000 }), (100 * 4 * 8 * 4) / 1000);
  const fixed = space.repair({ ...none }, rng);
  assert.ok(space.isValid(fixed));
});

test('uniform valid sampling matches brute-force enumeration', () => {
  // L = 2, H = 2: sizes {0,1,2}; 4 masks x 27 sizes = 108 raw configs, valid = 3 masks x 26 = 78.
  const space = autopeftSpace({ numLayers: 2, hidden: 2 });
  assert.deepEqual(autopeftSizes(2), [0, 1, 2]);
  const rng = new Rng(3);
  const counts = new Map<string, number>();
  const draws = 39000;
  for (let i = 0; i < draws; i++) {
    const k = space.key(space.sample(rng));
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  assert.equal(counts.size, 78);
  const expected = draws / 78;
  let chi2 = 0;
  for (const v of counts.values()) chi2 += (v - expected) ** 2 / expected;
  // 77 dof: the 99.9% quantile is ~117.
  assert.ok(chi2 < 117, `chi2 ${chi2}`);
});

test('generic space: encode/decode round trip, one-hot categoricals, floats, errors', () => {
  const space = new SearchSpace(
    [
      { kind: 'float', name: 'lr', low: 1e-5, high: 1e-2, log: true },
      { kind: 'categorical', name: 'opt', choices: ['adam', 'sgd', 'lion'] },
      { kind: 'categorical', name: 'bin', choices: ['a', 'b'] },
      { kind: 'int', name: 'k', low: 2, high: 5 },
      { kind: 'bool', name: 'flag' },
    ],
    { constraint: (c) => !(c.opt === 'sgd' && c.flag === true), constraintText: 'no sgd with flag' },
  );
  assert.equal(space.dim, 1 + 3 + 1 + 1 + 1);
  const rng = new Rng(11);
  for (let i = 0; i < 100; i++) {
    const c = space.sample(rng);
    assert.ok(space.isValid(c));
    const x = space.encode(c);
    for (const v of x) assert.ok(v >= 0 && v <= 1);
    const d = space.decode(x);
    assert.equal(space.key(d), space.key({ ...c, lr: d.lr }));
    assert.ok(Math.abs(Math.log(d.lr as number) - Math.log(c.lr as number)) < 1e-9);
    for (const nb of space.neighbours(c)) assert.ok(space.isValid(nb));
  }
  assert.deepEqual(
    [...space.encode({ lr: 1e-5, opt: 'lion', bin: 'b', k: 3, flag: false })],
    [0, 0, 0, 1, 1, 1 / 3, 0],
  );
  assert.throws(() => new SearchSpace([{ kind: 'int', name: 'x', values: [1, 1] }]), SearchSpaceError);
  assert.throws(() => new SearchSpace([{ kind: 'float', name: 'x', low: 0, high: 1, log: true }]), /log scale/);
  assert.throws(() => space.check({ lr: 1, opt: 'adam', bin: 'a', k: 2, flag: false }), /"lr"/);
  assert.throws(() => space.check({ lr: 1e-3, opt: 'sgd', bin: 'a', k: 2, flag: true }), /no sgd with flag/);
});

test('paramPct with per-layer attention widths (USE-lite: 256, 512): PT and LoRA count w_l, SA/PA count H', () => {
  const model = { numLayers: 2, hidden: 512, backboneParams: 6_975_744, attentionWidths: [256, 512] };
  const both = { layer_0: true, layer_1: true };
  // LoRA r=8 on q, v in both layers: 4*256*8 + 4*512*8 = 24,576 (one hidden size would say 32,768).
  assert.equal(paramPct({ ...both, sa: 0, pa: 0, pt: 0, lora: 8 }, model), (100 * 24_576) / 6_975_744);
  assert.equal(
    paramPct({ ...both, sa: 0, pa: 0, pt: 0, lora: 8 }, { ...model, attentionWidths: undefined }),
    (100 * 32_768) / 6_975_744,
  );
  // PT L=16: 2*256*16 + 2*512*16 = 24,576; SA 64 is at H in both layers: 2 * 2*512*64.
  assert.equal(paramPct({ ...both, sa: 0, pa: 0, pt: 16, lora: 0 }, model), (100 * 24_576) / 6_975_744);
  assert.equal(paramPct({ ...both, sa: 64, pa: 0, pt: 0, lora: 0 }, model), (100 * 2 * 2 * 512 * 64) / 6_975_744);
  // Only layer 0 on: its own width.
  assert.equal(
    paramPct({ layer_0: true, layer_1: false, sa: 0, pa: 0, pt: 2, lora: 4 }, model),
    (100 * (2 * 256 * 2 + 4 * 256 * 4)) / 6_975_744,
  );
  // Widths equal to H everywhere = the default.
  const c: Config = { ...both, sa: 3, pa: 6, pt: 12, lora: 2 };
  assert.equal(
    paramPct(c, { ...model, attentionWidths: [512, 512] }),
    paramPct(c, { ...model, attentionWidths: undefined }),
  );
  // The search's known objective uses the same widths.
  const known = autopeftObjectives(model)[1]!.known!;
  assert.equal(known({ ...both, sa: 0, pa: 0, pt: 16, lora: 0 }), (100 * 24_576) / 6_975_744);
  assert.throws(
    () => paramPct(c, { ...model, attentionWidths: [256] }),
    (e: unknown) => e instanceof SearchSpaceError && /attentionWidths must list 2 positive integers/.test(e.message),
  );
});

test('search encoding <-> PeftConfig: one mapping, round trip, options carried; the known objective is paperParamPct', () => {
  const flat = { layer_0: true, layer_1: false, layer_2: true, sa: 3, pa: 0, pt: 12, lora: 2 };
  const cfg = peftFromSearch(flat, 3);
  assert.deepEqual(cfg, parsePeftConfig({ layers: [0, 2], sa: 3, pt: 12, lora: 2 }, 3));
  assert.deepEqual(cfg.options, DEFAULT_PEFT_OPTIONS);
  assert.deepEqual(searchFromPeft(cfg), flat);
  // LoRA-less spaces have no `lora` key; off LoRA is left out so their configs match.
  assert.deepEqual(searchFromPeft(peftFromSearch({ layer_0: true, sa: 4, pa: 0, pt: 0 }, 1)), {
    layer_0: true,
    sa: 4,
    pa: 0,
    pt: 0,
  });
  const opts = { paScaling: 2, ptBottleneck: 0, loraAlpha: 32, saForm: 'pfeiffer' } as const;
  assert.deepEqual(peftFromSearch(flat, 3, opts).options, opts);
  const model = { numLayers: 3, hidden: 64, backboneParams: 123_456, attentionWidths: [32, 64, 64] };
  const known = autopeftObjectives(model)[1]!.known!;
  const space = autopeftSpace({ numLayers: 3, hidden: 64, lora: true });
  const rng = new Rng(3);
  for (let i = 0; i < 50; i++) {
    const c = space.sample(rng);
    assert.equal(known(c), paperParamPct(peftFromSearch(c, 3), model, model.backboneParams));
    const { lora, ...rest } = c;
    assert.deepEqual(searchFromPeft(peftFromSearch(c, 3)), (lora as number) > 0 ? c : rest);
  }
});

test('autopeftSpace: LoRA ranks above the attention width are left out (the trial would reject them)', () => {
  const ranks = (o: Parameters<typeof autopeftSpace>[0]) => {
    const p = autopeftSpace(o).params.find((q) => q.name === 'lora');
    assert.ok(p?.kind === 'int');
    return p.values;
  };
  assert.deepEqual(ranks({ numLayers: 2, hidden: 768, lora: true }), [0, 1, 2, 4, 8, 16, 32, 64]);
  assert.deepEqual(ranks({ numLayers: 2, hidden: 32, lora: true }), [0, 1, 2, 4, 8, 16, 32]);
  assert.deepEqual(ranks({ numLayers: 2, hidden: 64, lora: true, attentionWidths: [16, 64] }), [0, 1, 2, 4, 8, 16]);
});
