// The dashboard page: curves (uPlot, live over Server-Sent Events), a rollout browser and eval tables.
// Plain browser JavaScript served as is (no build step); every number it shows comes from /api/....
import { CHART_HEIGHT, chartWidth, scheduleDraw, setXRange } from './curves.js';
import { loadEvals } from './evals.js';
import { loadRollouts, renderRolloutRunOptions, wireRollouts } from './rollouts.js';
import { runColor, state } from './state.js';
import { $, debounce, esc, getJson } from './util.js';

const MAX_AUTO_SELECTED = 6;

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
  renderRolloutRunOptions(runs.map((r) => r.name));
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
  if (from < d.steps.length) d.series.clear();
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
  const d = {
    steps: [],
    columns: new Map(),
    series: new Map(),
    numMalformed: 0,
    malformed: [],
    generation: 0,
    source: null,
  };
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
    d.series.clear();
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

// ---- wiring -----------------------------------------------------------------------------------

function showTab(name) {
  for (const button of document.querySelectorAll('.tabs button'))
    button.classList.toggle('active', button.dataset.tab === name);
  for (const section of document.querySelectorAll('main > section'))
    section.hidden = section.id !== `tab-${name}`;
  if (name === 'rollouts') loadRollouts();
  if (name === 'evals')
    loadEvals(
      state.runs.map((r) => r.name),
      runColor,
    );
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
  wireRollouts();
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
