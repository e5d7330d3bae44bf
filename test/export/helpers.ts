/** Shared by the export tests: the real CLI process, and adapters with nonzero weights for any backbone. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { peftTensorSpecs } from '../../src/peft/create.js';
import { initTensor } from '../../src/peft/init.js';
import { parsePeftConfig } from '../../src/peft/config.js';
import { savePeftAdapter } from '../../src/peft/io.js';
import type { Backbone } from '../../src/models/backbone.js';
import type { PeftWeights } from '../../src/peft/types.js';
import { seededNormal } from '../../src/core/random.js';

export const BIN = join(import.meta.dirname, '../../bin/autopeft.mjs');

export interface Proc {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node bin/autopeft.mjs ...args`, optionally with `stdin` piped in. */
export function cli(args: string[], stdin?: string): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    p.stdin.end(stdin ?? '');
  });
}

/**
 * Saves an adapter of `peft` (a --peft style object) for `backbone` with every weight drawn
 * N(0, std) (up-projections and LoRA B included, so every module changes the logits) and a
 * random head of `labels`.
 */
export async function writeRandomAdapter(
  dir: string,
  backbone: Backbone,
  modelId: string,
  peft: Record<string, unknown>,
  labels: string[],
  seed = 7,
): Promise<void> {
  const config = parsePeftConfig(peft, backbone.dims.numLayers);
  const rnd = seededNormal(seed);
  const weights: PeftWeights = new Map(
    peftTensorSpecs(config, backbone.dims).map((s) => {
      const data = initTensor(s, seed, 'float32') as Float32Array;
      for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) + 0.05 * rnd();
      return [s.name, { data, shape: s.shape }];
    }),
  );
  // The head as the backbone builds it (names and shapes), with random values.
  const eb = backbone.exportBackbone!({ seqLen: 8, numLabels: labels.length });
  const headWeights: PeftWeights = new Map();
  for (const [n, t] of eb.weights)
    if (n.startsWith('classifier') || n.includes('.pooler.')) {
      const data = new Float32Array(t.data.length);
      for (let i = 0; i < data.length; i++) data[i] = 0.3 * rnd();
      headWeights.set(n, { data, shape: [...t.shape] });
    }
  const { numLayers, hidden, numHeads, attentionWidths } = backbone.dims;
  await savePeftAdapter(dir, {
    config,
    backbone: {
      id: modelId,
      type: backbone.kind,
      dims: { numLayers, hidden, numHeads, ...(attentionWidths ? { attentionWidths: [...attentionWidths] } : {}) },
    },
    head: { kind: 'classification', numLabels: labels.length, labels },
    task: 'sst2',
    weights,
    headWeights,
    extra: { devMetrics: { accuracy: 0.5 }, paramPct: 1.23 },
  });
}
