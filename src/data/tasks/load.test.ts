import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTask } from './load.js';
import { BUILTIN_TASKS, SPAM_SPEC, getTaskSpec, taskNames } from './registry.js';
import { DataError } from '../errors.js';
import { readJsonl } from '../readers/jsonl.js';
import { join } from 'node:path';
import { hasSharedData, SHARED_DATA, SKIP_NO_DATA } from '../test-helpers.js';
import type { Example } from './types.js';

const skip = hasSharedData('glue') ? false : SKIP_NO_DATA;
const countLabel = (xs: Example[] | undefined, c: number): number => (xs ?? []).filter((e) => e.label === c).length;

/** Published sizes (../shared/data/README.md) and label counts (counted with awk/python from the files). */
const EXPECTED: {
  task: string;
  train: number;
  dev: number;
  trainLabels?: number[];
  devLabels?: number[];
  pair: boolean;
}[] = [
  { task: 'sst2', train: 67349, dev: 872, trainLabels: [29780, 37569], devLabels: [428, 444], pair: false },
  { task: 'cola', train: 8551, dev: 1043, trainLabels: [2528, 6023], devLabels: [322, 721], pair: false },
  { task: 'mrpc', train: 3668, dev: 408, trainLabels: [1194, 2474], devLabels: [129, 279], pair: true },
  { task: 'rte', train: 2490, dev: 277, trainLabels: [1249, 1241], devLabels: [146, 131], pair: true },
  { task: 'stsb', train: 5749, dev: 1500, pair: true },
  { task: 'superglue-rte', train: 2490, dev: 277, trainLabels: [1249, 1241], devLabels: [146, 131], pair: true },
  { task: 'cb', train: 250, dev: 56, trainLabels: [115, 119, 16], devLabels: [23, 28, 5], pair: true },
];

for (const e of EXPECTED) {
  test(`${e.task}: real files load with the published counts and label maps`, { skip }, async () => {
    const d = await loadTask(e.task, { dataDir: SHARED_DATA });
    assert.equal(d.train.length + d.validation!.length, e.train);
    assert.equal(d.validationSource, 'carved');
    assert.equal(d.validation!.length, Math.min(1000, Math.round(0.1 * e.train)));
    assert.equal(d.dev!.length, e.dev);
    if (e.trainLabels !== undefined) {
      e.trainLabels.forEach((n, c) => {
        assert.equal(countLabel(d.train, c) + countLabel(d.validation, c), n, `train class ${c}`);
      });
      e.devLabels!.forEach((n, c) => {
        assert.equal(countLabel(d.dev, c), n, `dev class ${c}`);
      });
      assert.equal(d.info.numLabels, e.trainLabels.length);
    }
    for (const x of [...d.train, ...d.dev!]) {
      assert.equal(typeof x.text, 'string');
      assert.equal(x.pair !== undefined, e.pair);
    }
  });
}

test('task-by-task details: first rows, STS-B scores, CoLA without header', { skip }, async () => {
  const cola = await loadTask('cola', { dataDir: SHARED_DATA, validation: false });
  assert.deepEqual(cola.train[0], {
    text: "Our friends won't buy this analysis, let alone the next one we propose.",
    label: 1,
  });
  const stsb = await loadTask('stsb', { dataDir: SHARED_DATA, splits: ['dev'] });
  assert.deepEqual(stsb.dev![0], {
    text: 'A man with a hard hat is dancing.',
    pair: 'A man wearing a hard hat is dancing.',
    label: 5,
  });
  assert.ok(Math.abs(stsb.dev!.reduce((s, x) => s + x.label, 0) / 1500 - 2.363907555555555) < 1e-9);
  assert.equal(stsb.info.regression, true);
  assert.equal(stsb.info.numLabels, 1);
  const mrpc = await loadTask('mrpc', { dataDir: join(SHARED_DATA, 'glue', 'mrpc'), splits: ['dev'] }); // task folder itself
  assert.equal(mrpc.dev![0].pair, '"The foodservice pie business does not fit our long-term growth strategy.');
  assert.equal(mrpc.info.mainMetric, 'acc_and_f1');
});

test('boolq has only the validation file: dev loads alone, train is a clear error', { skip }, async () => {
  const d = await loadTask('boolq', { dataDir: SHARED_DATA, splits: ['dev'] });
  assert.equal(d.dev!.length, 3270);
  assert.equal(countLabel(d.dev, 1), 2033); // label true
  assert.equal(countLabel(d.dev, 0), 1237);
  assert.equal(d.train.length, 0);
  assert.equal(d.validation, undefined);
  await assert.rejects(
    loadTask('boolq', { dataDir: SHARED_DATA }),
    (e: unknown) => e instanceof DataError && /train file not found/.test(e.message) && /train\.jsonl/.test(e.message),
  );
});

test('GLUE RTE (TSV, quote-unaware) and SuperGLUE RTE (JSONL) agree except where the JSONL lost quotes', {
  skip,
}, async () => {
  const g = await loadTask('rte', { dataDir: SHARED_DATA, validation: false });
  const s = await loadTask('superglue-rte', { dataDir: SHARED_DATA, validation: false });
  assert.equal(g.train.length, s.train.length);
  let differ = 0;
  g.train.forEach((a, i) => {
    const b = s.train[i];
    assert.equal(a.label, b.label);
    for (const [x, y] of [
      [a.text, b.text],
      [a.pair!, b.pair!],
    ]) {
      if (x !== y) {
        differ++;
        // The JSONL went through a quote-aware reader: a field opening with '"' lost its quotes.
        assert.ok(x.startsWith('"'), `row ${i}: ${x.slice(0, 40)} vs ${y.slice(0, 40)}`);
        assert.equal(x.replace(/"/g, '').length >= y.replace(/"/g, '').length, true);
      }
    }
  });
  assert.equal(differ, 72);
  assert.ok(g.train.some((x) => x.pair === '"The Persians" was written by Aeschylus.'));
});

test('validation carving is seeded, stratified and leaves dev untouched; subsample and maxRows', { skip }, async () => {
  const a = await loadTask('rte', { dataDir: SHARED_DATA, validation: { count: 200, seed: 1 } });
  const b = await loadTask('rte', { dataDir: SHARED_DATA, validation: { count: 200, seed: 1 } });
  const c = await loadTask('rte', { dataDir: SHARED_DATA, validation: { count: 200, seed: 2 } });
  assert.deepEqual(a.validation, b.validation);
  assert.notDeepEqual(a.validation, c.validation);
  assert.equal(countLabel(a.validation, 0), 100); // 1249 / 2490 of 200 = 100.3
  const devTexts = new Set(a.dev!.map((x) => `${x.text}\t${x.pair}`));
  assert.ok(a.validation!.every((x) => !devTexts.has(`${x.text}\t${x.pair}`) || a.dev!.length === 0));
  const s = await loadTask('rte', { dataDir: SHARED_DATA, subsample: { count: 100, seed: 3 } });
  assert.equal(s.train.length, 100);
  assert.equal(s.validation!.length, 249);
  const m = await loadTask('sst2', { dataDir: SHARED_DATA, maxRows: 50, validation: false });
  assert.equal(m.train.length, 50);
  assert.equal(m.dev!.length, 50);
});

test('registry: names, aliases, label orders as in HF datasets', () => {
  assert.deepEqual(taskNames(), [
    'sst2',
    'cola',
    'mrpc',
    'rte',
    'stsb',
    'qnli',
    'mnli',
    'mnli-mm',
    'qqp',
    'superglue-rte',
    'cb',
    'boolq',
    'spam',
  ]);
  assert.equal(getTaskSpec('SST-2')?.name, 'sst2');
  assert.equal(getTaskSpec('mnli-mismatched')?.files.dev, 'dev_mismatched.tsv');
  assert.deepEqual(getTaskSpec('mnli')?.labels, ['entailment', 'neutral', 'contradiction']);
  assert.deepEqual(getTaskSpec('cb')?.labels, ['entailment', 'contradiction', 'neutral']);
  assert.equal(getTaskSpec('nope'), undefined);
  assert.equal(getTaskSpec('Spam-Assassin'), SPAM_SPEC);
  for (const t of BUILTIN_TASKS) assert.ok(t.metrics.includes(t.mainMetric), t.name);
});

test('unknown task and missing data dir are DataErrors with a fix', async () => {
  await assert.rejects(
    loadTask('sst3'),
    (e: unknown) => e instanceof DataError && /unknown task "sst3"/.test(e.message) && /fix:/.test(e.message),
  );
  await assert.rejects(
    loadTask('sst2'),
    (e: unknown) => e instanceof DataError && /needs a data directory/.test(e.message),
  );
  await assert.rejects(
    loadTask('sst2', { dataDir: '/nonexistent-dir' }),
    (e: unknown) => e instanceof DataError && e.file === '/nonexistent-dir',
  );
});

test('QNLI / MNLI / QQP layouts (synthetic files in the official GLUE shape)', async () => {
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const root = mkdtempSync(join(tmpdir(), 'autopeft-glue-'));
  try {
    mkdirSync(join(root, 'MNLI'));
    const mh =
      'index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n';
    const mrow = (i: number, l: string): string =>
      `${i}\t1\t1e\tgov\t( a )\t( b )\t(ROOT a)\t(ROOT b)\tPremise ${i}.\tHypo "${i}.\t${l}\t${l}\n`;
    writeFileSync(
      join(root, 'MNLI', 'train.tsv'),
      mh + ['entailment', 'neutral', 'contradiction', 'neutral', 'entailment'].map((l, i) => mrow(i, l)).join(''),
    );
    const dh = mh.replace('label1\tgold_label', 'label1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label');
    const drow = (i: number, l: string): string =>
      mrow(i, l).replace(`\t${l}\t${l}\n`, `\t${l}\t${l}\t${l}\t${l}\t${l}\t${l}\n`);
    writeFileSync(join(root, 'MNLI', 'dev_matched.tsv'), dh + drow(0, 'contradiction'));
    writeFileSync(join(root, 'MNLI', 'dev_mismatched.tsv'), dh + drow(1, 'neutral') + drow(2, 'entailment'));
    const m = await loadTask('mnli', { dataDir: root, validation: { count: 1 } });
    assert.equal(m.train.length + m.validation!.length, 5);
    assert.deepEqual(m.dev, [{ text: 'Premise 0.', pair: 'Hypo "0.', label: 2 }]);
    const mm = await loadTask('mnli-mm', { dataDir: root, validation: false });
    assert.deepEqual(
      mm.dev!.map((x) => x.label),
      [1, 0],
    );

    mkdirSync(join(root, 'QQP'));
    const qh = 'id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n';
    writeFileSync(
      join(root, 'QQP', 'train.tsv'),
      `${qh}1\t1\t2\tHow?\tWhy?\t0\n2\t3\t4\tbroken row\n3\t5\t6\tWhat?\tWhat is?\t1\n`,
    );
    writeFileSync(join(root, 'QQP', 'dev.tsv'), `${qh}4\t7\t8\tA?\tB?\t1\n`);
    const q = await loadTask('qqp', { dataDir: root, validation: false });
    assert.equal(q.train.length, 2);
    assert.deepEqual(q.skipped, { train: 1 });

    mkdirSync(join(root, 'QNLI'));
    const nh = 'index\tquestion\tsentence\tlabel\n';
    writeFileSync(
      join(root, 'QNLI', 'train.tsv'),
      `${nh}0\tWho?\tHim.\tentailment\n1\tWhen?\tNo.\tnot_entailment\n2\tWhere?\tThere.\tneutral\n`,
    );
    writeFileSync(join(root, 'QNLI', 'dev.tsv'), `${nh}0\tWho?\tHim.\tentailment\n`);
    await assert.rejects(
      loadTask('qnli', { dataDir: root, validation: false }),
      (e: unknown) =>
        e instanceof DataError &&
        e.line === 4 &&
        /label "neutral" is not one of \[entailment, not_entailment\]/.test(e.message),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('JSONL records of SuperGLUE CB carry string labels as published', { skip }, () => {
  const t = readJsonl(join(SHARED_DATA, 'superglue/cb/val.jsonl'));
  assert.deepEqual(t.columns, ['premise', 'hypothesis', 'label', 'idx']);
});
