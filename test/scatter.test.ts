// The benchmark's pictures: round ticks that cover the data, one mark per point
// (and one in the legend), bars only where the seeds spread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scatterSvg, ticks } from '../bench/scatter.js';

test('ticks are round steps that cover the range', () => {
  assert.deepEqual(ticks(0.93, 6.2), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(ticks(88.1, 89.05), [88.2, 88.4, 88.6, 88.8, 89]);
  assert.deepEqual(ticks(91, 93, 4), [91, 91.5, 92, 92.5, 93]);
});

test('a scatter plot has a mark per point and its legend, bars where the seeds spread, and the reference line', () => {
  const svg = scatterSvg({
    title: 'A <task>',
    xLabel: 'MACs reduction',
    yLabel: 'accuracy',
    line: { label: 'dense 92.00%', y: 92 },
    points: [
      { label: 'ours', x: 3, y: 91.5, yLow: 91.2, yHigh: 91.8, filled: true },
      { label: 'baseline', x: 2, y: 90, yLow: 90, yHigh: 90, filled: false },
    ],
  });
  assert.equal(svg.match(/<circle /g)!.length, 4);
  assert.equal(svg.match(/fill="#fff" stroke=/g)!.length, 2, 'the baseline is open, in the plot and the legend');
  assert.equal(svg.match(/stroke-width="2"\/>/g)!.length, 5, 'four marks and one bar: the baseline has no spread');
  assert.match(svg, /stroke-dasharray/);
  assert.match(svg, /A &lt;task&gt;/);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
});
