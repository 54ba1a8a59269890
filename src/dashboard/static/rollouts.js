// The rollout browser: filters → /api/runs/:name/rollouts → cards with the answer and phrase marked.
import { $, debounce, esc, formatNumber, getJson } from './util.js';

const ROLLOUTS_PER_PAGE = 50;

let rolloutOffset = 0;
/** Answers can arrive out of order while filters change: only the latest request's is shown. */
let numRolloutRequests = 0;

export function renderRolloutRunOptions(runNames) {
  const select = $('#rollout-filter select[name=run]');
  const current = select.value;
  select.innerHTML = runNames.map((name) => `<option>${esc(name)}</option>`).join('');
  if (runNames.includes(current)) select.value = current;
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

export async function loadRollouts(append = false) {
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
  const request = ++numRolloutRequests;
  let body;
  try {
    body = await getJson(`/api/runs/${encodeURIComponent(values.run)}/rollouts?${query}`);
    if (request !== numRolloutRequests) return;
  } catch (err) {
    if (request !== numRolloutRequests) return;
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

export function wireRollouts() {
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
}
