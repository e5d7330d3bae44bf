/**
 * The AdapterHub and HF PEFT layouts (src/peft/export.ts) against the libraries' own schemas, as
 * read in their sources (adapters 1.2.0: configuration/adapter_config.py, methods/{modeling,
 * prefix_tuning,lora}.py, loading.py; peft: tuners/lora/config.py, docs/source/developer_guides/
 * checkpoint.md), and the renamed native files with the pre-rename names still loading.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peftTensorSpecs } from './create.js';
import { initTensor } from './init.js';
import { adapterHubLayout, LayoutError, type LayoutModel, peftLoraLayout } from './export.js';
import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  LEGACY_ADAPTER_CONFIG_FILE,
  LEGACY_ADAPTER_WEIGHTS_FILE,
  loadPeftAdapter,
  PeftFileError,
  savePeftAdapter,
} from './io.js';
import { caseConfig, TINY_DIMS } from './testing.js';
import type { PeftConfig } from './config.js';
import type { PeftWeights } from './types.js';

// Dataclass fields of the library classes (adapters 1.2.0 configuration/adapter_config.py).
const BN_FIELDS = new Set([
  'architecture',
  'mh_adapter',
  'output_adapter',
  'reduction_factor',
  'non_linearity',
  'original_ln_before',
  'original_ln_after',
  'ln_before',
  'ln_after',
  'init_weights',
  'init_weights_seed',
  'is_parallel',
  'scaling',
  'use_gating',
  'residual_before_ln',
  'adapter_residual_before_ln',
  'inv_adapter',
  'inv_adapter_reduction_factor',
  'cross_adapter',
  'leave_out',
  'dropout',
  'phm_layer',
  'phm_dim',
  'factorized_phm_W',
  'shared_W_phm',
  'shared_phm_rule',
  'factorized_phm_rule',
  'phm_c_init',
  'phm_init_range',
  'learn_phm',
  'hypercomplex_nonlinearity',
  'phm_rank',
  'phm_bias',
  'stochastic_depth',
]);
const PREFIX_FIELDS = new Set([
  'architecture',
  'encoder_prefix',
  'cross_prefix',
  'leave_out',
  'flat',
  'prefix_length',
  'bottleneck_size',
  'non_linearity',
  'dropout',
  'use_gating',
  'shared_gating',
  'init_weights_seed',
]);
const LORA_FIELDS = new Set([
  'architecture',
  'selfattn_lora',
  'intermediate_lora',
  'output_lora',
  'leave_out',
  'r',
  'alpha',
  'dropout',
  'attn_matrices',
  'composition_mode',
  'init_weights',
  'init_weights_seed',
  'use_gating',
  'use_dora',
  'vera_d',
  'vera_b',
  'dtype',
]);
// peft's LoraConfig fields we write (tuners/lora/config.py) and the base PeftConfig's.
const PEFT_LORA_FIELDS = new Set([
  'peft_type',
  'task_type',
  'base_model_name_or_path',
  'revision',
  'inference_mode',
  'r',
  'lora_alpha',
  'lora_dropout',
  'target_modules',
  'layers_to_transform',
  'layers_pattern',
  'bias',
  'fan_in_fan_out',
  'modules_to_save',
  'init_lora_weights',
  'use_rslora',
  'use_dora',
  'rank_pattern',
  'alpha_pattern',
]);
// SeqBnConfig / ParBnConfig defaults (the classes' own values).
const SEQ_BN = { original_ln_before: true, original_ln_after: true, residual_before_ln: true, non_linearity: 'relu' };
const PAR_BN = { original_ln_before: false, original_ln_after: true, is_parallel: true, non_linearity: 'relu' };

/** ConfigUnion.validate of adapters 1.2.0 (pairwise: bottleneck configs must differ in both locations). */
function configUnionValid(configs: Record<string, unknown>[]): boolean {
  for (let i = 0; i < configs.length; i++)
    for (let j = 0; j < i; j++) {
      const a = configs[i]!;
      const b = configs[j]!;
      if (a['architecture'] !== b['architecture']) continue;
      if ((a['leave_out'] as number[]).length || (b['leave_out'] as number[]).length) continue;
      if (a['architecture'] === 'bottleneck') {
        if (!(a['mh_adapter'] !== b['mh_adapter'] && a['output_adapter'] !== b['output_adapter'])) return false;
        continue;
      }
      return false;
    }
  return true;
}

const H = TINY_DIMS.hidden;
const MODEL: LayoutModel = { flavour: 'bert', modelId: 'org/tiny', hidden: H, numLayers: TINY_DIMS.numLayers };

function adapterOf(cfg: PeftConfig) {
  const weights: PeftWeights = new Map(
    peftTensorSpecs(cfg, TINY_DIMS).map((s) => [
      s.name,
      { data: initTensor(s, 3, 'float32') as Float32Array, shape: s.shape },
    ]),
  );
  // Nonzero everywhere so a mis-mapped tensor shows.
  for (const t of weights.values())
    for (let i = 0; i < t.data.length; i++) t.data[i] = (t.data[i] as number) + i * 1e-3;
  const headWeights: PeftWeights = new Map([
    ['classifier.weight', { data: new Float32Array(2 * H).fill(0.5), shape: [2, H] }],
    ['classifier.bias', { data: new Float32Array(2), shape: [2] }],
    ['bert.pooler.dense.weight', { data: new Float32Array(H * H).fill(0.1), shape: [H, H] }],
    ['bert.pooler.dense.bias', { data: new Float32Array(H), shape: [H] }],
  ]);
  return { config: cfg, weights, headWeights };
}

describe('AdapterHub layout (--format adapters)', () => {
  it('a ConfigUnion of ParBn + prefix-tuning + LoRA: fields of the library classes, leave_out, valid union', () => {
    const cfg = caseConfig({ pa: 4, pt: 2, lora: 2, layers: [false, true] });
    const l = adapterHubLayout(adapterOf(cfg), MODEL, 'sst2');
    const top = l.config as { config: { architecture: string; configs: Record<string, unknown>[] } };
    assert.deepEqual(Object.keys(l.config).sort(), [
      'config',
      'hidden_size',
      'model_class',
      'model_name',
      'model_type',
      'name',
      'version',
    ]);
    assert.equal(top.config.architecture, 'union');
    const [pa, pt, lora] = top.config.configs as [
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    assert.deepEqual(
      [pa['architecture'], pt['architecture'], lora['architecture']],
      ['bottleneck', 'prefix_tuning', 'lora'],
    );
    for (const k of Object.keys(pa)) assert.ok(BN_FIELDS.has(k), `BnConfig has no field ${k}`);
    for (const k of Object.keys(pt)) assert.ok(PREFIX_FIELDS.has(k), `PrefixTuningConfig has no field ${k}`);
    for (const k of Object.keys(lora)) assert.ok(LORA_FIELDS.has(k), `LoRAConfig has no field ${k}`);
    for (const [k, v] of Object.entries(PAR_BN)) assert.equal(pa[k], v, `ParBnConfig ${k}`);
    assert.equal(pa['scaling'], cfg.options.paScaling);
    // adapters: down_sample = int(input_size // reduction_factor)
    assert.equal(Math.floor(H / (pa['reduction_factor'] as number)), 4);
    for (const c of [pa, pt, lora]) assert.deepEqual(c['leave_out'], [0]);
    assert.ok(configUnionValid(top.config.configs));
    assert.equal(pt['prefix_length'], 2);
    assert.equal(pt['bottleneck_size'], cfg.options.ptBottleneck);
    assert.deepEqual([lora['r'], lora['alpha'], lora['attn_matrices']], [2, cfg.options.loraAlpha, ['q', 'v']]);
    // Tensor names and shapes as the library's modules hold them (layer 1 only).
    const shapes = Object.fromEntries([...l.tensors].map(([n, t]) => [n, t.shape]));
    const P = cfg.options.ptBottleneck;
    assert.deepEqual(shapes, {
      'bert.encoder.layer.1.output.adapters.sst2.adapter_down.0.weight': [4, H],
      'bert.encoder.layer.1.output.adapters.sst2.adapter_down.0.bias': [4],
      'bert.encoder.layer.1.output.adapters.sst2.adapter_up.weight': [H, 4],
      'bert.encoder.layer.1.output.adapters.sst2.adapter_up.bias': [H],
      'bert.prefix_tuning.prefix_tunings.sst2.self_prefix.wte.weight': [2, H],
      'bert.prefix_tuning.prefix_tunings.sst2.self_prefix.control_trans.0.weight': [P, H],
      'bert.prefix_tuning.prefix_tunings.sst2.self_prefix.control_trans.0.bias': [P],
      // n_layers * 2 * n_heads * n_embd_per_head rows: one active layer.
      'bert.prefix_tuning.prefix_tunings.sst2.self_prefix.control_trans.2.weight': [2 * H, P],
      'bert.prefix_tuning.prefix_tunings.sst2.self_prefix.control_trans.2.bias': [2 * H],
      'bert.encoder.layer.1.attention.self.query.loras.sst2.lora_A': [2, H],
      'bert.encoder.layer.1.attention.self.query.loras.sst2.lora_B': [H, 2],
      'bert.encoder.layer.1.attention.self.value.loras.sst2.lora_A': [2, H],
      'bert.encoder.layer.1.attention.self.value.loras.sst2.lora_B': [H, 2],
    });
    // Every name is one the library's save filter keeps (loading.py filter_func).
    for (const n of l.tensors.keys()) assert.ok(/\.(adapters|prefix_tunings|loras)\.sst2\./.test(n), n);
  });

  it('serial adapter: SeqBnConfig except original_ln_before false, said in the notes', () => {
    const l = adapterHubLayout(adapterOf(caseConfig({ sa: 8 })), MODEL, 'x');
    const c = (l.config as { config: Record<string, unknown> }).config;
    for (const [k, v] of Object.entries(SEQ_BN)) if (k !== 'original_ln_before') assert.equal(c[k], v, k);
    assert.equal(c['original_ln_before'], false);
    assert.equal(c['is_parallel'], false);
    assert.equal(c['reduction_factor'], H / 8);
    assert.match(l.notes.join('\n'), /original_ln_before: false/);
  });

  it('flat prefix rows (ptBottleneck 0) in FlatPrefixTuning order [P, n_layers * 2, H]', () => {
    const cfg = caseConfig({ pt: 3, ptBottleneck: 0 });
    const a = adapterOf(cfg);
    const l = adapterHubLayout(a, MODEL, 'x');
    const flat = l.tensors.get('bert.prefix_tuning.prefix_tunings.x.self_prefix.control_trans')!;
    const nL = 2;
    assert.deepEqual(flat.shape, [3 * nL * 2 * H]);
    for (const [k, l2] of [0, 1].entries())
      for (const [j, kv] of (['key', 'value'] as const).entries()) {
        const rows = a.weights.get(`peft.layer.${l2}.pt.${kv}`)!.data;
        for (let p = 0; p < 3; p++)
          for (let d = 0; d < H; d++) assert.equal(flat.data[(p * nL * 2 + 2 * k + j) * H + d], rows[p * H + d]);
      }
  });

  it('rejects what the library cannot hold: serial + parallel adapter together', () => {
    assert.throws(
      () => adapterHubLayout(adapterOf(caseConfig({ sa: 4, pa: 4 })), MODEL, 'x'),
      (e: unknown) => e instanceof LayoutError && /one bottleneck adapter after the FFN/.test(e.message),
    );
  });
});

describe('HF PEFT layout (--format peft)', () => {
  it('LoraConfig with target_modules and layers_to_transform; state-dict keys as save_pretrained writes them', () => {
    const cfg = caseConfig({ lora: 4, layers: [true, false] });
    const a = adapterOf(cfg);
    const l = peftLoraLayout(a, MODEL, [...a.headWeights.keys()]);
    for (const k of Object.keys(l.config)) assert.ok(PEFT_LORA_FIELDS.has(k), `LoraConfig has no field ${k}`);
    assert.equal(l.config['peft_type'], 'LORA');
    assert.equal(l.config['task_type'], 'SEQ_CLS');
    assert.deepEqual(l.config['target_modules'], ['query', 'value']);
    assert.deepEqual(l.config['layers_to_transform'], [0]);
    assert.equal(l.config['r'], 4);
    assert.equal(l.config['lora_alpha'], cfg.options.loraAlpha);
    assert.deepEqual(l.config['modules_to_save'], ['classifier', 'pooler']);
    assert.deepEqual(Object.fromEntries([...l.tensors].map(([n, t]) => [n, t.shape])), {
      'base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight': [4, H],
      'base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight': [H, 4],
      'base_model.model.bert.encoder.layer.0.attention.self.value.lora_A.weight': [4, H],
      'base_model.model.bert.encoder.layer.0.attention.self.value.lora_B.weight': [H, 4],
      'base_model.model.classifier.weight': [2, H],
      'base_model.model.classifier.bias': [2],
      'base_model.model.bert.pooler.dense.weight': [H, H],
      'base_model.model.bert.pooler.dense.bias': [H],
    });
    assert.deepEqual(
      l.tensors.get('base_model.model.bert.encoder.layer.0.attention.self.value.lora_B.weight')!.data,
      a.weights.get('peft.layer.0.lora.value.B')!.data,
    );
  });

  it('rejects a configuration with other methods in one line', () => {
    assert.throws(
      () => peftLoraLayout(adapterOf(caseConfig({ lora: 2, sa: 2 })), MODEL, []),
      (e: unknown) => e instanceof LayoutError && /LoRA only.*has sa/.test(e.message) && !e.message.includes('\n'),
    );
  });
});

describe('native adapter files', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autopeft-layouts-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are autopeft_adapter.{json,safetensors}; folders with the pre-rename names still load; a PEFT folder is named as one', async () => {
    const a = adapterOf(caseConfig({ sa: 2 }));
    const out = join(dir, 'a');
    await savePeftAdapter(out, { ...a, backbone: { id: 'x', dims: TINY_DIMS } });
    assert.ok(existsSync(join(out, ADAPTER_CONFIG_FILE)) && existsSync(join(out, ADAPTER_WEIGHTS_FILE)));
    assert.ok(!existsSync(join(out, LEGACY_ADAPTER_CONFIG_FILE)));
    await rename(join(out, ADAPTER_CONFIG_FILE), join(out, LEGACY_ADAPTER_CONFIG_FILE));
    await rename(join(out, ADAPTER_WEIGHTS_FILE), join(out, LEGACY_ADAPTER_WEIGHTS_FILE));
    const old = await loadPeftAdapter(out);
    assert.deepEqual(
      old.weights.get('peft.layer.0.sa.up.weight')!.data,
      a.weights.get('peft.layer.0.sa.up.weight')!.data,
    );
    const peft = join(dir, 'peft');
    const l = peftLoraLayout(adapterOf(caseConfig({ lora: 2 })), MODEL, []);
    await savePeftAdapter(peft, { ...a, backbone: { id: 'x', dims: TINY_DIMS } });
    await rm(join(peft, ADAPTER_CONFIG_FILE));
    await writeFile(join(peft, LEGACY_ADAPTER_CONFIG_FILE), JSON.stringify(l.config));
    await assert.rejects(
      loadPeftAdapter(peft),
      (e: unknown) =>
        e instanceof PeftFileError && /an HF PEFT or AdapterHub adapter, not an autopeft adapter/.test(e.message),
    );
  });
});
