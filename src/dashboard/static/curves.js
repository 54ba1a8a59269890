// Curves: a uPlot chart per metric, a series per selected run, smoothing, shared drag-zoom, lazy redraw
// of charts off screen.
/* global uPlot */
import { seriesOf, smooth } from './series.js';
import { runColor, state } from './state.js';
import { $, esc, formatNumber } from './util.js';

const GROUP_ORDER = [
  'reward',
  'acc',
  'format',
  'val',
  'response_len',
  'kl',
  'actor',
  'critic',
  'perf',
  'time',
];
export const CHART_HEIGHT = 170;

function groupOf(key) {
  const group = key.split('/')[0];
  const index = GROUP_ORDER.indexOf(group);
  return [index < 0 ? GROUP_ORDER.length : index, group];
}

function visibleKeys() {
  const keys = new Set();
  for (const d of state.data.values()) for (const key of d.columns.keys()) keys.add(key);
  const filter = state.metricFilter.toLowerCase();
  return [...keys]
    .filter((k) => !filter || k.toLowerCase().includes(filter))
    .sort((a, b) => {
      const [ga, gb] = [groupOf(a), groupOf(b)];
      return ga[0] - gb[0] || ga[1].localeCompare(gb[1]) || a.localeCompare(b);
    });
}

function chartData(key) {
  const runs = [...state.data.keys()].filter((name) => state.data.get(name).columns.has(key));
  const tables = runs.map((name) => {
    const [xs, ys] = seriesOf(state.data.get(name), key);
    return [xs, smooth(ys, state.smoothing)];
  });
  const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
  return { runs, data };
}

export function chartWidth() {
  const width = $('#charts').clientWidth;
  const numColumns = Math.max(1, Math.floor(width / 360));
  return Math.floor((width - (numColumns - 1) * 12) / numColumns) - 2;
}

/** Width of the y axis from its longest tick label (uPlot's fixed default cuts "2.50e-7"). */
function axisSize(u, values, axisIndex, cycleNum) {
  const axis = u.axes[axisIndex];
  if (cycleNum > 1) return axis._size; // settled: stop uPlot's re-layout loop
  let size = axis.ticks.size + axis.gap;
  const longest = (values ?? []).reduce((a, v) => (v.length > a.length ? v : a), '');
  if (longest) {
    u.ctx.font = axis.font[0];
    size += u.ctx.measureText(longest).width / devicePixelRatio;
  }
  return Math.ceil(size) + 4;
}

function makeChart(key, parent) {
  const { runs, data } = chartData(key);
  const el = document.createElement('div');
  el.className = 'chart';
  el.dataset.key = key;
  el.innerHTML = `<div class="chart-head"><span class="chart-title">${esc(key)}</span><span class="readout"></span></div>`;
  parent.append(el);
  const readout = el.querySelector('.readout');
  const plot = new uPlot(
    {
      width: chartWidth(),
      height: CHART_HEIGHT,
      legend: { show: false },
      cursor: { y: false, sync: { key: 'steps' }, drag: { x: true, y: false, setScale: false } },
      scales: { x: { time: false } },
      axes: [
        { stroke: '#6b7280', grid: { stroke: '#f0f1f3' }, ticks: { stroke: '#e5e7eb' }, size: 28 },
        {
          stroke: '#6b7280',
          grid: { stroke: '#f0f1f3' },
          ticks: { stroke: '#e5e7eb' },
          size: axisSize,
          values: (_, ticks) => ticks.map(formatNumber),
        },
      ],
      series: [
        { label: 'step' },
        ...runs.map((name) => ({ label: name, stroke: runColor(name), width: 1.5, spanGaps: true })),
      ],
      hooks: {
        setScale: [
          (u, scaleKey) => {
            if (scaleKey === 'x') el.dataset.xMin = String(Math.round(u.scales.x.min ?? 0));
          },
        ],
        setSelect: [
          (u) => {
            if (u.select.width < 2) return;
            const min = u.posToVal(u.select.left, 'x');
            const max = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            setXRange([min, max]);
          },
        ],
        setCursor: [
          (u) => {
            const i = u.cursor.idx;
            if (i === null || i === undefined) {
              readout.textContent = '';
              return;
            }
            const parts = u.series
              .slice(1)
              .map((s, j) =>
                u.data[j + 1][i] === null
                  ? ''
                  : `<b style="color:${s.stroke()}">${formatNumber(u.data[j + 1][i])}</b>`,
              )
              .filter(Boolean);
            readout.innerHTML = `step ${u.data[0][i]} ${parts.join(' ')}`;
          },
        ],
      },
    },
    data,
    el,
  );
  el.addEventListener('dblclick', () => setXRange(null));
  const chart = { plot, el, runs, isVisible: true, isStale: false };
  applyXRange(chart);
  setChartStats(chart);
  return chart;
}

function applyXRange({ plot }) {
  if (state.xRange) plot.setScale('x', { min: state.xRange[0], max: state.xRange[1] });
}

/** Zooms every chart to the same steps (a drag on any chart), or back to all steps (null). */
export function setXRange(range) {
  state.xRange = range;
  for (const chart of state.charts.values()) {
    if (!range) chart.plot.setData(chart.plot.data); // rescales to all the data
    applyXRange(chart);
  }
  $('#zoom').hidden = !range;
  if (range) $('#zoom-range').textContent = `steps ${Math.round(range[0])}–${Math.round(range[1])}`;
}

/** What the chart holds, read back from uPlot: its series and non-missing points (tests read these). */
function setChartStats(chart) {
  const { data, series } = chart.plot;
  let numPoints = 0;
  for (let i = 1; i < data.length; i++)
    for (const v of data[i]) if (v !== null && v !== undefined) numPoints++;
  chart.el.dataset.series = String(series.length - 1);
  chart.el.dataset.points = String(numPoints);
  chart.el.title = `${numPoints} points from ${chart.runs.join(', ')}`;
}

/** Charts off screen are not redrawn on new data or smoothing; they catch up when scrolled to. */
const visibility = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      const chart = state.charts.get(entry.target.dataset.key);
      if (!chart || chart.el !== entry.target) continue;
      chart.isVisible = entry.isIntersecting;
      if (chart.isVisible && chart.isStale) updateChart(entry.target.dataset.key, chart);
    }
  },
  { rootMargin: '300px' },
);

function updateChart(key, chart) {
  const { runs, data } = chartData(key);
  if (!sameRuns(runs, chart.runs)) {
    state.chartKeys = ''; // a run gained or lost this metric: rebuild
    scheduleDraw();
    return;
  }
  chart.plot.setData(data);
  applyXRange(chart);
  setChartStats(chart);
  chart.isStale = false;
  delete chart.el.dataset.stale;
}

function buildCharts(keys) {
  for (const { plot, el } of state.charts.values()) {
    visibility.unobserve(el);
    plot.destroy();
  }
  state.charts.clear();
  const grid = $('#charts');
  grid.innerHTML = '';
  for (const key of keys) {
    const chart = makeChart(key, grid);
    state.charts.set(key, chart);
    visibility.observe(chart.el);
  }
}

function sameRuns(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Rebuilds the charts when the set of metrics or runs changed, else only feeds them new data. */
async function draw() {
  state.pending = false;
  const t0 = performance.now();
  const keys = visibleKeys();
  const signature = `${keys.join('\n')}|${[...state.data.keys()].join(',')}`;
  if (signature !== state.chartKeys) {
    buildCharts(keys);
    state.chartKeys = signature;
  } else {
    for (const [key, chart] of state.charts) {
      if (chart.isVisible) updateChart(key, chart);
      else {
        chart.isStale = true;
        chart.el.dataset.stale = '';
      }
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 0)); // uPlot paints in a microtask: wait for it
  const ms = performance.now() - t0;
  let numPoints = 0;
  for (const { el } of state.charts.values()) numPoints += Number(el.dataset.points);
  const stats = $('#render-stats');
  stats.dataset.ms = ms.toFixed(1);
  stats.dataset.points = String(numPoints);
  stats.textContent = `${state.charts.size} charts · ${numPoints.toLocaleString('en')} points · drawn in ${ms.toFixed(0)} ms`;
  document.body.dataset.drawn = String(Number(document.body.dataset.drawn ?? 0) + 1);
}

export function scheduleDraw() {
  if (state.pending) return;
  state.pending = true;
  requestAnimationFrame(() => draw());
}
