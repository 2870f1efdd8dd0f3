import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../errors.js';
import { extent, formatNumber, linePlot, linearScale, logScale, niceStep, plotGrid, smooth } from './index.js';

test('niceStep picks 1, 2 or 5 times a power of ten', () => {
  assert.equal(niceStep(0.13), 0.2);
  assert.equal(niceStep(3), 5);
  assert.equal(niceStep(7), 10);
  assert.equal(niceStep(100), 100);
  assert.equal(niceStep(0), 1);
});

test('linear ticks are round and cover the domain', () => {
  const s = linearScale([0, 1], [0, 100]);
  assert.deepEqual(s.ticks(), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(s.map(0.5), 50);
  // y axes run downwards in SVG: a reversed range maps low values to the bottom.
  const y = linearScale([2, 6], [300, 0]);
  assert.equal(y.map(2), 300);
  assert.equal(y.map(6), 0);
  assert.deepEqual(linearScale([0.1, 0.3], [0, 1]).ticks(), [0.1, 0.15, 0.2, 0.25, 0.3]);
});

test('log ticks are decades, or 1-2-5 inside one decade', () => {
  assert.deepEqual(logScale([1, 1000], [0, 1]).ticks(), [1, 10, 100, 1000]);
  assert.deepEqual(logScale([2, 30], [0, 1]).ticks(), [2, 5, 10, 20]);
  const s = logScale([1, 100], [0, 200]);
  assert.equal(s.map(10), 100);
  assert.throws(() => logScale([0, 10], [0, 1]), InputError);
});

test('extent skips non-finite values (and non-positive ones on log axes) and pads a flat series', () => {
  assert.deepEqual(extent([3, NaN, 1, Infinity, 2]), [1, 3]);
  assert.deepEqual(extent([-1, 0, 4, 8], true), [4, 8]);
  assert.deepEqual(extent([5, 5]), [4.5, 5.5]);
  assert.equal(extent([NaN]), null);
});

test('formatNumber keeps tick labels short', () => {
  assert.equal(formatNumber(1500, 0), '1500');
  assert.equal(formatNumber(15000, 0), '15k');
  assert.equal(formatNumber(20000, 0), '20k');
  assert.equal(formatNumber(2e6, 0), '2M');
  assert.equal(formatNumber(0.25, 2), '0.25');
  assert.equal(formatNumber(0, 2), '0');
});

test('linePlot draws one polyline per finite run and escapes text', () => {
  const svg = linePlot(
    [
      { name: 'train <loss>', points: [[0, 5], [1, 4], [2, NaN], [3, 3], [4, 2.5]] },
      { name: 'eval', points: [[0, 5.2], [4, 3]], markers: true, dashed: true },
    ],
    { title: 'a & b', xLabel: 'step', yLabel: 'loss', vLines: [{ at: 2, label: 'phase change' }] },
  );
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.equal((svg.match(/<polyline/g) ?? []).length, 3); // train split in two by the NaN, plus eval
  assert.ok(svg.includes('train &lt;loss&gt;'));
  assert.ok(svg.includes('a &amp; b'));
  assert.ok(svg.includes('phase change'));
  assert.equal((svg.match(/<circle/g) ?? []).length, 2); // eval markers
  assert.ok(!svg.includes('NaN'));
});

test('linePlot on a log axis drops non-positive values instead of failing', () => {
  const svg = linePlot([{ name: 'x', points: [[0, 1], [10, 10], [100, 100]] }], { logX: true, logY: true });
  // x = 0 cannot sit on a log axis: the line starts at 10.
  assert.equal((svg.match(/<polyline/g) ?? []).length, 1);
  assert.ok(!svg.includes('NaN') && !svg.includes('Infinity'));
});

test('linePlot with no data still gives a valid frame', () => {
  const svg = linePlot([], { title: 'empty' });
  assert.ok(svg.includes('<rect'));
  assert.equal((svg.match(/<polyline/g) ?? []).length, 0);
});

test('linePlot rejects malformed points', () => {
  assert.throws(() => linePlot([{ name: 'bad', points: [[1] as unknown as [number, number]] }]), InputError);
});

test('plotGrid composes panels with unique clip ids', () => {
  const panel = { series: [{ name: 's', points: [[0, 0], [1, 1]] as [number, number][] }] };
  const svg = plotGrid([panel, panel, panel], { columns: 2, title: 'grid', panelWidth: 300, panelHeight: 200 });
  assert.ok(svg.includes('width="600" height="428"'));
  const ids = [...svg.matchAll(/clipPath id="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(ids.length, 3);
  assert.equal(new Set(ids).size, 3);
  assert.throws(() => plotGrid([panel], { columns: 0 }), InputError);
});

test('smooth is a bias-corrected EMA that passes NaN through', () => {
  const s = smooth([[0, 10], [1, 10], [2, NaN], [3, 10]], 0.9);
  assert.equal(s[0]![1], 10); // bias correction: no pull towards 0
  assert.ok(Math.abs(s[1]![1] - 10) < 1e-12);
  assert.ok(Number.isNaN(s[2]![1]));
  assert.ok(Math.abs(s[3]![1] - 10) < 1e-12);
});
