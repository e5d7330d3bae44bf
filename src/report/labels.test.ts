import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeLabels, type LabelRequest } from './labels.js';

const frame = { left: 0, top: 0, width: 400, height: 300 };
const box = (l: { x: number; y: number; anchor: 'start' | 'end'; text: string }) => {
  const w = l.text.length * 6;
  return { x0: l.anchor === 'end' ? l.x - w : l.x, x1: l.anchor === 'end' ? l.x : l.x + w, y0: l.y - 8, y1: l.y + 2 };
};
const overlaps = (a: ReturnType<typeof box>, b: ReturnType<typeof box>): boolean =>
  a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

test('placeLabels takes the preferred side when it is free', () => {
  const [l] = placeLabels([{ x: 200, y: 150, r: 5, text: '#7', prefer: ['above-left', 'right'] }], [], frame);
  assert.ok(l);
  assert.equal(l.anchor, 'end');
  assert.ok(l.x < 200 && l.y < 150);
});

test('placeLabels moves labels off each other, off markers and into the frame', () => {
  // A tight cluster: every label prefers the same side, so naive placement would stack them.
  const pts = [
    [100, 100],
    [104, 92],
    [108, 84],
    [112, 76],
  ];
  const reqs: LabelRequest[] = pts.map(([x, y], i) => ({
    x,
    y,
    r: 4,
    text: `#${i + 10}`,
    prefer: ['above-left', 'left', 'above-right', 'right', 'below-right', 'below-left'],
  }));
  const placed = placeLabels(
    reqs,
    pts.map(([x, y]) => ({ x, y, r: 4 })),
    frame,
  );
  assert.ok(
    placed.every((p) => p !== null),
    'four labels fit around a small cluster',
  );
  const boxes = placed.map((p) => box(p!));
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) assert.ok(!overlaps(boxes[i], boxes[j]), `labels ${i} and ${j} overlap`);
  for (const b of boxes)
    for (const [x, y] of pts)
      assert.ok(!overlaps(b, { x0: x - 4, x1: x + 4, y0: y - 4, y1: y + 4 }), 'label covers a marker');
  // At the left edge the left-hand sides would leave the frame.
  const [edge] = placeLabels(
    [{ x: 3, y: 150, r: 4, text: '#100', prefer: ['left', 'above-left', 'right'] }],
    [],
    frame,
  );
  assert.ok(edge);
  assert.equal(edge.anchor, 'start');
  assert.ok(edge.x > 3);
});

test('placeLabels never draws two labels over each other: far labels get a leader line, the rest are left out', () => {
  // 30 markers on top of each other (as "#4" and "#11" in a crowded demo front): not all can be labelled.
  const reqs: LabelRequest[] = Array.from({ length: 30 }, (_, i) => ({
    x: 200 + (i % 3),
    y: 150 + (i % 2),
    r: 5,
    text: `#${i}`,
    prefer: ['above-left', 'left', 'above-right', 'right', 'below-right', 'below-left'],
  }));
  const placed = placeLabels(
    reqs,
    reqs.map((r) => ({ x: r.x, y: r.y, r: r.r })),
    frame,
  );
  const shown = placed.filter((p) => p !== null);
  assert.ok(shown.length >= 6 && shown.length < 30, `${shown.length} labels placed`);
  assert.ok(
    shown.some((p) => p.leader),
    'labels beyond the first ring have leader lines',
  );
  const boxes = shown.map(box);
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++)
      assert.ok(!overlaps(boxes[i]!, boxes[j]!), `labels ${i} and ${j} overlap`);
});
