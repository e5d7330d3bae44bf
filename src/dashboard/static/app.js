// The dashboard client: hash routes (#/, #/study/NAME, #/study/NAME/trial/N), ECharts charts, live
// updates from the server's event stream. Every string that comes from a study is put into the page
// with textContent or as a text node (never innerHTML), so a study or trial name cannot inject markup.
/* global echarts */

// Okabe-Ito: colour-blind safe; each study also gets its own marker shape.
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
const SHAPES = ['circle', 'rect', 'triangle', 'diamond', 'pin', 'arrow', 'roundRect'];
const MODULES = [
  ['sa', 'serial adapter'],
  ['pa', 'parallel adapter'],
  ['pt', 'prefix length'],
  ['lora', 'LoRA rank'],
];

const main = document.getElementById('main');
const crumbs = document.getElementById('crumbs');
const live = document.getElementById('live');
/** Chart instances by element id; exposed for scripts and tests as window.dashboard. */
const charts = new Map();
const state = {
  selected: null, // study names overlaid on the overview (null = all)
  sort: { key: 'number', dir: 1 },
  filter: { text: '', state: 'ALL', frontOnly: false },
  routeKey: '',
};
window.dashboard = { chart: (id) => charts.get(id), charts };

/** Builds an element; string children become text nodes. */
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

const fmt = (x, digits = 4) =>
  x === null || x === undefined || !Number.isFinite(x)
    ? '—'
    : Math.abs(x) >= 1000
      ? x.toFixed(0)
      : String(Number(x.toPrecision(digits)));
const fmtPct = (x) => (x === null || x === undefined ? '—' : `${x >= 1 ? x.toFixed(2) : fmt(x, 2)} %`);
const fmtTime = (ms) => (ms ? new Date(ms).toLocaleString() : '—');
const fmtDur = (ms) =>
  ms === undefined || ms === null
    ? '—'
    : ms < 1000
      ? `${ms} ms`
      : ms < 120000
        ? `${(ms / 1000).toFixed(1)} s`
        : `${(ms / 60000).toFixed(1)} min`;

async function getJson(path) {
  const r = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

const studyHref = (name) => `#/study/${encodeURIComponent(name)}`;
const trialHref = (name, n) => `#/study/${encodeURIComponent(name)}/trial/${n}`;

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  try {
    if (parts[0] === 'study' && parts[1] !== undefined) {
      const study = decodeURIComponent(parts[1]);
      if (parts[2] === 'trial' && /^\d+$/.test(parts[3] ?? ''))
        return { view: 'trial', study, trial: Number(parts[3]) };
      return { view: 'study', study };
    }
  } catch {
    // A malformed escape in the address: show the overview.
  }
  return { view: 'overview' };
}

/** Layers switched on in a config (layer_0, layer_1, ... booleans). */
function layersOn(config) {
  return Object.keys(config)
    .filter((k) => /^layer_\d+$/.test(k) && config[k] === true)
    .map((k) => Number(k.slice(6)))
    .sort((a, b) => a - b);
}

function configText(config) {
  const mods = MODULES.filter(([k]) => typeof config[k] === 'number' && config[k] > 0).map(
    ([k]) => `${k.toUpperCase()} ${config[k]}`,
  );
  const layers = layersOn(config);
  const other = Object.keys(config).filter((k) => !/^layer_\d+$/.test(k) && !MODULES.some(([m]) => m === k));
  return [
    mods.length > 0 ? mods.join(', ') : 'no modules',
    `layers ${layers.length > 0 ? layers.join(',') : 'none'}`,
    ...other.map((k) => `${k} ${config[k]}`),
  ].join(' · ');
}

/** A tooltip body as DOM nodes (ECharts inserts a returned element as is: no HTML parsing). */
function trialTip(study, t, metricName) {
  return h(
    'div',
    { class: 'tip' },
    h('div', { class: 'tip-title' }, `${study} · trial #${t.number}`),
    h('div', null, `${metricName} ${fmt(t.metric)} · ${fmtPct(t.paramPct)} params`),
    h('div', { class: 'tip-config' }, configText(t.config)),
    t.attrs?.description ? h('div', { class: 'tip-desc' }, String(t.attrs.description)) : null,
  );
}

function chart(id, container, height = 360) {
  let c = charts.get(id);
  const el = document.getElementById(id);
  if (c && el && c.getDom() === el) return c;
  if (c) c.dispose();
  const div = el ?? h('div', { id, class: 'chart', style: `height:${height}px` });
  if (!el) container.append(div);
  c = echarts.init(div, null, { renderer: 'svg' });
  charts.set(id, c);
  return c;
}

/** Replaces the page body; null/false children (optional parts) are left out. */
function setMain(...children) {
  main.replaceChildren(...children.filter((c) => c !== null && c !== undefined && c !== false));
}

/**
 * A titled chart box: heading, the chart's element and a caption below it: fixed text, or (`true`)
 * an empty one with id `{id}-cap` that the render fills in.
 */
function chartPanel(title, id, caption) {
  return h(
    'div',
    null,
    h('h2', null, title),
    h('div', { id, class: 'chart' }),
    caption === true
      ? h('p', { id: `${id}-cap`, class: 'caption' })
      : caption
        ? h('p', { class: 'caption' }, caption)
        : null,
  );
}

/** A filter control's handler: stores what `read` takes from the control and re-renders. */
const onFilter = (key, read) => (e) => {
  state.filter[key] = read(e.target);
  void render(false);
};

function disposeCharts() {
  for (const c of charts.values()) c.dispose();
  charts.clear();
}
window.addEventListener('resize', () => {
  for (const c of charts.values()) c.resize();
});

const completeOf = (d) =>
  d.trials.filter((t) => t.state === 'COMPLETE' && t.metric !== undefined && t.paramPct !== undefined);
const logOk = (xs) => xs.length > 0 && xs.every((x) => x > 0);

function setCrumbs(items) {
  crumbs.replaceChildren(
    ...items.flatMap(([label, href], i) => [
      ...(i > 0 ? [h('span', { class: 'sep', 'aria-hidden': 'true' }, ' › ')] : []),
      href ? h('a', { href }, label) : h('span', { 'aria-current': 'page' }, label),
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Pareto scatter (one or several studies)

function scatterOption(details, visible) {
  const series = [];
  const allX = [];
  details.forEach((d, i) => {
    const color = PALETTE[i % PALETTE.length];
    const symbol = SHAPES[i % SHAPES.length];
    const shown = completeOf(d).filter((t) => !visible || visible.has(t.number));
    const front = new Set(d.front);
    allX.push(...shown.map((t) => t.paramPct));
    const point = (t) => ({ value: [t.paramPct, t.metric], trial: t.number, study: d.name, t });
    series.push({
      name: details.length > 1 ? `${d.name}: trials` : 'trials',
      type: 'scatter',
      symbol,
      symbolSize: 9,
      itemStyle: { color, opacity: 0.55 },
      data: shown.filter((t) => !front.has(t.number)).map(point),
    });
    const fr = d.front.map((n) => shown.find((t) => t.number === n)).filter(Boolean);
    series.push({
      name: details.length > 1 ? `${d.name}: Pareto front` : 'Pareto front',
      type: 'line',
      step: 'end',
      symbol,
      symbolSize: 13,
      lineStyle: { color, width: 2 },
      itemStyle: { color, borderColor: '#fff', borderWidth: 1 },
      emphasis: { scale: 1.6 },
      data: fr.map(point),
    });
    if (details.length === 1)
      for (const [bi, b] of d.baselines.entries()) {
        allX.push(b.paramPct);
        series.push({
          name: `baseline ${b.method}`,
          type: 'scatter',
          symbol: ['diamond', 'triangle', 'rect', 'pin', 'arrow'][bi % 5],
          symbolSize: 12,
          itemStyle: { color: '#ffffff', borderColor: '#000000', borderWidth: 1.5 },
          data: [{ value: [b.paramPct, b.metric], baseline: b }],
        });
      }
  });
  const metricName = details[0]?.metricName ?? 'metric';
  return {
    aria: { enabled: true },
    animation: false,
    grid: { left: 64, right: 24, top: 48, bottom: 56 },
    legend: { type: 'scroll', top: 4 },
    tooltip: {
      trigger: 'item',
      confine: true,
      formatter: (p) => {
        const dd = p.data;
        if (dd?.t) return trialTip(dd.study, dd.t, metricName);
        if (dd?.baseline)
          return h(
            'div',
            { class: 'tip' },
            h('div', { class: 'tip-title' }, `baseline ${dd.baseline.method}`),
            h(
              'div',
              null,
              `${metricName} ${fmt(dd.baseline.metric)} · ${fmtPct(dd.baseline.paramPct)} params (search split)`,
            ),
          );
        return '';
      },
    },
    xAxis: {
      type: logOk(allX) ? 'log' : 'value',
      name: `tunable parameters (% of backbone${logOk(allX) ? ', log scale' : ''})`,
      nameLocation: 'middle',
      nameGap: 32,
      axisLabel: { formatter: (v) => fmt(v, 2) },
    },
    yAxis: { type: 'value', scale: true, name: `validation ${metricName}`, nameLocation: 'middle', nameGap: 48 },
    series,
  };
}

function bindTrialClicks(c) {
  c.off('click');
  c.on('click', (p) => {
    const dd = p.data;
    if (dd?.t) location.hash = trialHref(dd.study, dd.trial);
  });
}

function hypervolumeOption(overlay) {
  return {
    aria: { enabled: true },
    animation: false,
    grid: { left: 64, right: 24, top: 48, bottom: 56 },
    legend: { type: 'scroll', top: 4 },
    tooltip: {
      trigger: 'item',
      formatter: (p) =>
        h(
          'div',
          { class: 'tip' },
          h('div', { class: 'tip-title' }, String(p.seriesName)),
          h('div', null, `after ${p.data.value[0]} complete trials (trial #${p.data.trial}): ${fmt(p.data.value[1])}`),
        ),
    },
    xAxis: { type: 'value', name: 'complete trials', nameLocation: 'middle', nameGap: 32, minInterval: 1 },
    yAxis: { type: 'value', scale: true, name: 'hypervolume', nameLocation: 'middle', nameGap: 48 },
    series: overlay.series.map((s, i) => ({
      name: s.sampler ? `${s.study} (${s.sampler})` : s.study,
      type: 'line',
      step: 'end',
      symbol: SHAPES[i % SHAPES.length],
      symbolSize: 6,
      itemStyle: { color: PALETTE[i % PALETTE.length] },
      data: s.points.map((p) => ({ value: [p.complete, p.value], trial: p.trial })),
    })),
  };
}

function hvCaption(overlay) {
  return overlay.refPoint
    ? `Reference point: metric ${fmt(overlay.refPoint[0])}, ${fmtPct(overlay.refPoint[1])} params (inferred from the ticked studies' trials together: their joint Pareto front's nadir plus 10 % of its range; shared by every curve so they compare).`
    : 'No complete trials yet.';
}

// ---------------------------------------------------------------------------------------------
// Overview: study list, overlaid fronts and hypervolume histories

async function renderOverview(fresh) {
  setCrumbs([['studies']]);
  const studies = await getJson('/api/studies');
  if (state.selected === null) state.selected = new Set(studies.map((s) => s.name));
  const names = studies.map((s) => s.name).filter((n) => state.selected.has(n));
  const details = await Promise.all(names.map((n) => getJson(`/api/studies/${encodeURIComponent(n)}`)));
  const overlay = await getJson(`/api/hypervolume?${names.map((n) => `study=${encodeURIComponent(n)}`).join('&')}`);
  if (fresh) {
    disposeCharts();
    main.replaceChildren(
      h('h1', null, 'Studies'),
      h(
        'p',
        { class: 'muted' },
        `Storage is read only here. Tick studies to overlay their fronts and hypervolume histories.`,
      ),
      h('div', { id: 'study-list' }),
      h(
        'section',
        { class: 'grid2' },
        chartPanel('Pareto fronts', 'ov-scatter'),
        chartPanel('Hypervolume history', 'ov-hv', true),
      ),
    );
  }
  const rows = studies.map((s) =>
    h(
      'tr',
      null,
      h(
        'td',
        null,
        h('input', {
          type: 'checkbox',
          'aria-label': `overlay ${s.name}`,
          checked: state.selected.has(s.name),
          onchange: (e) => {
            if (e.target.checked) state.selected.add(s.name);
            else state.selected.delete(s.name);
            void render(false);
          },
        }),
      ),
      h('td', null, h('a', { href: studyHref(s.name), class: 'study-link' }, s.name)),
      h('td', null, s.task ?? '—'),
      h('td', null, s.model ?? '—'),
      h('td', null, s.sampler ?? '—'),
      h('td', { class: 'num' }, String(s.counts.COMPLETE)),
      h('td', { class: 'num' }, String(s.counts.RUNNING)),
      h('td', { class: 'num' }, String(s.counts.WAITING)),
      h('td', { class: 'num' }, String(s.counts.FAILED + s.counts.PRUNED)),
      h('td', { class: 'num' }, fmt(s.hypervolume)),
      h('td', { class: 'num' }, fmt(s.bestMetric)),
      h('td', null, fmtTime(s.lastActivity)),
    ),
  );
  document
    .getElementById('study-list')
    .replaceChildren(
      studies.length === 0
        ? h('p', null, 'No studies in this storage yet: run `autopeft search` and they appear here live.')
        : h(
            'table',
            { class: 'data', id: 'studies-table' },
            h('caption', null, `${studies.length} ${studies.length === 1 ? 'study' : 'studies'}`),
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ...[
                  'overlay',
                  'study',
                  'task',
                  'model',
                  'sampler',
                  'complete',
                  'running',
                  'waiting',
                  'failed',
                  'hypervolume',
                  'best metric',
                  'last activity',
                ].map((c) => h('th', { scope: 'col' }, c)),
              ),
            ),
            h('tbody', null, rows),
          ),
    );
  const sc = chart('ov-scatter', main);
  sc.setOption(scatterOption(details, null), { notMerge: true });
  bindTrialClicks(sc);
  const hv = chart('ov-hv', main);
  hv.setOption(hypervolumeOption(overlay), { notMerge: true });
  document.getElementById('ov-hv-cap').textContent = hvCaption(overlay);
  setPointCount(
    'ov-scatter',
    details.reduce((a, d) => a + completeOf(d).length, 0),
  );
}

function setPointCount(id, n) {
  document.getElementById(id)?.setAttribute('data-points', String(n));
}

// ---------------------------------------------------------------------------------------------
// Study page

const COLUMNS = [
  ['number', '#', (t) => t.number],
  ['state', 'state', (t) => t.state],
  ['metric', 'metric', (t) => t.metric ?? null],
  ['paramPct', 'param %', (t) => t.paramPct ?? null],
  ['sa', 'SA', (t) => t.config.sa ?? null],
  ['pa', 'PA', (t) => t.config.pa ?? null],
  ['pt', 'PT', (t) => t.config.pt ?? null],
  ['lora', 'LoRA', (t) => t.config.lora ?? null],
  ['layers', 'layers', (t) => layersOn(t.config).length],
  ['duration', 'time', (t) => t.durationMs ?? null],
];

function filteredTrials(d) {
  const f = state.filter;
  const front = new Set(d.front);
  const needle = f.text.trim().toLowerCase();
  const col = COLUMNS.find(([k]) => k === state.sort.key) ?? COLUMNS[0];
  return d.trials
    .filter((t) => (f.state === 'ALL' || t.state === f.state) && (!f.frontOnly || front.has(t.number)))
    .filter(
      (t) =>
        !needle ||
        `#${t.number} ${t.state} ${configText(t.config)} ${t.attrs?.description ?? ''} ${t.reason ?? ''}`
          .toLowerCase()
          .includes(needle),
    )
    .sort((a, b) => {
      const x = col[2](a);
      const y = col[2](b);
      if (x === y) return a.number - b.number;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * state.sort.dir;
    });
}

function highlightTrial(n) {
  const c = charts.get('st-scatter');
  if (!c) return;
  const opt = c.getOption();
  c.dispatchAction({ type: 'downplay' });
  opt.series.forEach((s, si) => {
    const di = s.data.findIndex((p) => p?.trial === n);
    if (di >= 0) {
      c.dispatchAction({ type: 'highlight', seriesIndex: si, dataIndex: di });
      c.dispatchAction({ type: 'showTip', seriesIndex: si, dataIndex: di });
    }
  });
}

function trialTable(d, rows) {
  const front = new Set(d.front);
  const hasLora = d.trials.some((t) => 'lora' in t.config);
  const cols = COLUMNS.filter(([k]) => k !== 'lora' || hasLora);
  const onKey = (e) => {
    const tr = e.currentTarget;
    if (e.key === 'Enter') location.hash = trialHref(d.name, Number(tr.dataset.trial));
    else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = e.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling;
      next?.focus();
    }
  };
  return h(
    'table',
    { class: 'data', id: 'trials-table' },
    h('caption', null, `${rows.length} of ${d.trials.length} trials (↑/↓ move, Enter opens a trial)`),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ...cols.map(([k, label]) =>
          h(
            'th',
            {
              scope: 'col',
              'aria-sort': state.sort.key === k ? (state.sort.dir > 0 ? 'ascending' : 'descending') : 'none',
            },
            h(
              'button',
              {
                type: 'button',
                class: 'sort',
                onclick: () => {
                  state.sort = { key: k, dir: state.sort.key === k ? -state.sort.dir : 1 };
                  void render(false);
                },
              },
              label,
              state.sort.key === k ? (state.sort.dir > 0 ? ' ▲' : ' ▼') : '',
            ),
          ),
        ),
        h('th', { scope: 'col' }, 'description / reason'),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map((t) =>
        h(
          'tr',
          {
            tabindex: '0',
            'data-trial': t.number,
            class: [front.has(t.number) ? 'front' : '', `st-${t.state.toLowerCase()}`].join(' '),
            onkeydown: onKey,
            onfocus: () => highlightTrial(t.number),
            onmouseenter: () => highlightTrial(t.number),
            onclick: () => {
              location.hash = trialHref(d.name, t.number);
            },
          },
          ...cols.map(([k]) => {
            if (k === 'number')
              return h(
                'td',
                { class: 'num' },
                h('a', { href: trialHref(d.name, t.number), tabindex: '-1' }, `#${t.number}`),
              );
            if (k === 'state') return h('td', null, h('span', { class: `badge ${t.state.toLowerCase()}` }, t.state));
            if (k === 'metric') return h('td', { class: 'num' }, fmt(t.metric));
            if (k === 'paramPct') return h('td', { class: 'num' }, fmtPct(t.paramPct));
            if (k === 'layers') {
              const on = layersOn(t.config);
              return h('td', null, on.length > 0 ? on.join(',') : '—');
            }
            if (k === 'duration') return h('td', { class: 'num' }, fmtDur(t.durationMs));
            const v = t.config[k];
            return h('td', { class: 'num' }, v === undefined ? '—' : String(v));
          }),
          h('td', { class: 'desc' }, t.reason ?? String(t.attrs?.description ?? '')),
        ),
      ),
    ),
  );
}

function importanceOption(imp) {
  const top = imp.params.slice(0, 15).reverse();
  return {
    aria: { enabled: true },
    animation: false,
    grid: { left: 90, right: 32, top: 16, bottom: 40 },
    tooltip: {
      trigger: 'item',
      formatter: (p) => h('div', { class: 'tip' }, `${p.name}: ${fmt(p.value, 3)} of the variance`),
    },
    xAxis: { type: 'value', name: 'share of metric variance', nameLocation: 'middle', nameGap: 26 },
    yAxis: { type: 'category', data: top.map((p) => p.name) },
    series: [{ type: 'bar', data: top.map((p) => p.importance), itemStyle: { color: PALETTE[0] } }],
  };
}

function parallelOption(d, rows) {
  const hasLora = d.trials.some((t) => 'lora' in t.config);
  const done = rows.filter((t) => t.state === 'COMPLETE' && t.metric !== undefined);
  const dims = [
    ['SA', (t) => t.config.sa ?? 0],
    ['PA', (t) => t.config.pa ?? 0],
    ['PT', (t) => t.config.pt ?? 0],
    ...(hasLora ? [['LoRA', (t) => t.config.lora ?? 0]] : []),
    ['layers on', (t) => layersOn(t.config).length],
    ['param %', (t) => t.paramPct],
    [d.metricName, (t) => t.metric],
  ];
  const ms = done.map((t) => t.metric);
  return {
    aria: { enabled: true },
    animation: false,
    parallelAxis: dims.map(([name], i) => ({ dim: i, name, scale: true })),
    parallel: { left: 40, right: 150, top: 40, bottom: 24 },
    visualMap: {
      type: 'continuous',
      dimension: dims.length - 1,
      min: ms.length > 0 ? Math.min(...ms) : 0,
      max: ms.length > 0 ? Math.max(...ms) : 1,
      right: 0,
      top: 'middle',
      calculable: true,
      precision: 3,
      inRange: { color: ['#D55E00', '#E69F00', '#0072B2'] },
      text: ['better', 'worse'],
    },
    tooltip: { trigger: 'item', formatter: (p) => trialTip(d.name, p.data.t, d.metricName) },
    series: [
      {
        type: 'parallel',
        lineStyle: { width: 1.5, opacity: 0.7 },
        data: done.map((t) => ({ value: dims.map(([, f]) => f(t)), t, trial: t.number, study: d.name })),
      },
    ],
  };
}

/** Mean ± std points with error bars (a custom series), for the retrain/baseline/transfer views. */
function errorBarOption(groups, metricLabel) {
  const xs = groups.flatMap((g) => g.points.map((p) => p.x));
  const series = [];
  groups.forEach((g, i) => {
    const color = g.color ?? PALETTE[i % PALETTE.length];
    series.push({
      name: g.name,
      type: 'scatter',
      symbol: g.symbol ?? SHAPES[i % SHAPES.length],
      symbolSize: 11,
      itemStyle: { color },
      data: g.points.map((p) => ({ value: [p.x, p.mean], p })),
    });
    series.push({
      name: g.name,
      type: 'custom',
      renderItem: (_params, api) => {
        const x = api.value(0);
        const lo = api.coord([x, api.value(1)]);
        const hi = api.coord([x, api.value(2)]);
        const style = { stroke: color, lineWidth: 1.5 };
        return {
          type: 'group',
          children: [
            { type: 'line', shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style },
            { type: 'line', shape: { x1: lo[0] - 4, y1: lo[1], x2: lo[0] + 4, y2: lo[1] }, style },
            { type: 'line', shape: { x1: hi[0] - 4, y1: hi[1], x2: hi[0] + 4, y2: hi[1] }, style },
          ],
        };
      },
      encode: { x: 0, y: [1, 2] },
      silent: true,
      data: g.points.map((p) => [p.x, p.mean - (p.std ?? 0), p.mean + (p.std ?? 0)]),
      z: 1,
    });
  });
  return {
    aria: { enabled: true },
    animation: false,
    grid: { left: 64, right: 24, top: 48, bottom: 56 },
    legend: { type: 'scroll', top: 4, data: groups.map((g) => g.name) },
    tooltip: {
      trigger: 'item',
      formatter: (p) =>
        p.data?.p
          ? h(
              'div',
              { class: 'tip' },
              h('div', { class: 'tip-title' }, `${p.seriesName}: ${p.data.p.label}`),
              h(
                'div',
                null,
                `${metricLabel} ${fmt(p.data.p.mean)} ± ${fmt(p.data.p.std ?? 0)} (${p.data.p.n} seeds) · ${fmtPct(p.data.p.x)} params`,
              ),
            )
          : '',
    },
    xAxis: {
      type: logOk(xs) ? 'log' : 'value',
      name: `tunable parameters (%${logOk(xs) ? ', log scale' : ''})`,
      nameLocation: 'middle',
      nameGap: 32,
      axisLabel: { formatter: (v) => fmt(v, 2) },
    },
    yAxis: { type: 'value', scale: true, name: `${metricLabel} (mean ± 1 std)`, nameLocation: 'middle', nameGap: 48 },
    series,
  };
}

const meanStd = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1)) : 0;
  return { m, sd };
};

function followupSection(d, box) {
  const parts = [];
  const devBaselines = d.baselines.filter((b) => b.devValues && b.devValues.length > 0);
  if (d.retrain.length > 0 || devBaselines.length > 0) {
    parts.push(
      h('h3', null, 'Re-trained front and baselines (official dev set)'),
      h('div', { id: 'st-retrain', class: 'chart' }),
    );
  }
  const tasks = Object.keys(d.transfer);
  for (const [i, task] of tasks.entries())
    parts.push(h('h3', null, `Transfer to ${task}`), h('div', { id: `st-transfer-${i}`, class: 'chart' }));
  if (d.statements.length > 0)
    parts.push(
      h('h3', null, 'Do baselines dominate the front?'),
      h(
        'ul',
        { class: 'statements' },
        d.statements.map((s) => h('li', null, s)),
      ),
    );
  if (parts.length === 0)
    parts.push(
      h(
        'p',
        { class: 'muted' },
        'No re-train, baseline or transfer results yet (`autopeft retrain`, `baselines`, `transfer`).',
      ),
    );
  box.replaceChildren(...parts);
  if (d.retrain.length > 0 || devBaselines.length > 0) {
    const groups = [];
    if (d.retrain.length > 0)
      groups.push({
        name: 'Pareto front (re-trained)',
        color: PALETTE[1],
        symbol: 'circle',
        points: d.retrain.map((r) => ({
          x: r.paramPct,
          mean: r.mean,
          std: r.std,
          n: r.values.length,
          label: `trial #${r.trial}`,
        })),
      });
    devBaselines.forEach((b) => {
      const { m, sd } = meanStd(b.devValues);
      groups.push({
        name: `baseline ${b.method}`,
        points: [{ x: b.paramPct, mean: m, std: sd, n: b.devValues.length, label: b.method }],
      });
    });
    chart('st-retrain', box).setOption(errorBarOption(groups, `dev ${d.retrain[0]?.metricName ?? d.metricName}`), {
      notMerge: true,
    });
  }
  tasks.forEach((task, i) => {
    const recs = d.transfer[task];
    const groups = [
      {
        name: `front on ${task}`,
        color: PALETTE[2],
        symbol: 'circle',
        points: recs.map((r) => ({
          x: r.paramPct,
          mean: r.mean,
          std: r.std,
          n: r.values.length,
          label: `trial #${r.trial} (source ${fmt(r.sourceMetric)})`,
        })),
      },
    ];
    chart(`st-transfer-${i}`, box).setOption(errorBarOption(groups, `${task} dev ${recs[0]?.metricName ?? ''}`), {
      notMerge: true,
    });
  });
}

async function renderStudy(route, fresh) {
  const d = await getJson(`/api/studies/${encodeURIComponent(route.study)}`);
  setCrumbs([['studies', '#/'], [d.name]]);
  if (fresh) {
    disposeCharts();
    state.filter = { text: '', state: 'ALL', frontOnly: false };
    main.replaceChildren(
      h('h1', null, h('span', { class: 'muted' }, 'study '), d.name),
      h('dl', { id: 'st-summary', class: 'summary' }),
      h(
        'section',
        { class: 'grid2' },
        chartPanel('Pareto front', 'st-scatter', 'Hover a point for its configuration; click it to open the trial.'),
        chartPanel('Hypervolume history', 'st-hv', true),
      ),
      h('h2', null, 'Trials'),
      h(
        'div',
        { class: 'filters', role: 'search' },
        h(
          'label',
          null,
          'filter ',
          h('input', {
            id: 'flt-text',
            type: 'search',
            placeholder: 'e.g. PA 8, layers 1, failed',
            oninput: onFilter('text', (el) => el.value),
          }),
        ),
        h(
          'label',
          null,
          'state ',
          h(
            'select',
            {
              id: 'flt-state',
              onchange: onFilter('state', (el) => el.value),
            },
            ['ALL', 'COMPLETE', 'RUNNING', 'WAITING', 'FAILED', 'PRUNED'].map((s) =>
              h('option', { value: s }, s.toLowerCase()),
            ),
          ),
        ),
        h(
          'label',
          null,
          h('input', {
            id: 'flt-front',
            type: 'checkbox',
            onchange: onFilter('frontOnly', (el) => el.checked),
          }),
          ' Pareto front only',
        ),
        h('span', { class: 'muted' }, ' (the filter also applies to the scatter and the parallel coordinates)'),
      ),
      h('div', { id: 'st-table', class: 'table-wrap' }),
      h(
        'section',
        { class: 'grid2' },
        chartPanel('Parameter importance', 'st-imp', true),
        chartPanel(
          'Parallel coordinates',
          'st-par',
          'One line per complete trial (of the filtered ones), coloured by the metric; drag on an axis to brush.',
        ),
      ),
      h('h2', null, 'Re-train, baselines, transfer'),
      h('div', { id: 'st-follow' }),
    );
  }
  const s = d;
  const summary = [
    ['task', s.task ?? '—'],
    ['model', s.model ?? '—'],
    ['sampler', s.sampler ?? '—'],
    [
      'trials',
      `${s.total}: ${s.counts.COMPLETE} complete, ${s.counts.RUNNING} running, ${s.counts.WAITING} waiting, ${s.counts.FAILED} failed, ${s.counts.PRUNED} pruned`,
    ],
    ['hypervolume', s.refPoint ? `${fmt(s.hypervolume)} (ref ${fmt(s.refPoint[0])}, ${fmtPct(s.refPoint[1])})` : '—'],
    [`best ${s.metricName}`, fmt(s.bestMetric)],
    ['Pareto front', `${s.front.length} configurations`],
  ];
  document
    .getElementById('st-summary')
    .replaceChildren(...summary.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
  const rows = filteredTrials(d);
  const visible = new Set(rows.map((t) => t.number));
  const focused = document.activeElement?.closest?.('#trials-table tbody tr')?.dataset.trial;
  document.getElementById('st-table').replaceChildren(trialTable(d, rows));
  if (focused !== undefined) document.querySelector(`#trials-table tbody tr[data-trial="${focused}"]`)?.focus();
  const sc = chart('st-scatter', main);
  sc.setOption(scatterOption([d], visible), { notMerge: true });
  bindTrialClicks(sc);
  setPointCount('st-scatter', completeOf(d).filter((t) => visible.has(t.number)).length);
  chart('st-hv', main).setOption(
    hypervolumeOption({
      refPoint: d.refPoint,
      series: [{ study: d.name, sampler: d.sampler, points: d.hypervolumeHistory }],
    }),
    { notMerge: true },
  );
  document.getElementById('st-hv-cap').textContent = d.refPoint
    ? `Reference point: ${d.metricName} ${fmt(d.refPoint[0])}, ${fmtPct(d.refPoint[1])} params (the Pareto front's nadir plus 10 % of its range, as BoTorch's infer_reference_point; it moves as the front grows, so the whole curve is recomputed).`
    : 'No complete trials yet.';
  chart('st-imp', main).setOption(importanceOption(d.importance), { notMerge: true });
  document.getElementById('st-imp-cap').textContent =
    `Method: ${d.importance.method}, on ${d.importance.target} over ${s.counts.COMPLETE} complete trials.` +
    (s.counts.COMPLETE < 10 ? ' With under 10 trials this is a rough guide only.' : '');
  const par = chart('st-par', main);
  par.setOption(parallelOption(d, rows), { notMerge: true });
  bindTrialClicks(par);
  followupSection(d, document.getElementById('st-follow'));
}

// ---------------------------------------------------------------------------------------------
// Trial page

/** Per-layer placement: one row per module, one cell per layer; the size is the cell's text and its shade (log scale). */
function placementTable(d, t) {
  const L = Math.max(d.numLayers, ...layersOn(t.config).map((l) => l + 1));
  const on = new Set(layersOn(t.config));
  const mods = MODULES.filter(([k]) => k in t.config);
  const maxOf = (k) => Math.max(1, ...d.trials.map((x) => (typeof x.config[k] === 'number' ? x.config[k] : 0)));
  return h(
    'table',
    { class: 'placement', id: 'placement' },
    h('caption', null, 'Module size per layer (darker = larger, log scale; empty = off)'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, 'module'),
        ...Array.from({ length: L }, (_, l) => h('th', { scope: 'col' }, `layer ${l}`)),
      ),
    ),
    h(
      'tbody',
      null,
      mods.map(([k, label], mi) => {
        const size = typeof t.config[k] === 'number' ? t.config[k] : 0;
        const shade = size > 0 ? 0.25 + (0.75 * Math.log2(size + 1)) / Math.log2(maxOf(k) + 1) : 0;
        return h(
          'tr',
          null,
          h('th', { scope: 'row' }, label),
          ...Array.from({ length: L }, (_, l) => {
            const active = size > 0 && on.has(l);
            return h(
              'td',
              {
                class: active ? 'on' : 'off',
                style: active
                  ? `background: ${PALETTE[mi]}${Math.round(shade * 255)
                      .toString(16)
                      .padStart(2, '0')}`
                  : undefined,
                'data-size': active ? size : 0,
                title: active ? `${label} ${size} in layer ${l}` : `no ${label} in layer ${l}`,
              },
              active ? String(size) : '·',
            );
          }),
        );
      }),
    ),
  );
}

async function renderTrial(route) {
  const d = await getJson(`/api/studies/${encodeURIComponent(route.study)}`);
  const t = d.trials.find((x) => x.number === route.trial);
  setCrumbs([['studies', '#/'], [d.name, studyHref(d.name)], [`trial #${route.trial}`]]);
  disposeCharts();
  if (!t) {
    main.replaceChildren(h('h1', null, `No trial #${route.trial} in study `, d.name));
    return;
  }
  const idx = d.trials.indexOf(t);
  const prev = d.trials[idx - 1];
  const next = d.trials[idx + 1];
  const a = t.attrs ?? {};
  const kv = (pairs) =>
    h(
      'dl',
      { class: 'summary' },
      pairs.filter(([, v]) => v !== undefined).flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
    );
  setMain(
    h(
      'h1',
      { id: 'trial-title' },
      `Trial #${t.number} `,
      h('span', { class: `badge ${t.state.toLowerCase()}` }, t.state),
      d.front.includes(t.number) ? h('span', { class: 'badge front' }, 'Pareto front') : null,
    ),
    h(
      'nav',
      { class: 'pager' },
      prev ? h('a', { href: trialHref(d.name, prev.number), id: 'prev' }, `← #${prev.number}`) : null,
      ' ',
      h('a', { href: studyHref(d.name) }, `back to ${d.name}`),
      ' ',
      next ? h('a', { href: trialHref(d.name, next.number), id: 'next' }, `#${next.number} →`) : null,
    ),
    t.reason ? h('p', { class: 'reason', id: 'trial-reason' }, `Reason: ${t.reason}`) : null,
    h(
      'section',
      { class: 'grid2' },
      h(
        'div',
        null,
        h('h2', null, 'Result'),
        kv([
          [d.metricName, t.metric !== undefined ? fmt(t.metric) : undefined],
          ['param %', t.paramPct !== undefined ? fmtPct(t.paramPct) : undefined],
          [
            'trainable parameters',
            typeof a.trainableParams === 'number' ? a.trainableParams.toLocaleString() : undefined,
          ],
          ['description', a.description !== undefined ? String(a.description) : undefined],
          ['epochs (best)', a.epochs !== undefined ? `${a.epochs} (${a.bestEpoch ?? '—'})` : undefined],
          ['steps', a.steps !== undefined ? String(a.steps) : undefined],
          ['training examples', a.trainExamples !== undefined ? String(a.trainExamples) : undefined],
          ...Object.entries(a.metrics && typeof a.metrics === 'object' ? a.metrics : {}).map(([k, v]) => [
            `metric: ${k}`,
            fmt(Number(v)),
          ]),
        ]),
        h('h2', null, 'Timings'),
        kv([
          ['created', fmtTime(t.createdAt)],
          ['started', fmtTime(t.startedAt)],
          ['finished', fmtTime(t.finishedAt)],
          ['duration', fmtDur(t.durationMs)],
          ['training time', typeof a.trainSeconds === 'number' ? `${a.trainSeconds.toFixed(1)} s` : undefined],
          ['last heartbeat', t.heartbeatAt ? fmtTime(t.heartbeatAt) : undefined],
          ['worker', t.workerId],
        ]),
      ),
      h(
        'div',
        null,
        h('h2', null, 'Configuration'),
        h(
          'table',
          { class: 'data', id: 'config' },
          h(
            'tbody',
            null,
            Object.entries(t.config)
              .filter(([k]) => !/^layer_\d+$/.test(k))
              .map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, String(v)))),
          ),
        ),
        h('h2', null, 'Placement'),
        placementTable(d, t),
      ),
    ),
    h('h2', null, 'Learning curve'),
    t.curve.length > 0
      ? h('div', { id: 'tr-curve', class: 'chart' })
      : h(
          'p',
          { class: 'muted', id: 'tr-curve-none' },
          'This trial stored no intermediate values (user attribute `intermediateValues` or `history`).',
        ),
  );
  if (t.curve.length > 0) {
    const hasLoss = t.curve.some((p) => p.loss !== undefined);
    chart('tr-curve', main).setOption(
      {
        aria: { enabled: true },
        animation: false,
        grid: { left: 64, right: 64, top: 40, bottom: 48 },
        legend: { top: 4 },
        tooltip: { trigger: 'axis' },
        xAxis: { type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 28, minInterval: 1, min: 'dataMin' },
        yAxis: [
          { type: 'value', scale: true, name: d.metricName },
          ...(hasLoss ? [{ type: 'value', scale: true, name: 'loss' }] : []),
        ],
        series: [
          {
            name: d.metricName,
            type: 'line',
            data: t.curve.filter((p) => p.metric !== undefined).map((p) => [p.step, p.metric]),
            itemStyle: { color: PALETTE[0] },
          },
          ...(hasLoss
            ? [
                {
                  name: 'loss',
                  type: 'line',
                  yAxisIndex: 1,
                  data: t.curve.filter((p) => p.loss !== undefined).map((p) => [p.step, p.loss]),
                  itemStyle: { color: PALETTE[1] },
                  lineStyle: { type: 'dashed' },
                },
              ]
            : []),
        ],
      },
      { notMerge: true },
    );
  }
  document.getElementById('trial-title')?.focus?.();
}

// ---------------------------------------------------------------------------------------------
// Routing and live updates

let rendering = Promise.resolve();
function render(fresh) {
  rendering = rendering
    .then(async () => {
      const route = parseRoute();
      const key = JSON.stringify(route);
      const isFresh = fresh || key !== state.routeKey;
      state.routeKey = key;
      if (route.view === 'study') await renderStudy(route, isFresh);
      else if (route.view === 'trial') await renderTrial(route);
      else await renderOverview(isFresh);
      document.body.dataset.ready = key;
    })
    .catch((e) => {
      main.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Could not load: ${e.message}`));
    });
  return rendering;
}

window.addEventListener('hashchange', () => {
  void render(true).then(() => main.focus({ preventScroll: true }));
});

function connect() {
  const es = new EventSource('/api/events');
  es.addEventListener('hello', () => {
    live.textContent = 'live';
    live.className = 'ok';
  });
  es.addEventListener('change', (e) => {
    const { studies } = JSON.parse(e.data);
    const route = parseRoute();
    live.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    // The trial page re-renders only for its own study (it has no state to keep); the others always.
    if (route.view === 'overview' || studies.includes(route.study)) void render(false);
  });
  es.onerror = () => {
    live.textContent = 'reconnecting…';
    live.className = 'warn';
  };
}

connect();
void render(true);
