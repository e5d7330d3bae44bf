/**
 * Greedy placement of small point labels ("#12", "r=8") so they never cover each other and cover
 * other points as little as possible: each label tries a few positions around its point, in the
 * caller's order of preference, then further out with a leader line, and is left out when none is free.
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
  /** A line from the marker to a label placed further out. */
  leader?: { x1: number; y1: number; x2: number; y2: number };
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const overlap = (a: Box, b: Box): number =>
  Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) * Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));

/** Baseline position and box of `text` placed on `side` of a marker, `dist` times the usual gap away. `fontSize` in px. */
function candidate(req: LabelRequest, side: Side, fontSize: number, dist = 1): { label: PlacedLabel; box: Box } {
  const w = req.text.length * fontSize * 0.6;
  const h = fontSize;
  const g = (req.r + 2) * dist;
  const left = side.endsWith('left');
  const anchor: 'start' | 'end' = left ? 'end' : 'start';
  const x =
    side === 'left' ? req.x - g - 1 : side === 'right' ? req.x + g + 1 : left ? req.x - g * 0.6 : req.x + g * 0.6;
  const y = side.startsWith('above') ? req.y - g : side.startsWith('below') ? req.y + g + h * 0.8 : req.y + h * 0.35;
  const box: Box = { x0: left ? x - w : x, x1: left ? x : x + w, y0: y - h * 0.8, y1: y + h * 0.2 };
  const label: PlacedLabel = { x, y, anchor, text: req.text };
  if (dist > 1) {
    // A leader line from the marker's edge to the label's near corner, so a far label stays attached.
    const tx = left ? box.x1 : box.x0;
    const ty = side.startsWith('above') ? box.y1 : side.startsWith('below') ? box.y0 : (box.y0 + box.y1) / 2;
    const d = Math.hypot(tx - req.x, ty - req.y) || 1;
    label.leader = { x1: req.x + ((tx - req.x) * req.r) / d, y1: req.y + ((ty - req.y) * req.r) / d, x2: tx, y2: ty };
  }
  return { label, box };
}

/** How far out labels may go (multiples of the marker gap) before one is left out. */
const DISTANCES = [1, 2.6, 4.2];

/**
 * Places `labels` in order. A label never overlaps an earlier label and never leaves `frame`; it
 * avoids `obstacles` (markers: centre + radius) when it can. It tries each preferred side next to
 * its marker, then further out with a leader line; a label with no free place is left out (`null`:
 * the caller names it elsewhere, e.g. in the chart's description), since two labels drawn over each
 * other name neither.
 */
export function placeLabels(
  labels: readonly LabelRequest[],
  obstacles: readonly { x: number; y: number; r: number }[],
  frame: Frame,
  fontSize = 10,
): (PlacedLabel | null)[] {
  const markers: Box[] = obstacles.map((o) => ({ x0: o.x - o.r, y0: o.y - o.r, x1: o.x + o.r, y1: o.y + o.r }));
  const placedBoxes: Box[] = [];
  const inside = (b: Box): boolean =>
    b.x0 >= frame.left && b.x1 <= frame.left + frame.width && b.y0 >= frame.top && b.y1 <= frame.top + frame.height;
  const out: (PlacedLabel | null)[] = [];
  for (const req of labels) {
    let best: { label: PlacedLabel; box: Box } | null = null;
    let bestCost = Number.POSITIVE_INFINITY;
    search: for (const [k, dist] of DISTANCES.entries())
      for (const [i, side] of req.prefer.entries()) {
        const c = candidate(req, side, fontSize, dist);
        if (!inside(c.box) || placedBoxes.some((b) => overlap(c.box, b) > 0)) continue;
        const covers = markers.reduce((s, b) => s + overlap(c.box, b), 0);
        // Covering markers costs most, distance next, the preference order breaks ties.
        const cost = covers * 10 + k + i * 1e-3;
        if (cost < bestCost) {
          bestCost = cost;
          best = c;
        }
        if (covers === 0) break search;
      }
    if (best) placedBoxes.push(best.box);
    out.push(best ? best.label : null);
  }
  return out;
}
