import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportError, renderReport, reportJsonLine, writeReport, type ReportData } from './index.js';
import { fixtureStudy } from './testing/fixture.js';
import { parseXml } from './testing/xml.js';

/** The rows of the Markdown table right after `## heading`, split into unescaped cells. */
function mdTable(md: string, heading: string): string[][] {
  const lines = md.split('\n');
  let i = lines.indexOf(heading);
  assert.ok(i >= 0, `no ${heading}`);
  while (!lines[i].startsWith('|')) i++;
  const rows: string[][] = [];
  for (; i < lines.length && lines[i].startsWith('|'); i++) {
    rows.push(
      lines[i]
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  }
  return rows.slice(2); // header and separator
}

test('report.json holds the summary keys, every trial and the hypervolume history, and matches the input', () => {
  const data = fixtureStudy();
  const { files, json } = renderReport(data);
  const parsed: unknown = JSON.parse(files['report.json']);
  assert.deepEqual(parsed, json);
  const keys = ['study', 'trials', 'hypervolume', 'refPoint', 'front', 'allTrials', 'hypervolumeHistory'];
  assert.deepEqual(
    Object.keys(json).filter((k) => !['pairEncoding', 'baselines', 'retrain', 'transfer'].includes(k)),
    keys,
  );
  assert.deepEqual(
    json.allTrials,
    [...data.trials].sort((a, b) => a.number - b.number),
  );
  assert.deepEqual(json.hypervolumeHistory, data.hypervolume);
  assert.deepEqual(json.baselines, data.baselines);
  assert.deepEqual(json.retrain, data.retrain);
  assert.deepEqual(Object.keys(json.trials), ['complete', 'failed']);
  assert.equal(json.study, data.study);
  assert.deepEqual(json.trials, { complete: 8, failed: 2 });
  assert.equal(json.hypervolume, data.hypervolume[data.hypervolume.length - 1]);
  assert.deepEqual(json.refPoint, data.refPoint);
  const expected = data.front
    .map((n) => data.trials.find((t) => t.number === n))
    .map((t) => ({ trial: t?.number, metric: t?.metric, paramPct: t?.paramPct, config: t?.config }))
    .sort((a, b) => (a.paramPct as number) - (b.paramPct as number));
  assert.deepEqual(json.front, expected);
  for (const f of json.front) assert.deepEqual(Object.keys(f), ['trial', 'metric', 'paramPct', 'config']);
  const line = reportJsonLine(data);
  assert.ok(!line.includes('\n'));
  assert.deepEqual(JSON.parse(line), json);
});

test('report.md: one trials-table row per trial, the front table, charts linked, pipes escaped', () => {
  const data = fixtureStudy();
  const { files } = renderReport(data);
  const md = files['report.md'];
  const trials = mdTable(md, '## All trials');
  assert.equal(trials.length, data.trials.length);
  const width = trials[0].length;
  for (const r of trials) assert.equal(r.length, width, `row ${r.join('|')}`);
  assert.deepEqual(
    trials.map((r) => Number(r[0])),
    data.trials.map((t) => t.number).sort((a, b) => a - b),
  );
  assert.deepEqual(
    trials
      .filter((r) => r[2] === '★')
      .map((r) => Number(r[0]))
      .sort(),
    [...data.front].sort(),
  );
  assert.ok(trials.some((r) => r.includes('loss is NaN \\| diverged at step 12')));
  const front = mdTable(md, '## Pareto front');
  assert.deepEqual(
    front.map((r) => Number(r[0])),
    [0, 5, 4, 6],
  );
  for (const f of ['scatter.svg', 'hypervolume.svg', 'placement.svg']) {
    assert.match(md, new RegExp(`!\\[[^\\]]+\\]\\(${f.replace('.', '\\.')}\\)`));
    assert.ok(f in files);
  }
  assert.doesNotMatch(md, /retrain\.svg|## Baselines|## Re-trained/);
});

test('retrain and baselines add their tables and chart', () => {
  const data: ReportData = {
    ...fixtureStudy(),
    baselines: [{ method: 'LoRA', label: 'r=8', metric: 0.8, paramPct: 0.3, split: 'search' }],
    retrain: {
      split: 'official dev set',
      results: [
        { trial: 5, mean: 0.851, std: 0.004, seeds: 5 },
        { trial: 6, mean: 0.88, std: 0.01, seeds: 5 },
      ],
    },
  };
  const { files } = renderReport(data);
  assert.ok('retrain.svg' in files);
  parseXml(files['retrain.svg']);
  const rt = mdTable(files['report.md'], '## Re-trained front (official dev set)');
  assert.deepEqual(
    rt.map((r) => [r[0], r[2], r[3], r[4]]),
    [
      ['5', '0.851', '0.004', '5'],
      ['6', '0.88', '0.01', '5'],
    ],
  );
  assert.equal(mdTable(files['report.md'], '## Baselines').length, 1);
  assert.match(files['report.html'], /<table id="retrain"/);
});

test('report.html is self-contained, inlines every chart and lists every trial', () => {
  const data = fixtureStudy();
  const { files } = renderReport(data);
  const html = files['report.html'];
  for (const f of ['scatter.svg', 'hypervolume.svg', 'placement.svg'])
    assert.ok(html.includes(files[f].trimEnd()), `${f} inlined`);
  assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/);
  const tbody = /<table id="trials"[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html);
  assert.ok(tbody);
  assert.equal(tbody[1].match(/<tr[ >]/g)?.length, data.trials.length);
  assert.equal(tbody[1].match(/<tr class="front">/g)?.length, data.front.length);
  assert.ok(html.includes('fixture &lt;study&gt; &amp; co'));
  assert.ok(!html.includes('fixture <study>'));
  for (const f of Object.keys(files).filter((n) => n.endsWith('.svg'))) parseXml(files[f]);
});

test('inconsistent input is a ReportError naming the field', () => {
  const cases: [string, (d: ReportData) => void][] = [
    ['front[0]', (d) => d.front.unshift(3)], // trial 3 FAILED
    ['front[0]', (d) => d.front.unshift(99)],
    ['hypervolume', (d) => d.hypervolume.pop()],
    ['trials[0].metric', (d) => (d.trials[0].metric = Number.NaN)],
    ['trials[1].number', (d) => (d.trials[1].number = d.trials[0].number)],
    ['refPoint', (d) => (d.refPoint = [1, Number.POSITIVE_INFINITY])],
    ['objectives', (d) => d.objectives.pop()],
    [
      'retrain.results[0].trial',
      (d) => (d.retrain = { split: 'dev', results: [{ trial: 3, mean: 0.8, std: 0, seeds: 1 }] }),
    ],
    ['baselines[0].split', (d) => (d.baselines = [{ method: 'LoRA', metric: 1, paramPct: 1, split: 'test' as 'dev' }])],
  ];
  for (const [field, mutate] of cases) {
    const d = structuredClone(fixtureStudy());
    mutate(d);
    assert.throws(
      () => renderReport(d),
      (e: unknown) =>
        e instanceof ReportError && e.field === field && !e.message.includes('\n') && e.message.startsWith(field),
      field,
    );
  }
});

test('writeReport writes every rendered file, and names an unwritable directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-report-'));
  try {
    const data = fixtureStudy();
    const out = join(dir, 'nested', 'report');
    const { paths, json } = writeReport(out, data);
    const { files } = renderReport(data);
    assert.deepEqual(readdirSync(out).sort(), Object.keys(files).sort());
    assert.equal(paths.length, Object.keys(files).length);
    for (const [name, content] of Object.entries(files)) assert.equal(readFileSync(join(out, name), 'utf8'), content);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')), json);
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'x');
    assert.throws(
      () => writeReport(join(blocker, 'sub'), data),
      (e: unknown) => e instanceof ReportError && e.message.includes(blocker),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a front member dominated by a complete trial is refused', () => {
  const d = fixtureStudy();
  d.front.push(1); // trial 1 (0.78 at 0.35 %) is dominated by trial 5 (0.80 at 0.05 %)
  assert.throws(
    () => renderReport(d),
    (e: unknown) =>
      e instanceof ReportError && e.field === `front[${d.front.length - 1}]` && /dominated by trial 5/.test(e.message),
  );
  // With the directions flipped, the given front is wrong too.
  const flipped = fixtureStudy();
  flipped.objectives[0].direction = 'minimize';
  assert.throws(() => renderReport(flipped), ReportError);
});

test('writeReport writes a PNG per chart through the given rasteriser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-report-'));
  try {
    const seen: string[] = [];
    const rasterize = (svg: string): Uint8Array => {
      seen.push(svg);
      return new TextEncoder().encode(`png of ${svg.length}`);
    };
    const { paths } = writeReport(dir, fixtureStudy(), { rasterize });
    const svgs = readdirSync(dir)
      .filter((n) => n.endsWith('.svg'))
      .sort();
    const pngs = readdirSync(dir)
      .filter((n) => n.endsWith('.png'))
      .sort();
    assert.deepEqual(
      pngs,
      svgs.map((n) => n.replace('.svg', '.png')),
    );
    for (const n of svgs) {
      const svg = readFileSync(join(dir, n), 'utf8');
      assert.equal(readFileSync(join(dir, n.replace('.svg', '.png')), 'utf8'), `png of ${svg.length}`);
    }
    assert.equal(seen.length, svgs.length);
    assert.equal(paths.length, readdirSync(dir).length);
    assert.throws(
      () =>
        writeReport(dir, fixtureStudy(), {
          rasterize: () => {
            throw new Error('no font\nstack');
          },
        }),
      (e: unknown) => e instanceof ReportError && e.message.includes('no font') && !e.message.includes('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('transfer results: rendered as a table per target task in report.md and report.html, and kept in report.json', () => {
  const data = fixtureStudy();
  const front = [...data.front].sort((a, b) => a - b);
  data.transfer = [
    {
      task: 'mrpc',
      metricLabel: 'accuracy',
      split: 'official dev set',
      results: front.map((n, i) => {
        const t = data.trials.find((x) => x.number === n)!;
        return { trial: n, paramPct: t.paramPct!, mean: 0.7 + i / 100, std: 0.01, seeds: 3, sourceMetric: t.metric! };
      }),
    },
  ];
  const { files, json } = renderReport(data);
  assert.deepEqual(json.transfer, data.transfer);
  const rows = mdTable(files['report.md'], '## Transfer to mrpc (official dev set)');
  assert.equal(rows.length, front.length);
  const byTrial = new Map(rows.map((r) => [Number(r[0]), Number(r[2])]));
  for (const [i, n] of front.entries()) assert.equal(byTrial.get(n), 0.7 + i / 100);
  assert.ok(files['report.html'].includes('<h2>Transfer to mrpc (official dev set)</h2>'));
  data.transfer[0]!.results[0]!.trial = 999;
  assert.throws(
    () => renderReport(data),
    (e: Error) => e instanceof ReportError && /transfer\[0\]\.results\[0\]\.trial/.test(e.message),
  );
});

test("the study's pair encoding: a summary line in report.md and report.html, kept in report.json; absent: not shown", () => {
  for (const enc of ['siamese', 'cross'] as const) {
    const { files, json } = renderReport({ ...fixtureStudy(), pairEncoding: enc });
    const row = files['report.md'].split('\n').find((l) => l.startsWith('| pair encoding |'));
    assert.ok(row?.startsWith(`| pair encoding | ${enc} (`), row);
    assert.match(files['report.html'], new RegExp(`<th scope="row">pair encoding</th><td>${enc} \\(`));
    assert.equal(json.pairEncoding, enc);
  }
  const plain = renderReport(fixtureStudy());
  assert.ok(!plain.files['report.md'].includes('pair encoding'));
  assert.ok(!plain.files['report.html'].includes('pair encoding'));
  assert.ok(!('pairEncoding' in plain.json));
  assert.throws(
    () => renderReport({ ...fixtureStudy(), pairEncoding: 'both' as 'cross' }),
    (e: Error) => e instanceof ReportError && /pairEncoding/.test(e.message) && /"cross" or "siamese"/.test(e.message),
  );
});
