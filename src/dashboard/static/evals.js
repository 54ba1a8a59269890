// Eval tables from runs/<name>/eval/<label>/summary.json and results.md, as `simplerl eval` writes them
// (src/eval/report.ts: EvalSummary). Another summary.json shape is shown as generic tables.
import { $, esc, formatNumber, getJson, isPlainObject, table } from './util.js';

/** Scores are shares in [0, 1], shown in % as in results.md and the original work's README. */
const percent = (v) => (typeof v === 'number' ? (100 * v).toFixed(1) : '–');

/** An EvalSummary: benchmarks each with `scores` {metric: share}, `average` {metric: share}. */
function isEvalSummary(s) {
  return (
    isPlainObject(s) &&
    isPlainObject(s.benchmarks) &&
    Object.values(s.benchmarks).every((b) => isPlainObject(b) && isPlainObject(b.scores))
  );
}

function metricsOf(s) {
  if (Array.isArray(s.metrics) && s.metrics.length) return s.metrics;
  return [...new Set(Object.values(s.benchmarks).flatMap((b) => Object.keys(b.scores)))];
}

const titleOf = (s, name) => s.benchmarks[name]?.title ?? name;

function evalSummaryHtml(s) {
  const names = Object.keys(s.benchmarks);
  const metrics = metricsOf(s);
  const facts = [
    ['model', s.model],
    ['mode', s.mode],
    ['created', s.createdAt],
    ['took', typeof s.elapsedSeconds === 'number' ? `${s.elapsedSeconds.toFixed(1)} s` : undefined],
  ].filter(([, v]) => v !== undefined && v !== null);
  let html = `<p class="muted">${facts.map(([k, v]) => `${k} <code>${esc(v)}</code>`).join(' · ')}</p>`;
  html += '<div class="tables">';
  html += table(
    ['%', ...metrics],
    [
      ...names.map((n) => [titleOf(s, n), ...metrics.map((m) => percent(s.benchmarks[n].scores[m]))]),
      ...(isPlainObject(s.average) ? [['avg', ...metrics.map((m) => percent(s.average[m]))]] : []),
    ],
  );
  const withStats = names.filter((n) => isPlainObject(s.benchmarks[n].stats));
  if (withStats.length) {
    html += table(
      ['responses', 'problems', 'samples', 'mean tokens', 'truncated %', 'reflection %', 'boxed %'],
      withStats.map((n) => {
        const b = s.benchmarks[n];
        return [
          titleOf(s, n),
          b.numProblems ?? '–',
          b.stats.count ?? '–',
          typeof b.stats.meanTokens === 'number' ? b.stats.meanTokens.toFixed(0) : '–',
          percent(b.stats.truncationRate),
          percent(b.stats.reflectionRate),
          percent(b.stats.boxedRate),
        ];
      }),
    );
  }
  html += '</div>';
  const warnings = names.map((n) => s.benchmarks[n].warning).filter(Boolean);
  for (const w of warnings) html += `<p class="warn-note">${esc(w)}</p>`;
  const settings = {
    ...(isPlainObject(s.settings) ? s.settings : {}),
    ...(isPlainObject(s.versions) ? s.versions : {}),
  };
  const entries = Object.entries(settings).filter(([, v]) => v !== null && v !== undefined);
  if (entries.length) {
    html += `<details><summary>settings and versions</summary><ul class="settings">${entries
      .map(
        ([k, v]) => `<li>${esc(k)}: <code>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</code></li>`,
      )
      .join('')}</ul></details>`;
  }
  return html;
}

const cell = (v) => (typeof v === 'number' ? formatNumber(v) : typeof v === 'string' ? v : JSON.stringify(v));

/** Any other JSON object: its scalars as a line, each object in it as a table (objects of objects by rows). */
function genericSummaryHtml(summary) {
  if (!isPlainObject(summary)) return `<pre>${esc(JSON.stringify(summary, null, 2))}</pre>`;
  const scalars = Object.entries(summary).filter(([, v]) => !isPlainObject(v));
  let html = scalars.length
    ? `<p class="muted">${scalars.map(([k, v]) => `${esc(k)}: <code>${esc(cell(v))}</code>`).join(' · ')}</p>`
    : '';
  html += '<div class="tables">';
  for (const [name, value] of Object.entries(summary).filter(([, v]) => isPlainObject(v))) {
    const rows = Object.entries(value).filter(([, v]) => isPlainObject(v));
    if (rows.length) {
      const columns = [
        ...new Set(rows.flatMap(([, v]) => Object.keys(v).filter((c) => !isPlainObject(v[c])))),
      ];
      html += table(
        [name, ...columns],
        rows.map(([row, v]) => [row, ...columns.map((c) => (v[c] === undefined ? '' : cell(v[c])))]),
      );
    } else
      html += table(
        [name, ''],
        Object.entries(value).map(([k, v]) => [k, cell(v)]),
      );
  }
  return `${html}</div>`;
}

/** results.md: pipe tables become tables, headings headings, list items a list, other lines paragraphs. */
export function markdownHtml(md) {
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
    } else if (line.startsWith('- ')) {
      const items = [];
      while (i < lines.length && lines[i].trim().startsWith('- ')) items.push(lines[i++].trim().slice(2));
      i--;
      out.push(`<ul>${items.map((item) => `<li>${esc(item)}</li>`).join('')}</ul>`);
    } else if (line.startsWith('#')) out.push(`<h5>${esc(line.replace(/^#+\s*/, ''))}</h5>`);
    else if (line) out.push(`<p>${esc(line)}</p>`);
  }
  return out.join('');
}

/** A row per label, a column per benchmark: the primary metric (%) side by side. Null below 2 labels. */
function comparisonHtml(run, evals) {
  const rows = evals.filter((e) => isEvalSummary(e.summary));
  if (rows.length < 2) return null;
  const metric = rows[0].summary.primaryMetric ?? metricsOf(rows[0].summary)[0];
  const names = [...new Set(rows.flatMap((e) => Object.keys(e.summary.benchmarks)))];
  const header = [`${metric} %`, ...names.map((n) => titleOf(rows[0].summary, n)), 'avg'];
  const cells = rows.map((e) => [
    e.label,
    ...names.map((n) => percent(e.summary.benchmarks[n]?.scores[metric])),
    percent(e.summary.average?.[metric]),
  ]);
  return `<div class="eval compare" data-run="${esc(run)}"><h4>${esc(metric)} by label</h4>${table(header, cells)}</div>`;
}

function evalHtml(run, e) {
  const summary =
    e.summary === null
      ? ''
      : isEvalSummary(e.summary)
        ? evalSummaryHtml(e.summary)
        : genericSummaryHtml(e.summary);
  return `<div class="eval" data-run="${esc(run)}" data-label="${esc(e.label)}"><h4>${esc(e.label)}</h4>
    ${e.error ? `<p class="warn-note">${esc(e.error)}</p>` : ''}
    ${summary}
    ${e.resultsMd === null ? '' : `<details class="results-md"${e.summary === null ? ' open' : ''}><summary>results.md</summary>${markdownHtml(e.resultsMd)}</details>`}
  </div>`;
}

export async function loadEvals(runNames, runColor) {
  const parts = [];
  for (const run of runNames) {
    const { evals } = await getJson(`/api/runs/${encodeURIComponent(run)}/evals`);
    if (!evals.length) continue;
    parts.push(`<h3><span class="swatch" style="background:${runColor(run)}"></span>${esc(run)}</h3>`);
    const comparison = comparisonHtml(run, evals);
    if (comparison) parts.push(comparison);
    for (const e of evals) parts.push(evalHtml(run, e));
  }
  $('#evals').innerHTML = parts.length
    ? parts.join('')
    : '<p class="muted">No evals yet: <code>simplerl eval</code> writes them to runs/&lt;name&gt;/eval/&lt;label&gt;/.</p>';
}
