/**
 * A few string helpers to write SVG by hand. NOTE: no chart library: the three charts are simple, and
 * the npm options either need a DOM (d3, vega without node-canvas) or pull large dependency trees;
 * hand-written SVG is ~small, deterministic (byte-stable for tests) and readable in a diff.
 */
import { escapeXml, truncate } from './format.js';
import type { Scale } from './scale.js';

/** Okabe & Ito (2008) colour-blind-safe palette. */
export const PALETTE = {
  black: '#000000',
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  green: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  purple: '#CC79A7',
  grey: '#999999',
} as const;

export type Attrs = Record<string, string | number | undefined>;

/** Pixel coordinates with 2 decimals: enough for any screen, short in the file. */
export function px(v: number): string {
  const s = (Math.round(v * 100) / 100).toFixed(2).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}

function attrs(a: Attrs): string {
  let s = '';
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    s += ` ${k}="${escapeXml(typeof v === 'number' ? px(v) : v)}"`;
  }
  return s;
}

/** `<name attrs>children</name>`, or self-closing when there are no children. Children are raw markup. */
export function el(name: string, a: Attrs, ...children: string[]): string {
  const inner = children.join('');
  return inner === '' ? `<${name}${attrs(a)}/>` : `<${name}${attrs(a)}>${inner}</${name}>`;
}

/** A text element; `text` is escaped. */
export function text(a: Attrs, s: string): string {
  return el('text', a, escapeXml(s));
}

/** A tooltip for its parent element (browsers show it on hover; screen readers read it). */
export function tip(s: string): string {
  return `<title>${escapeXml(s)}</title>`;
}

/** The root element with an accessible title/description. */
export function svgRoot(
  opts: { width: number; height: number; id: string; title: string; desc: string },
  ...children: string[]
): string {
  const { width, height, id, title, desc } = opts;
  return `${el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-labelledby': `${id}-title ${id}-desc`,
      'font-family': 'system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif',
      'font-size': 12,
    },
    el('title', { id: `${id}-title` }, escapeXml(title)),
    el('desc', { id: `${id}-desc` }, escapeXml(desc)),
    el('rect', { width, height, fill: '#ffffff' }),
    ...children,
  )}\n`;
}

/** Marker shapes, one per baseline family; all centred on (x, y), roughly the same visual area. */
export const SHAPES = ['square', 'triangle', 'diamond', 'triangle-down', 'plus', 'star', 'hexagon', 'cross'] as const;
export type Shape = (typeof SHAPES)[number] | 'circle';

/** The outline of a plus sign of half-width `r * 0.4` and half-length `r * 1.2`, centred on 0. */
function plusOutline(r: number): [number, number][] {
  const w = r * 0.4;
  const h = r * 1.2;
  return [
    [-w, -h],
    [w, -h],
    [w, -w],
    [h, -w],
    [h, w],
    [w, w],
    [w, h],
    [-w, h],
    [-w, w],
    [-h, w],
    [-h, -w],
    [-w, -w],
  ];
}

/** A marker path/circle of `shape` at (x, y) with radius-like size `r`. */
export function marker(shape: Shape, x: number, y: number, r: number, a: Attrs, ...children: string[]): string {
  const poly = (pts: [number, number][]): string =>
    `M${pts.map(([dx, dy]) => `${px(x + dx)} ${px(y + dy)}`).join('L')}Z`;
  let d: string;
  switch (shape) {
    case 'circle':
      return el('circle', { cx: x, cy: y, r, ...a }, ...children);
    case 'square': {
      const h = r * 0.9;
      d = poly([
        [-h, -h],
        [h, -h],
        [h, h],
        [-h, h],
      ]);
      break;
    }
    case 'triangle':
      d = poly([
        [0, -r * 1.2],
        [r * 1.1, r * 0.8],
        [-r * 1.1, r * 0.8],
      ]);
      break;
    case 'triangle-down':
      d = poly([
        [0, r * 1.2],
        [r * 1.1, -r * 0.8],
        [-r * 1.1, -r * 0.8],
      ]);
      break;
    case 'diamond':
      d = poly([
        [0, -r * 1.3],
        [r * 1.1, 0],
        [0, r * 1.3],
        [-r * 1.1, 0],
      ]);
      break;
    case 'plus':
      d = poly(plusOutline(r));
      break;
    case 'cross': {
      // The plus rotated by 45 degrees.
      const c = Math.SQRT1_2;
      d = poly(plusOutline(r).map(([dx, dy]) => [c * (dx - dy), c * (dx + dy)]));
      break;
    }
    case 'star': {
      const pts: [number, number][] = [];
      for (let i = 0; i < 10; i++) {
        const rr = i % 2 === 0 ? r * 1.35 : r * 0.6;
        const a2 = -Math.PI / 2 + (i * Math.PI) / 5;
        pts.push([rr * Math.cos(a2), rr * Math.sin(a2)]);
      }
      d = poly(pts);
      break;
    }
    case 'hexagon': {
      const pts: [number, number][] = [];
      for (let i = 0; i < 6; i++)
        pts.push([r * 1.1 * Math.cos((i * Math.PI) / 3), r * 1.1 * Math.sin((i * Math.PI) / 3)]);
      d = poly(pts);
      break;
    }
  }
  return el('path', { d, ...a }, ...children);
}

/** The plot area of a chart, in pixels. */
export interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Grid lines, axes, tick labels and axis titles for an x/y scale pair. */
export function axes(f: Frame, x: Scale, y: Scale, xTitle: string, yTitle: string): string {
  const bottom = f.top + f.height;
  const right = f.left + f.width;
  const parts: string[] = [];
  const grid: string[] = [];
  for (const t of x.ticks) {
    const X = x.map(t);
    grid.push(el('line', { x1: X, y1: f.top, x2: X, y2: bottom }));
    parts.push(el('line', { x1: X, y1: bottom, x2: X, y2: bottom + 5, stroke: '#333' }));
    parts.push(text({ x: X, y: bottom + 18, 'text-anchor': 'middle', class: 'tick-x' }, x.label(t)));
  }
  for (const t of y.ticks) {
    const Y = y.map(t);
    grid.push(el('line', { x1: f.left, y1: Y, x2: right, y2: Y }));
    parts.push(el('line', { x1: f.left - 5, y1: Y, x2: f.left, y2: Y, stroke: '#333' }));
    parts.push(text({ x: f.left - 8, y: Y + 4, 'text-anchor': 'end', class: 'tick-y' }, y.label(t)));
  }
  return (
    el('g', { class: 'grid', stroke: '#e4e4e4', 'stroke-width': 1 }, ...grid) +
    el('rect', {
      x: f.left,
      y: f.top,
      width: f.width,
      height: f.height,
      fill: 'none',
      stroke: '#333',
      class: 'frame',
    }) +
    el('g', { class: 'axes', fill: '#333' }, ...parts) +
    text(
      { x: f.left + f.width / 2, y: bottom + 40, 'text-anchor': 'middle', 'font-size': 13, class: 'axis-title' },
      truncate(xTitle, Math.floor(f.width / 7.2)),
    ) +
    text(
      {
        x: 0,
        y: 0,
        transform: `translate(${px(f.left - 52)} ${px(f.top + f.height / 2)}) rotate(-90)`,
        'text-anchor': 'middle',
        'font-size': 13,
        class: 'axis-title',
      },
      truncate(yTitle, Math.floor(f.height / 7.2)),
    )
  );
}

/**
 * A chart title (and optional subtitle) above the plot, cut to fit `maxWidth` pixels; the full text
 * stays in the SVG's <title>.
 */
export function heading(x: number, title: string, subtitle: string | undefined, maxWidth: number): string {
  // NOTE: ~0.6 em per character for the bold 15 px title, ~0.55 em for the 12 px subtitle.
  return (
    text({ x, y: 22, 'font-size': 15, 'font-weight': 'bold' }, truncate(title, Math.floor(maxWidth / 9))) +
    (subtitle ? text({ x, y: 40, fill: '#555' }, truncate(subtitle, Math.floor(maxWidth / 6.6))) : '')
  );
}
