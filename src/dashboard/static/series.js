// Curve data without the DOM: smoothing and per-run series (the browser test imports this module too).

/** TensorBoard's debiased exponential moving average. */
export function smooth(ys, weight) {
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

/**
 * [steps, values] of one run and metric, without missing values, sorted by step. Kept per run and
 * extended by the rows that arrived since (a live update costs the new rows, not the whole run).
 */
export function seriesOf(d, key) {
  const column = d.columns.get(key);
  if (!column) return [[], []];
  let s = d.series.get(key);
  if (!s || s.upTo > column.length) {
    s = { xs: [], ys: [], upTo: 0, isSorted: true };
    d.series.set(key, s);
  }
  const { xs, ys } = s;
  for (let i = s.upTo; i < column.length; i++) {
    if (column[i] === null) continue;
    if (xs.length && d.steps[i] < xs[xs.length - 1]) s.isSorted = false;
    xs.push(d.steps[i]);
    ys.push(column[i]);
  }
  s.upTo = column.length;
  if (!s.isSorted) {
    const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
    return [order.map((i) => xs[i]), order.map((i) => ys[i])];
  }
  return [xs.slice(), ys]; // a copy: uPlot keeps it while the cached one grows
}
