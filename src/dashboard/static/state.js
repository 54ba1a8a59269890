// What the page holds: runs, their metrics, charts and view settings; one object shared by the modules.

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
export const state = {
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

export function runColor(name) {
  const index = state.runs.findIndex((r) => r.name === name);
  return PALETTE[Math.max(index, 0) % PALETTE.length];
}
