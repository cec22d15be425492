// Time-series line charts drawn as SVG by hand: a handful of series of at most a few
// hundred points each does not need a charting library. Colours come from the
// stylesheet (classes series-0, series-1, ...), so no inline style is needed.

import { h, s, clear, time } from './ui.js';

const W = 560;
const H = 170;
const PAD = { left: 46, right: 10, top: 10, bottom: 22 };

export class LineChart {
  /**
   * title; series: [names]; max: fixed top of the y axis (e.g. 100 for percents),
   * else the data's; format(value) for the axis and the legend.
   */
  constructor({ title, series, max = null, format = (v) => String(v) }) {
    this.series = series;
    this.max = max;
    this.format = format;
    this.svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title });
    this.legend = h('div', { class: 'legend' });
    this.el = h('figure', { class: 'card chart-card', data: { chart: title } }, h('figcaption', null, title), this.svg, this.legend);
  }

  /** points: [{t: epoch ms, v: [value per series, null for none]}], oldest first. */
  update(points) {
    const values = points.flatMap((p) => p.v).filter((v) => v !== null && Number.isFinite(v));
    let top = this.max ?? Math.max(0, ...values);
    if (top <= 0) top = 1;
    top = niceCeil(top);
    const t0 = points.length ? points[0].t : Date.now();
    const t1 = points.length > 1 ? points[points.length - 1].t : t0 + 1;
    const x = (t) => PAD.left + ((t - t0) / (t1 - t0 || 1)) * (W - PAD.left - PAD.right);
    const y = (v) => PAD.top + (1 - v / top) * (H - PAD.top - PAD.bottom);

    const grid = [0, 0.5, 1].map((f) => {
      const v = top * f;
      return [
        s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid-line' }),
        s('text', { x: PAD.left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, this.format(v)),
      ];
    });
    const labels = points.length
      ? [
          s('text', { x: PAD.left, y: H - 6, class: 'axis' }, time(t0)),
          s('text', { x: W - PAD.right, y: H - 6, class: 'axis', 'text-anchor': 'end' }, time(t1)),
        ]
      : [s('text', { x: W / 2, y: H / 2, class: 'axis', 'text-anchor': 'middle' }, 'Waiting for data…')];
    const lines = this.series.map((_, i) => {
      let d = '';
      let pen = 'M';
      for (const p of points) {
        const v = p.v[i];
        if (v === null || !Number.isFinite(v)) {
          pen = 'M';
          continue;
        }
        d += `${pen}${x(p.t).toFixed(1)},${y(Math.min(v, top)).toFixed(1)}`;
        pen = 'L';
      }
      return s('path', { d: d || 'M0,0', class: `line series-${i}` });
    });
    // The newest point of each series as a dot: a series of one point shows too.
    const dots = this.series.map((_, i) => {
      const p = points[points.length - 1];
      const v = p && p.v[i];
      if (v === null || v === undefined || !Number.isFinite(v)) return null;
      return s('circle', { cx: x(p.t).toFixed(1), cy: y(Math.min(v, top)).toFixed(1), r: 3, class: `dot series-${i}` });
    });
    clear(this.svg, grid, labels, lines, dots);

    const last = points.length ? points[points.length - 1].v : [];
    clear(
      this.legend,
      this.series.map((name, i) =>
        h(
          'span',
          { class: 'legend-item' },
          h('span', { class: `swatch series-${i}` }),
          `${name} `,
          h('b', { data: { series: name } }, last[i] === null || last[i] === undefined ? '–' : this.format(last[i])),
        ),
      ),
    );
  }
}

function niceCeil(v) {
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (v <= step * exp) return step * exp;
  }
  return 10 * exp;
}
