import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphError } from '../errors.js';
import { gradRules } from '../gradients/index.js';
import { attr, Graph } from '../ir.js';
import * as ops from '../ops/index.js';
import { emitOnnx } from './emit.js';
import { lowerings } from './lowerings.js';

const SRC = join(import.meta.dirname, '../..');

/**
 * Every op name the product code creates nodes with: `graph.node('Op', ...)` and the op helpers
 * that take the name first (`unary`, `binary`, `compare`, `reduce` in src/graph/ops).
 */
function opsCreatedInSources(): Set<string> {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
        for (const m of readFileSync(p, 'utf8').matchAll(/\b(?:node|unary|binary|compare|reduce)\(\s*'([A-Z]\w*)'/g))
          found.add(m[1]!);
    }
  };
  walk(SRC);
  return found;
}

describe('ONNX lowering rules', () => {
  it('every op the builders create, and every op with a gradient rule, has a lowering', () => {
    const created = opsCreatedInSources();
    assert.ok(created.has('MatMul') && created.has('LayerNormalization') && created.size > 30, [...created].join());
    const missing = [...new Set([...created, ...gradRules.keys()])].filter((op) => !lowerings.has(op)).sort();
    assert.deepEqual(missing, []);
  });

  it('an op without a lowering is refused, naming the op and the table', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    const [y] = g.node('Frobnicate', [x], { k: attr.int(1) }, [{ dtype: 'float32', shape: [2] }]);
    assert.throws(
      () => emitOnnx({ outputs: [['y', y!]] }),
      (e: unknown) => e instanceof GraphError && /no ONNX lowering for op 'Frobnicate'.*lowerings\.ts/.test(e.message),
    );
  });

  it('contrib lowerings declare the com.microsoft opset only when used', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2, 3]);
    const b = g.input('b', 'float32', [2, 3]);
    const plain = emitOnnx({ outputs: [['y', ops.add(a, b)]] }).bytes!;
    const fused = emitOnnx({ outputs: [['y', ops.matmul(a, b, { transB: true })]] }).bytes!;
    const primitive = emitOnnx({ outputs: [['y', ops.matmul(a, b, { transB: true })]], contribOps: false }).bytes!;
    const has = (bytes: Uint8Array, s: string) => Buffer.from(bytes).includes(s);
    assert.ok(!has(plain, 'com.microsoft'));
    assert.ok(has(fused, 'com.microsoft') && has(fused, 'FusedMatMul'));
    assert.ok(!has(primitive, 'com.microsoft') && has(primitive, 'Transpose'));
  });
});
