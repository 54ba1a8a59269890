/**
 * The demo's training curves: one PNG (a grid of line charts, drawn by png.ts) and one self-contained
 * HTML page (uPlot and its CSS inlined from node_modules: no CDN, opens offline).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Raster, type Rgb } from './png.ts';

export interface Curve {
  label: string;
  /** (step, value) pairs; non-finite values are gaps */
  points: [number, number][];
}

export interface Panel {
  title: string;
  curves: Curve[];
  /** fixed y range (e.g. [0, 1] for rates); default: the data's range */
  yRange?: [number, number];
}

export const COLORS: readonly Rgb[] = [
  [31, 119, 180],
  [214, 39, 40],
  [44, 160, 44],
  [255, 127, 14],
  [148, 103, 189],
];
const AXIS: Rgb = [60, 60, 60];
const GRID: Rgb = [225, 225, 225];

function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push(Number(t.toPrecision(6)));
  return ticks;
}

function fmtTick(v: number): string {
  if (Math.abs(v) >= 1000) return `${Math.round(v / 100) / 10}K`;
  return String(Number(v.toPrecision(3)));
}

function dataRange(panel: Panel): [number, number] {
  if (panel.yRange) return panel.yRange;
  const ys = panel.curves.flatMap((c) => c.points.map((p) => p[1])).filter(Number.isFinite);
  if (ys.length === 0) return [0, 1];
  let lo = Math.min(...ys);
  let hi = Math.max(...ys);
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

function drawPanel(r: Raster, panel: Panel, x0: number, y0: number, w: number, h: number): void {
  const left = x0 + 70;
  const right = x0 + w - 30;
  const top = y0 + 40;
  const bottom = y0 + h - 45;
  r.text(x0 + (w - Raster.textWidth(panel.title)) / 2, y0 + 12, panel.title, AXIS);
  const xs = panel.curves.flatMap((c) => c.points.map((p) => p[0]));
  const xLo = xs.length ? Math.min(...xs) : 0;
  const xHi = xs.length ? Math.max(...xs) : 1;
  const [yLo, yHi] = dataRange(panel);
  const px = (x: number) => left + ((x - xLo) / (xHi - xLo || 1)) * (right - left);
  const py = (y: number) => bottom - ((y - yLo) / (yHi - yLo || 1)) * (bottom - top);
  for (const t of niceTicks(yLo, yHi)) {
    if (t < yLo || t > yHi) continue;
    r.line(left, py(t), right, py(t), GRID);
    const label = fmtTick(t);
    r.text(left - 8 - Raster.textWidth(label), py(t) - 7, label, AXIS);
  }
  for (const t of niceTicks(xLo, xHi)) {
    if (t < xLo || t > xHi) continue;
    r.line(px(t), bottom, px(t), bottom + 5, AXIS);
    const label = fmtTick(t);
    r.text(px(t) - Raster.textWidth(label) / 2, bottom + 10, label, AXIS);
  }
  r.text(left + (right - left - Raster.textWidth('step')) / 2, bottom + 28, 'step', AXIS);
  r.line(left, top, left, bottom, AXIS, 2);
  r.line(left, bottom, right, bottom, AXIS, 2);
  panel.curves.forEach((curve, i) => {
    const color = COLORS[i % COLORS.length]!;
    let prev: [number, number] | null = null;
    for (const [x, y] of curve.points) {
      if (!Number.isFinite(y)) {
        prev = null;
        continue;
      }
      const p: [number, number] = [px(x), py(Math.min(yHi, Math.max(yLo, y)))];
      if (prev) r.line(prev[0], prev[1], p[0], p[1], color, 2);
      else r.fillRect(p[0] - 1, p[1] - 1, 3, 3, color);
      prev = p;
    }
    // legend, top-left inside the plot
    const ly = top + 4 + i * 16;
    r.fillRect(left + 8, ly + 5, 14, 4, color);
    r.text(left + 28, ly, curve.label, AXIS, 2);
  });
}

/** The panels on a grid, `cols` wide, as PNG bytes. */
export function renderPanelsPng(panels: Panel[], cols = 2, panelWidth = 560, panelHeight = 340): Buffer {
  const rows = Math.ceil(panels.length / cols);
  const r = new Raster(cols * panelWidth, rows * panelHeight);
  panels.forEach((panel, i) => {
    drawPanel(r, panel, (i % cols) * panelWidth, Math.floor(i / cols) * panelHeight, panelWidth, panelHeight);
  });
  return r.toPng();
}

function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  const dist = join(dirname(require.resolve('uplot/package.json')), 'dist');
  return {
    js: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8'),
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** A self-contained page: a title, free HTML (e.g. the before/after table), one uPlot chart per panel. */
export function renderHtml(title: string, panels: Panel[], bodyHtml = ''): string {
  const { js, css } = uplotAssets();
  const charts = panels.map((panel) => {
    const steps = [...new Set(panel.curves.flatMap((c) => c.points.map((p) => p[0])))].sort((a, b) => a - b);
    const columns = panel.curves.map((c) => {
      const byStep = new Map(c.points.map(([x, y]) => [x, Number.isFinite(y) ? y : null]));
      return steps.map((s) => byStep.get(s) ?? null);
    });
    return {
      title: panel.title,
      labels: panel.curves.map((c) => c.label),
      data: [steps, ...columns],
      yRange: panel.yRange ?? null,
    };
  });
  const colors = COLORS.map(([r, g, b]) => `rgb(${r},${g},${b})`);
  // `</` inside inlined script or JSON would end the <script> element early
  const safe = (s: string) => s.replace(/<\/(script)/gi, '<\\/$1');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>${css}
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
.grid{display:flex;flex-wrap:wrap;gap:16px}
table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}pre{background:#f6f6f6;padding:8px}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
${bodyHtml}
<div class="grid" id="charts"></div>
<script>${safe(js)}</script>
<script>
const charts = ${safe(JSON.stringify(charts))};
const colors = ${JSON.stringify(colors)};
for (const c of charts) {
  const el = document.createElement('div');
  document.getElementById('charts').appendChild(el);
  new uPlot({
    title: c.title, width: 560, height: 320,
    scales: { x: { time: false }, y: c.yRange ? { range: c.yRange } : {} },
    axes: [{ label: 'step' }, {}],
    series: [{ label: 'step' }, ...c.labels.map((label, i) => ({ label, stroke: colors[i % colors.length], width: 2, spanGaps: false }))],
  }, c.data, el);
}
</script>
</body></html>
`;
}
