import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hypervolumeSvg, placementSvg, retrainSvg, scatterSvg } from './charts.js';
import { ReportError } from './errors.js';
import { fixtureStudy } from './testing/fixture.js';
import { allText, findAll, hasClass, parseXml, type XmlElement } from './testing/xml.js';
import type { ReportData } from './types.js';
import { buildView } from './view.js';

const NUMBER = /^-?\d+(\.\d{1,6})?$/;

function withBaselines(d: ReportData): ReportData {
  return {
    ...d,
    baselines: [
      { method: 'LoRA', label: 'r=8', metric: 0.81, metricStd: 0.01, seeds: 3, paramPct: 0.3, split: 'search' },
      { method: 'full fine-tuning', metric: 0.88, paramPct: 100, split: 'search' },
      { method: 'LoRA', label: 'r=8', metric: 0.9, metricStd: 0.004, seeds: 5, paramPct: 0.3, split: 'dev' },
    ],
  };
}

function frame(svg: XmlElement): { x: number; y: number; w: number; h: number } {
  const [f] = findAll(svg, (e) => e.name === 'rect' && hasClass(e, 'frame'));
  return { x: Number(f.attrs.x), y: Number(f.attrs.y), w: Number(f.attrs.width), h: Number(f.attrs.height) };
}

function assertInside(svg: XmlElement, els: XmlElement[]): void {
  const f = frame(svg);
  for (const e of els) {
    const cx = Number(e.attrs.cx);
    const cy = Number(e.attrs.cy);
    assert.ok(cx >= f.x && cx <= f.x + f.w, `cx ${cx} outside [${f.x}, ${f.x + f.w}]`);
    assert.ok(cy >= f.y && cy <= f.y + f.h, `cy ${cy} outside [${f.y}, ${f.y + f.h}]`);
  }
}

function assertTicksSane(svg: XmlElement): void {
  const ticks = findAll(svg, (e) => e.name === 'text' && (hasClass(e, 'tick-x') || hasClass(e, 'tick-y')));
  assert.ok(ticks.length >= 6, `only ${ticks.length} tick labels`);
  for (const t of ticks) assert.match(t.text, NUMBER, `tick label ${t.text}`);
}

/** The x pixel of the tick labelled `label`. */
function tickX(svg: XmlElement, label: string): number {
  const [t] = findAll(svg, (e) => hasClass(e, 'tick-x') && e.text === label);
  assert.ok(t, `no x tick ${label}`);
  return Number(t.attrs.x);
}

test('scatter: well-formed, accessible, one point per complete trial, front exactly the given trials', () => {
  const data = fixtureStudy();
  const svg = parseXml(scatterSvg(buildView(data)));
  assert.equal(svg.children[0].name, 'title');
  assert.match(svg.children[0].text, /fixture <study> & co/);
  assert.equal(svg.children[1].name, 'desc');
  const points = findAll(svg, (e) => e.name === 'circle' && e.attrs['data-trial'] !== undefined);
  const complete = data.trials.filter((t) => t.state === 'COMPLETE').map((t) => t.number);
  assert.deepEqual(
    points.map((p) => Number(p.attrs['data-trial'])).sort((a, b) => a - b),
    complete,
  );
  const front = points.filter((p) => hasClass(p, 'front')).map((p) => Number(p.attrs['data-trial']));
  assert.deepEqual(
    front.sort((a, b) => a - b),
    [...data.front].sort((a, b) => a - b),
  );
  for (const p of points)
    assert.ok(
      p.children.some((c) => c.name === 'title'),
      'every point has a tooltip',
    );
  assertInside(svg, points);
  assertTicksSane(svg);
});

test('scatter: points sit where the log axis says, and the staircase joins the front in order', () => {
  const data = fixtureStudy();
  const xml = parseXml(scatterSvg(buildView(data)));
  assert.match(allText(xml), /log scale/);
  const x1 = tickX(xml, '1');
  const x10 = tickX(xml, '10');
  const byTrial = new Map(
    findAll(xml, (e) => e.attrs['data-trial'] !== undefined && e.name === 'circle').map((e) => [
      Number(e.attrs['data-trial']),
      e,
    ]),
  );
  for (const t of data.trials) {
    if (t.state !== 'COMPLETE') continue;
    const expected = x1 + Math.log10(t.paramPct as number) * (x10 - x1);
    assert.ok(Math.abs(Number(byTrial.get(t.number)?.attrs.cx) - expected) < 0.02, `trial ${t.number} x`);
  }
  // Higher metric is higher on screen (smaller y).
  const ys = data.trials
    .filter((t) => t.state === 'COMPLETE')
    .map((t) => [t.metric as number, Number(byTrial.get(t.number)?.attrs.cy)] as const);
  for (const [m1, y1] of ys) for (const [m2, y2] of ys) if (m1 > m2) assert.ok(y1 < y2);

  const [line] = findAll(xml, (e) => hasClass(e, 'front-line'));
  const d = line.attrs.d;
  assert.match(d, /^M[\d.]+ [\d.]+(H[\d.]+V[\d.]+)*$/);
  const nums = d.slice(1).split(/[ HV]/).map(Number);
  const vertices: [number, number][] = [[nums[0], nums[1]]];
  for (let i = 2; i < nums.length; i += 2) vertices.push([nums[i], nums[i + 1]]);
  const frontPts = data.front
    .map((n) => byTrial.get(n) as XmlElement)
    .map((e) => [Number(e.attrs.cx), Number(e.attrs.cy)] as [number, number])
    .sort((a, b) => a[0] - b[0]);
  assert.deepEqual(vertices, frontPts);
  for (let i = 1; i < vertices.length; i++) {
    assert.ok(
      vertices[i][0] > vertices[i - 1][0] && vertices[i][1] < vertices[i - 1][1],
      'staircase goes right and up',
    );
  }
});

test('scatter: linear x when asked, explicit log refuses non-positive values', () => {
  const data = fixtureStudy();
  const xml = parseXml(scatterSvg(buildView(data), { logX: false }));
  assert.doesNotMatch(allText(xml), /log scale/);
  const ticks = findAll(xml, (e) => hasClass(e, 'tick-x')).map((e) => Number(e.text));
  const steps = ticks.slice(1).map((t, i) => t - ticks[i]);
  assert.ok(
    steps.every((s) => Math.abs(s - steps[0]) < 1e-9),
    `evenly spaced ${ticks}`,
  );
  assertInside(
    xml,
    findAll(xml, (e) => e.attrs['data-trial'] !== undefined && e.name === 'circle'),
  );
  const zero = structuredClone(data);
  const t0 = zero.trials.find((t) => t.state === 'COMPLETE');
  if (t0) t0.paramPct = 0;
  assert.throws(
    () => scatterSvg(buildView(zero), { logX: true }),
    (e: unknown) => e instanceof ReportError && e.field === 'options.logX',
  );
  assert.doesNotMatch(scatterSvg(buildView(zero)), /log scale/); // auto falls back to linear
});

test('scatter and retrain charts: baselines on their own split, same marker per family, in the legend', () => {
  const data = withBaselines(fixtureStudy());
  data.retrain = {
    split: 'SST-2 dev',
    results: data.front.slice(0, 3).map((n, i) => ({ trial: n, mean: 0.85 + i / 100, std: 0.01, seeds: 5 })),
  };
  const v = buildView(data);
  const sc = parseXml(scatterSvg(v));
  const scBase = findAll(sc, (e) => hasClass(e, 'baseline'));
  assert.deepEqual(
    scBase.map((e) => e.attrs['data-method']),
    ['LoRA', 'full fine-tuning'],
  );
  const legend = allText(findAll(sc, (e) => hasClass(e, 'legend'))[0]);
  assert.match(legend, /LoRA/);
  assert.match(legend, /full fine-tuning/);
  // Baselines widen the axes: full fine-tuning at 100 % must be inside the frame.
  const f = frame(sc);
  assert.ok(tickX(sc, '100') <= f.x + f.w);
  const rt = retrainSvg(v);
  assert.ok(rt);
  const rx = parseXml(rt);
  const rtBase = findAll(rx, (e) => hasClass(e, 'baseline'));
  assert.deepEqual(
    rtBase.map((e) => e.attrs['data-method']),
    ['LoRA'],
  );
  assert.equal(rtBase[0].attrs.d.length > 0 && rtBase[0].name, scBase[0].name);
  assert.equal(rtBase[0].attrs.fill, scBase[0].attrs.fill);
  const groups = findAll(rx, (e) => hasClass(e, 'retrained'));
  assert.deepEqual(
    groups.map((g) => Number(g.attrs['data-trial'])).sort(),
    data.retrain.results.map((r) => r.trial).sort(),
  );
  assertInside(
    rx,
    findAll(rx, (e) => e.name === 'circle' && e.attrs.cx !== undefined && hasClass(findParent(rx, e), 'retrained')),
  );
  assertTicksSane(rx);
  assert.equal(retrainSvg(buildView(fixtureStudy())), null);
});

function findParent(root: XmlElement, child: XmlElement): XmlElement {
  const [p] = findAll(root, (e) => e.children.includes(child));
  return p;
}

test('hypervolume chart: one dot per completed trial, values in range, empty study handled', () => {
  const data = fixtureStudy();
  const xml = parseXml(hypervolumeSvg(buildView(data)));
  const dots = findAll(xml, (e) => hasClass(e, 'hv'));
  assert.equal(dots.length, data.hypervolume.length);
  assert.deepEqual(
    dots.map((d) => Number(d.attrs['data-k'])),
    data.hypervolume.map((_, i) => i + 1),
  );
  assertInside(xml, dots);
  assertTicksSane(xml);
  // Non-decreasing hypervolume is drawn non-increasing in pixels.
  for (let i = 1; i < dots.length; i++) assert.ok(Number(dots[i].attrs.cy) <= Number(dots[i - 1].attrs.cy));

  const empty: ReportData = {
    ...data,
    trials: data.trials.filter((t) => t.state !== 'COMPLETE'),
    front: [],
    hypervolume: [],
  };
  const ex = parseXml(hypervolumeSvg(buildView(empty)));
  assert.equal(findAll(ex, (e) => hasClass(e, 'hv')).length, 0);
  assert.match(allText(ex), /no completed trials yet/);
  const sx = parseXml(scatterSvg(buildView(empty)));
  assert.equal(findAll(sx, (e) => e.attrs['data-trial'] !== undefined).length, 0);
  assert.match(allText(parseXml(placementSvg(buildView(empty)))), /front is empty/);
});

test('placement grid: a row per front config (param % order), cells and bands follow the mask and sizes', () => {
  const data = fixtureStudy();
  const v = buildView(data);
  const xml = parseXml(placementSvg(v));
  const rows = findAll(xml, (e) => hasClass(e, 'placement-row'));
  assert.deepEqual(
    rows.map((r) => Number(r.attrs['data-trial'])),
    v.front.map((t) => t.number),
  );
  for (const row of rows) {
    const t = v.byNumber.get(Number(row.attrs['data-trial']));
    assert.ok(t);
    const cells = findAll(row, (e) => hasClass(e, 'cell'));
    assert.equal(cells.length, 4);
    const mask = cells.map((c) => hasClass(c, 'on'));
    assert.deepEqual(
      mask,
      [0, 1, 2, 3].map((l) => t.config[`layer_${l}`] === true),
    );
    const modulesOn = ['sa', 'pa', 'pt'].filter((m) => (t.config[m] as number) > 0).length;
    for (const c of cells) {
      // One outline rect plus one band per module that is on, in active layers only.
      const rects = c.children.filter((e) => e.name === 'rect').length;
      assert.equal(rects, 1 + (hasClass(c, 'on') ? modulesOn : 0));
    }
    const label = allText(row);
    for (const m of ['sa', 'pa', 'pt']) {
      const size = t.config[m] as number;
      if (size > 0) assert.match(label, new RegExp(`${m.toUpperCase()} ${size}\\b`));
    }
  }
});

test('scatter: a minimised metric flips the staircase (right and down on screen)', () => {
  const cfg = { layer_0: true, sa: 3, pa: 0, pt: 0 };
  const pts: [number, number][] = [
    [0.9, 0.01],
    [0.5, 0.1],
    [0.6, 0.2],
    [0.2, 1],
    [0.3, 3],
  ];
  const data: ReportData = {
    study: 'loss',
    task: 't',
    model: 'm',
    objectives: [
      { name: 'loss', direction: 'minimize' },
      { name: 'paramPct', direction: 'minimize' },
    ],
    trials: pts.map(([metric, paramPct], number) => ({ number, state: 'COMPLETE', metric, paramPct, config: cfg })),
    front: [0, 1, 3],
    hypervolume: [0.01, 0.05, 0.05, 0.2, 0.2],
    refPoint: [1, 10],
  };
  const xml = parseXml(scatterSvg(buildView(data)));
  assert.match(allText(xml), /lower is better/);
  const [line] = findAll(xml, (e) => hasClass(e, 'front-line'));
  const nums = line.attrs.d.slice(1).split(/[ HV]/).map(Number);
  const vs: [number, number][] = [[nums[0], nums[1]]];
  for (let i = 2; i < nums.length; i += 2) vs.push([nums[i], nums[i + 1]]);
  assert.equal(vs.length, 3);
  for (let i = 1; i < vs.length; i++) assert.ok(vs[i][0] > vs[i - 1][0] && vs[i][1] > vs[i - 1][1]);
});

test('every number a chart prints is short (no float noise), long names are cut to fit', () => {
  const data = withBaselines(fixtureStudy());
  data.trials[0].metric = 0.1 + 0.2 + 0.41000000000000003; // a float-noise metric
  data.study = 'a-study-name-that-goes-on-and-on-'.repeat(4);
  const v = buildView(data);
  for (const svg of [scatterSvg(v), hypervolumeSvg(v), placementSvg(v)]) {
    const xml = parseXml(svg);
    const texts = findAll(xml, (e) => e.name === 'text' || e.name === 'title' || e.name === 'desc').map((e) => e.text);
    for (const t of texts) assert.doesNotMatch(t, /\d\.0*[1-9]\d{5,}/, t); // at most 5 significant decimals
    // The visible heading is cut, the accessible title is complete.
    const heading = findAll(
      xml,
      (e) => e.name === 'text' && e.attrs['font-weight'] === 'bold' && e.attrs['font-size'] === '15',
    )[0];
    assert.ok(heading.text.endsWith('…') && heading.text.length * 9 <= Number(xml.attrs.width), heading.text);
    assert.ok(xml.children[0].text.includes(data.study));
  }
});
