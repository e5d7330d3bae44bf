import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  escapeMdCell,
  escapeXml,
  formatDuration,
  formatNumber,
  formatPct,
  layerRanges,
  modulesText,
  placement,
} from './format.js';
import { linearScale, logScale } from './scale.js';

test('formatNumber prints what a person would write', () => {
  assert.equal(formatNumber(0.1 + 0.2), '0.3');
  assert.equal(formatNumber(0.8), '0.8');
  assert.equal(formatNumber(0.87654321), '0.8765');
  assert.equal(formatNumber(123456.7), '123457');
  assert.equal(formatNumber(0.00012346), '0.0001235');
  assert.equal(formatNumber(-2.5), '-2.5');
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(-1e-7), '-1e-7');
  assert.equal(formatNumber(3e12), '3e+12');
  assert.equal(formatPct(0.009820770930518046), '0.00982');
  assert.equal(formatPct(12.3456), '12.3');
});

test('formatDuration picks a unit per magnitude', () => {
  assert.equal(formatDuration(850), '850 ms');
  assert.equal(formatDuration(12_345), '12.3 s');
  assert.equal(formatDuration(245_000), '4 min 05 s');
  assert.equal(formatDuration(7_380_000), '2 h 03 min');
});

test('escaping for XML and Markdown cells', () => {
  assert.equal(
    escapeXml(`<a href="x">Tom's & Jerry</a>`),
    '&lt;a href=&quot;x&quot;&gt;Tom&#39;s &amp; Jerry&lt;/a&gt;',
  );
  assert.equal(escapeMdCell('a | b\nc'), 'a \\| b c');
  // A study name cannot put raw HTML into report.md.
  assert.equal(escapeMdCell('<img src=x onerror=alert(1)>'), '&lt;img src=x onerror=alert(1)&gt;');
});

test('placement reads the AutoPEFT keys and keeps the rest', () => {
  const p = placement({ layer_0: true, layer_1: false, layer_2: true, layer_3: true, sa: 48, pa: 0, pt: 6, lr: 0.001 });
  assert.deepEqual(p.layers, [true, false, true, true]);
  assert.equal(layerRanges(p.layers ?? []), '0, 2-3');
  assert.equal(modulesText(p), 'SA 48 · PT 6');
  assert.equal(p.lora, null);
  assert.deepEqual(p.other, [['lr', '0.001']]);
  assert.equal(placement({ lora: 8 }).layers, null);
  assert.equal(modulesText(placement({ lora: 8 })), 'LoRA 8');
  assert.equal(layerRanges([false, false]), 'none');
});

test('linearScale: ticks are round, inside the domain, and the domain covers the data', () => {
  for (const [lo, hi] of [
    [0.71, 0.86],
    [3.1, 3.9],
    [-2, 7],
    [0, 1e-3],
    [5, 5],
    [1, 40],
  ]) {
    const s = linearScale(lo, hi, [0, 100]);
    assert.ok(s.domain[0] <= lo && s.domain[1] >= hi, `${lo}..${hi} in ${s.domain}`);
    assert.ok(s.ticks.length >= 3 && s.ticks.length <= 13, `tick count ${s.ticks.length}`);
    for (const t of s.ticks) {
      assert.ok(t >= s.domain[0] - 1e-12 && t <= s.domain[1] + 1e-12);
      assert.match(s.label(t), /^-?\d+(\.\d{1,6})?$/);
    }
    const labels = s.ticks.map((t) => s.label(t));
    assert.equal(new Set(labels).size, labels.length, `distinct labels ${labels}`);
    assert.equal(s.map(s.domain[0]), 0);
    assert.equal(s.map(s.domain[1]), 100);
  }
  const ints = linearScale(1, 3, [0, 10], { integer: true });
  assert.ok(ints.ticks.every(Number.isInteger), String(ints.ticks));
});

test('logScale: decade ticks, exact labels, log placement', () => {
  const s = logScale(0.012, 11.5, [0, 300]);
  assert.ok(s.domain[0] <= 0.012 && s.domain[1] >= 11.5);
  assert.deepEqual(
    s.ticks.map((t) => s.label(t)),
    ['0.01', '0.1', '1', '10'],
  );
  const two = logScale(0.05, 4, [0, 300]);
  assert.deepEqual(
    two.ticks.map((t) => two.label(t)),
    ['0.05', '0.1', '0.2', '0.5', '1', '2'],
  );
  const one = s.map(1);
  const ten = s.map(10);
  assert.ok(Math.abs(s.map(Math.sqrt(10)) - (one + ten) / 2) < 1e-9);
  const wide = logScale(0.001, 100, [0, 300]);
  assert.deepEqual(
    wide.ticks.map((t) => wide.label(t)),
    ['0.001', '0.01', '0.1', '1', '10', '100'],
  );
  assert.throws(() => logScale(0, 1, [0, 1]), RangeError);
});
