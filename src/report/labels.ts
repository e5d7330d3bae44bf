/**
 * Greedy placement of small point labels ("#12", "r=8") so they do not cover other points or each
 * other: each label tries a few positions around its point, in the caller's order of preference, and
 * takes the first that is free and inside the frame (else the one that overlaps least).
 * NOTE: text width is estimated (0.6 em per character); exact metrics would need a font engine.
 */
import type { Frame } from './svg.js';

export type Side = 'above-left' | 'above-right' | 'below-left' | 'below-right' | 'left' | 'right';

export interface LabelRequest {
  /** Anchor point (pixel), the centre of the marker. */
  x: number;
  y: number;
  /** Marker radius in pixels: the label starts beyond it. */
  r: number;
  text: string;
  /** Positions to try, most preferred first. */
  prefer: readonly Side[];
}

export interface PlacedLabel {
  x: number;
  y: number;
  anchor: 'start' | 'end';
  text: string;
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const overlap = (a: Box, b: Box): number =>
  Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) * Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));

/** Baseline position and box of `text` placed on `side` of a marker. `fontSize` in px. */
function candidate(req: LabelRequest, side: Side, fontSize: number): { label: PlacedLabel; box: Box } {
  const w = req.text.length * fontSize * 0.6;
  const h = fontSize;
  const g = req.r + 2;
  const left = side.endsWith('left');
  const anchor: 'start' | 'end' = left ? 'end' : 'start';
  const x =
    side === 'left' ? req.x - g - 1 : side === 'right' ? req.x + g + 1 : left ? req.x - g * 0.6 : req.x + g * 0.6;
  const y = side.startsWith('above') ? req.y - g : side.startsWith('below') ? req.y + g + h * 0.8 : req.y + h * 0.35;
  const box: Box = { x0: left ? x - w : x, x1: left ? x : x + w, y0: y - h * 0.8, y1: y + h * 0.2 };
  return { label: { x, y, anchor, text: req.text }, box };
}

/**
 * Places `labels` in order, avoiding `obstacles` (markers: centre + radius) and earlier labels,
 * keeping inside `frame` when possible.
 */
export function placeLabels(
  labels: readonly LabelRequest[],
  obstacles: readonly { x: number; y: number; r: number }[],
  frame: Frame,
  fontSize = 10,
): PlacedLabel[] {
  const taken: Box[] = obstacles.map((o) => ({ x0: o.x - o.r, y0: o.y - o.r, x1: o.x + o.r, y1: o.y + o.r }));
  const inside = (b: Box): boolean =>
    b.x0 >= frame.left && b.x1 <= frame.left + frame.width && b.y0 >= frame.top && b.y1 <= frame.top + frame.height;
  const out: PlacedLabel[] = [];
  for (const req of labels) {
    const own: Box = { x0: req.x - req.r, y0: req.y - req.r, x1: req.x + req.r, y1: req.y + req.r };
    let best: { label: PlacedLabel; box: Box } | null = null;
    let bestCost = Number.POSITIVE_INFINITY;
    for (const [i, side] of req.prefer.entries()) {
      const c = candidate(req, side, fontSize);
      // Own marker is excluded: candidates never overlap it by construction, but float error might.
      const clash = taken.reduce(
        (s, b) =>
          b.x0 === own.x0 && b.y0 === own.y0 && b.x1 === own.x1 && b.y1 === own.y1 ? s : s + overlap(c.box, b),
        0,
      );
      // Preference breaks ties; leaving the frame costs as much as a full overlap with a label.
      const cost = clash + (inside(c.box) ? 0 : 1000) + i * 1e-3;
      if (cost < bestCost) {
        bestCost = cost;
        best = c;
      }
      if (clash === 0 && inside(c.box)) break;
    }
    if (best) {
      taken.push(best.box);
      out.push(best.label);
    }
  }
  return out;
}
