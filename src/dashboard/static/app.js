// The dashboard page: curves (uPlot, live over Server-Sent Events), a rollout browser and eval tables.
// Plain browser JavaScript served as is (no build step); every number it shows comes from /api/....
/* global uPlot */

const PALETTE = [
  '#2563eb',
  '#dc2626',
  '#16a34a',
  '#9333ea',
  '#ea580c',
  '#0891b2',
  '#be185d',
  '#65a30d',
  '#4b5563',
];
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
const MAX_AUTO_SELECTED = 6;
const CHART_HEIGHT = 170;
const ROLLOUTS_PER_PAGE = 50;

const state = {
  runs: [],
  selected: new Set(),
  /** run name → { steps, columns: Map(key → values), numMalformed, malformed, generation, source } */
  data: new Map(),
  smoothing: 0.6,
  metricFilter: '',
  /** metric key → { plot, el, runs } */
  charts: new Map(),
  chartKeys: '',
  pending: false,
  /** [min, max] step shown by every chart after a drag-zoom; null: everything. */
  xRange: null,
};

const $ = (selector) => document.querySelector(selector);

function esc(text) {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

async function getJson(path) {
  const res = await fetch(path);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${path}`);
  return body;
}

function runColor(name) {
  const index = state.runs.findIndex((r) => r.name === name);
  return PALETTE[Math.max(index, 0) % PALETTE.length];
}

function formatNumber(v) {
  if (v === null || v === undefined) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return Number(v.toPrecision(4)).toString();
}

// ---- runs -------------------------------------------------------------------------------------

async function refreshRuns() {
  const { root, runs } = await getJson('/api/runs');
  $('#root').textContent = root;
  const isFirst = state.runs.length === 0;
  const known = new Set(state.runs.map((r) => r.name));
  state.runs = runs;
  for (const run of runs) {
    const isNew = !known.has(run.name);
    if ((isFirst && state.selected.size < MAX_AUTO_SELECTED) || (!isFirst && isNew))
      selectRun(run.name, true);
  }
  renderRunList();
  renderRolloutRunOptions();
}

function renderRunList() {
  $('#no-runs').hidden = state.runs.length > 0;
  $('#runs').innerHTML = state.runs
    .map((run) => {
      const malformed = run.numMalformed
        ? `<span class="badge warn" title="lines of metrics.jsonl that did not parse were skipped">${run.numMalformed} malformed</span>`
        : '';
      return `<li data-run="${esc(run.name)}">
        <label class="run-pick"><input type="checkbox" ${state.selected.has(run.name) ? 'checked' : ''} />
        <span class="swatch" style="background:${runColor(run.name)}"></span>
        <span class="name">${esc(run.name)}</span></label>
        <span class="meta">${run.numRows} steps${run.lastStep === null ? '' : ` · last ${run.lastStep}`} ${malformed}</span>
      </li>`;
    })
    .join('');
  for (const li of document.querySelectorAll('#runs li')) {
    li.querySelector('input').addEventListener('change', (e) => selectRun(li.dataset.run, e.target.checked));
  }
  renderMalformed();
}

function renderMalformed() {
  const parts = [];
  for (const [name, d] of state.data) {
    if (!d.numMalformed) continue;
    const lines = d.malformed.map((m) => `line ${m.line}: ${esc(m.reason)}`).join('; ');
    parts.push(
      `<p class="warn-note" data-run="${esc(name)}" data-malformed="${d.numMalformed}"><b>${esc(name)}</b>: ${d.numMalformed} malformed line${d.numMalformed > 1 ? 's' : ''} skipped (${lines})</p>`,
    );
  }
  $('#malformed').innerHTML = parts.join('');
}

function selectRun(name, isOn) {
  if (isOn) {
    if (state.selected.has(name)) return;
    state.selected.add(name);
    loadRun(name);
  } else {
    state.selected.delete(name);
    state.data.get(name)?.source?.close();
    state.data.delete(name);
    updateLive();
    scheduleDraw();
  }
}

// ---- metrics: load, stream, merge ---------------------------------------------------------------

function applySlice(d, slice) {
  // Rows from `slice.from` on replace what the page holds from there (a reconnect resends them).
  const from = Math.min(slice.from, d.steps.length);
  d.steps.length = from;
  for (const values of d.columns.values()) values.length = from;
  for (const s of slice.steps) d.steps.push(s);
  for (const [key, values] of Object.entries(slice.columns)) {
    let column = d.columns.get(key);
    if (!column) {
      column = new Array(from).fill(null);
      d.columns.set(key, column);
    }
    for (const v of values) column.push(v);
  }
  for (const column of d.columns.values()) while (column.length < d.steps.length) column.push(null);
  d.numMalformed = slice.numMalformed;
  d.malformed = slice.malformed;
  d.generation = slice.generation;
}

async function loadRun(name) {
  const d = { steps: [], columns: new Map(), numMalformed: 0, malformed: [], generation: 0, source: null };
  state.data.set(name, d);
  const slice = await getJson(`/api/runs/${encodeURIComponent(name)}/metrics`);
  if (state.data.get(name) !== d) return; // unselected meanwhile
  applySlice(d, slice);
  const url = `/api/runs/${encodeURIComponent(name)}/metrics/stream?from=${d.steps.length}&generation=${d.generation}`;
  d.source = new EventSource(url);
  d.source.addEventListener('metrics', (e) => {
    applySlice(d, JSON.parse(e.data));
    renderMalformed();
    scheduleDraw();
  });
  d.source.addEventListener('reset', () => {
    d.steps.length = 0;
    d.columns.clear();
  });
  d.source.addEventListener('open', updateLive);
  d.source.addEventListener('error', updateLive);
  updateLive();
  renderMalformed();
  scheduleDraw();
}

function updateLive() {
  const sources = [...state.data.values()].map((d) => d.source).filter(Boolean);
  const numOpen = sources.filter((s) => s.readyState === EventSource.OPEN).length;
  const el = $('#live');
  el.classList.toggle('on', numOpen > 0);
  el.textContent = numOpen > 0 ? `live · ${numOpen} stream${numOpen > 1 ? 's' : ''}` : 'not live';
}

// ---- curves -----------------------------------------------------------------------------------

/** TensorBoard's debiased exponential moving average. */
function smooth(ys, weight) {
  if (weight <= 0) return ys;
  const out = new Array(ys.length);
  let last = 0;
  let debias = 1;
  for (let i = 0; i < ys.length; i++) {
    last = last * weight + (1 - weight) * ys[i];
    debias *= weight;
    out[i] = last / (1 - debias);
  }
  return out;
}

/** [steps, values] of one run and metric, without missing values, sorted by step. */
function seriesOf(d, key) {
  const column = d.columns.get(key);
  const xs = [];
  const ys = [];
  if (!column) return [xs, ys];
  let isSorted = true;
  for (let i = 0; i < column.length; i++) {
    if (column[i] === null) continue;
    if (xs.length && d.steps[i] < xs[xs.length - 1]) isSorted = false;
    xs.push(d.steps[i]);
    ys.push(column[i]);
  }
  if (!isSorted) {
    const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
    return [order.map((i) => xs[i]), order.map((i) => ys[i])];
  }
  return [xs, ys];
}

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
  let numPoints = 0;
  for (const [xs] of tables) numPoints += xs.length;
  return { runs, data, numPoints };
}

function chartWidth() {
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
  const { runs, data, numPoints } = chartData(key);
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
      cursor: { sync: { key: 'steps' }, drag: { x: true, y: false, setScale: false } },
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
  const chart = { plot, el, runs };
  applyXRange(chart);
  setChartStats(chart, runs, numPoints);
  return chart;
}

function applyXRange({ plot }) {
  if (state.xRange) plot.setScale('x', { min: state.xRange[0], max: state.xRange[1] });
}

/** Zooms every chart to the same steps (a drag on any chart), or back to all steps (null). */
function setXRange(range) {
  state.xRange = range;
  for (const chart of state.charts.values()) {
    if (!range) chart.plot.setData(chart.plot.data); // rescales to all the data
    applyXRange(chart);
  }
  $('#zoom').hidden = !range;
  if (range) $('#zoom-range').textContent = `steps ${Math.round(range[0])}–${Math.round(range[1])}`;
}

function setChartStats(chart, runs, numPoints) {
  chart.el.dataset.series = String(runs.length);
  chart.el.dataset.points = String(numPoints);
  chart.el.title = `${numPoints} points from ${runs.join(', ')}`;
}

function buildCharts(keys) {
  for (const { plot } of state.charts.values()) plot.destroy();
  state.charts.clear();
  const grid = $('#charts');
  grid.innerHTML = '';
  for (const key of keys) state.charts.set(key, makeChart(key, grid));
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
      const { runs, data, numPoints } = chartData(key);
      if (!sameRuns(runs, chart.runs)) {
        state.chartKeys = '';
        return draw();
      }
      chart.plot.setData(data);
      applyXRange(chart);
      setChartStats(chart, runs, numPoints);
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

function scheduleDraw() {
  if (state.pending) return;
  state.pending = true;
  requestAnimationFrame(() => draw());
}

// ---- rollouts ---------------------------------------------------------------------------------

let rolloutOffset = 0;

function renderRolloutRunOptions() {
  const select = $('#rollout-filter select[name=run]');
  const current = select.value;
  select.innerHTML = state.runs.map((r) => `<option>${esc(r.name)}</option>`).join('');
  if (state.runs.some((r) => r.name === current)) select.value = current;
}

/** Response HTML with the extracted answer (its last \boxed{} or last occurrence) and the phrase marked. */
function highlight(response, extracted, phrase) {
  const marks = [];
  if (extracted) {
    const boxed = response.lastIndexOf(`\\boxed{${extracted}}`);
    const start = boxed >= 0 ? boxed + '\\boxed{'.length : response.lastIndexOf(extracted);
    if (start >= 0) marks.push([start, start + extracted.length, 'answer']);
  }
  if (phrase) {
    const lower = response.toLowerCase();
    const p = phrase.toLowerCase();
    for (let i = lower.indexOf(p); i >= 0; i = lower.indexOf(p, i + p.length)) {
      const end = i + p.length;
      if (!marks.some(([s, e]) => i < e && end > s)) marks.push([i, end, 'phrase']);
    }
  }
  marks.sort((a, b) => a[0] - b[0]);
  let html = '';
  let at = 0;
  for (const [start, end, kind] of marks) {
    html += `${esc(response.slice(at, start))}<mark class="${kind}">${esc(response.slice(start, end))}</mark>`;
    at = end;
  }
  return html + esc(response.slice(at));
}

function rolloutCard(r, phrase) {
  const rewardClass = r.reward > 0 ? 'good' : r.reward < 0 ? 'bad' : '';
  return `<article class="rollout" data-prompt-id="${esc(r.prompt_id)}">
    <div class="rollout-head">
      <span>step <b>${r.step}</b></span>
      <span class="muted">${esc(r.prompt_id)}</span>
      <span class="badge ${rewardClass}">reward ${formatNumber(r.reward)}</span>
      <span class="badge ${r.correct ? 'good' : 'bad'}">${r.correct ? '✓ correct' : '✗ wrong'}</span>
      ${r.finished ? '' : '<span class="badge warn">truncated</span>'}
      <span class="muted">${r.num_tokens} tokens</span>
    </div>
    <div class="prompt">${esc(r.prompt)}</div>
    <pre class="response">${highlight(r.response, r.extracted, phrase)}</pre>
    <div class="answers"><span>extracted <code class="answer">${r.extracted === null ? '—' : esc(r.extracted)}</code></span>
      <span>gold <code>${esc(r.gold)}</code></span></div>
  </article>`;
}

async function loadRollouts(append = false) {
  const form = $('#rollout-filter');
  const values = Object.fromEntries(new FormData(form));
  if (!values.run) return;
  rolloutOffset = append ? rolloutOffset + ROLLOUTS_PER_PAGE : 0;
  const query = new URLSearchParams();
  for (const name of ['step', 'correct', 'truncated', 'minReward', 'maxReward', 'phrase']) {
    if (values[name] !== '') query.set(name, values[name]);
  }
  query.set('offset', String(rolloutOffset));
  query.set('limit', String(ROLLOUTS_PER_PAGE));
  const list = $('#rollouts');
  let body;
  try {
    body = await getJson(`/api/runs/${encodeURIComponent(values.run)}/rollouts?${query}`);
  } catch (err) {
    $('#rollout-count').textContent = err.message;
    list.innerHTML = '';
    return;
  }
  const stepSelect = form.querySelector('select[name=step]');
  const step = stepSelect.value;
  stepSelect.innerHTML = `<option value="">all</option>${body.steps.map((s) => `<option>${s}</option>`).join('')}`;
  stepSelect.value = step;
  const html = body.rollouts.map((r) => rolloutCard(r, values.phrase)).join('');
  if (append) list.insertAdjacentHTML('beforeend', html);
  else list.innerHTML = html;
  const shown = list.children.length;
  const count = $('#rollout-count');
  count.dataset.total = String(body.total);
  count.textContent = body.steps.length
    ? `${body.total} rollout${body.total === 1 ? '' : 's'} match${body.total === 1 ? 'es' : ''} (showing ${shown})${
        body.numMalformed ? ` · ${body.numMalformed} malformed lines skipped` : ''
      }`
    : 'This run has no rollouts yet.';
  $('#more-rollouts').hidden = shown >= body.total;
}

// ---- evals ------------------------------------------------------------------------------------

function table(header, rows) {
  return `<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map(
      (row) =>
        `<tr>${row.map((c, i) => (i === 0 ? `<th>${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join('')}</tr>`,
    )
    .join('')}</tbody></table>`;
}

const isPlainObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A summary.json as tables: {benchmarks: {name: {metric: v}}} (or any object of objects) by rows, scalars as a list. */
function summaryHtml(summary) {
  if (!isPlainObject(summary)) return `<pre>${esc(JSON.stringify(summary, null, 2))}</pre>`;
  const nested = isPlainObject(summary.benchmarks) ? summary.benchmarks : summary;
  const rowNames = Object.keys(nested).filter((k) => isPlainObject(nested[k]));
  const rows = rowNames.map((k) => [k, nested[k]]);
  if (isPlainObject(summary.average) && nested !== summary) rows.push(['average', summary.average]);
  const columns = [...new Set(rows.flatMap(([, v]) => Object.keys(v).filter((c) => !isPlainObject(v[c]))))];
  const scalars = Object.entries(summary).filter(([, v]) => !isPlainObject(v));
  let html = scalars.length
    ? `<p class="muted">${scalars.map(([k, v]) => `${esc(k)}: <code>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</code>`).join(' · ')}</p>`
    : '';
  if (rows.length) {
    html += table(
      ['', ...columns],
      rows.map(([name, v]) => [
        name,
        ...columns.map((c) => (typeof v[c] === 'number' ? formatNumber(v[c]) : (v[c] ?? ''))),
      ]),
    );
  }
  return html;
}

/** results.md: pipe tables become tables, other lines paragraphs. */
function markdownHtml(md) {
  const out = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line.startsWith('|')) {
      const rows = [];
      while (i < lines.length && lines[i].trim().startsWith('|')) rows.push(lines[i++].trim());
      i--;
      const cells = rows
        .filter((r) => !/^\|[\s:|-]+\|$/.test(r))
        .map((r) =>
          r
            .slice(1, r.endsWith('|') ? -1 : undefined)
            .split('|')
            .map((c) => c.trim()),
        );
      out.push(table(cells[0], cells.slice(1)));
    } else if (line.startsWith('#')) out.push(`<h4>${esc(line.replace(/^#+\s*/, ''))}</h4>`);
    else if (line) out.push(`<p>${esc(line)}</p>`);
  }
  return out.join('');
}

async function loadEvals() {
  const parts = [];
  for (const run of state.runs) {
    const { evals } = await getJson(`/api/runs/${encodeURIComponent(run.name)}/evals`);
    if (!evals.length) continue;
    parts.push(
      `<h3><span class="swatch" style="background:${runColor(run.name)}"></span>${esc(run.name)}</h3>`,
    );
    for (const e of evals) {
      parts.push(`<div class="eval" data-run="${esc(run.name)}" data-label="${esc(e.label)}"><h4>${esc(e.label)}</h4>
        ${e.error ? `<p class="warn-note">${esc(e.error)}</p>` : ''}
        ${e.summary === null ? '' : summaryHtml(e.summary)}
        ${e.resultsMd === null ? '' : `<details open><summary>results.md</summary>${markdownHtml(e.resultsMd)}</details>`}
      </div>`);
    }
  }
  $('#evals').innerHTML = parts.length
    ? parts.join('')
    : '<p class="muted">No evals yet: <code>simplerl eval</code> writes them to runs/&lt;name&gt;/eval/&lt;label&gt;/.</p>';
}

// ---- wiring -----------------------------------------------------------------------------------

function showTab(name) {
  for (const button of document.querySelectorAll('.tabs button'))
    button.classList.toggle('active', button.dataset.tab === name);
  for (const section of document.querySelectorAll('main > section'))
    section.hidden = section.id !== `tab-${name}`;
  if (name === 'rollouts') loadRollouts();
  if (name === 'evals') loadEvals();
}

function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function wire() {
  for (const button of document.querySelectorAll('.tabs button')) {
    button.addEventListener('click', () => {
      location.hash = button.dataset.tab;
    });
  }
  window.addEventListener('hashchange', () => showTab(location.hash.slice(1) || 'curves'));
  $('#smoothing').addEventListener('input', (e) => {
    state.smoothing = Number(e.target.value);
    $('#smoothing-value').textContent = state.smoothing.toFixed(2);
    scheduleDraw();
  });
  $('#metric-filter').addEventListener(
    'input',
    debounce((e) => {
      state.metricFilter = e.target.value.trim();
      scheduleDraw();
    }, 150),
  );
  const form = $('#rollout-filter');
  form.addEventListener('change', () => loadRollouts());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    loadRollouts();
  });
  form.querySelector('input[name=phrase]').addEventListener(
    'input',
    debounce(() => loadRollouts(), 250),
  );
  $('#more-rollouts').addEventListener('click', () => loadRollouts(true));
  $('#zoom-reset').addEventListener('click', () => setXRange(null));
  window.addEventListener(
    'resize',
    debounce(() => {
      const width = chartWidth();
      for (const { plot } of state.charts.values()) plot.setSize({ width, height: CHART_HEIGHT });
    }, 100),
  );
}

async function main() {
  wire();
  state.smoothing = Number($('#smoothing').value);
  await refreshRuns();
  if (location.hash.length > 1) showTab(location.hash.slice(1));
  setInterval(() => refreshRuns().catch(() => {}), 5000);
}

main();
