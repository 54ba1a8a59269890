import { type AdvantageInput, type AdvantageOutput, GRPO_EPS, WHITEN_EPS } from './types.ts';

/**
 * Loop references of the estimators, written the slow, obvious way over per-response arrays
 * (GAE and the returns as explicit sums over the future, groups collected by prompt index as in
 * verl's id2score), so that a test can check the flat single-pass versions against them.
 */

interface Rows {
  rewards: number[][];
  values: number[][];
  masks: number[][];
  prompt: number[];
}

function toRows(input: AdvantageInput): Rows {
  const off = input.responseOffsets;
  const rows: Rows = { rewards: [], values: [], masks: [], prompt: [] };
  for (let b = 0; b + 1 < off.length; b++) {
    const range = [...Array(off[b + 1] - off[b]).keys()].map((k) => off[b] + k);
    rows.rewards.push(range.map((t) => input.tokenRewards[t]));
    rows.values.push(range.map((t) => input.values?.[t] ?? 0));
    rows.masks.push(range.map((t) => (input.mask === undefined ? 1 : input.mask[t] ? 1 : 0)));
    rows.prompt.push(Math.floor(b / input.groupSize));
  }
  return rows;
}

function flatten(rows: number[][]): Float32Array {
  return Float32Array.from(rows.flat());
}

function whitenRows(rows: number[][], masks: number[][]): number[][] {
  const counted = rows.flatMap((row, b) => row.filter((_, t) => masks[b][t] === 1));
  const mean = counted.reduce((a, x) => a + x, 0) / Math.max(1, counted.length);
  const variance =
    counted.length > 1 ? counted.reduce((a, x) => a + (x - mean) * (x - mean), 0) / (counted.length - 1) : 0;
  return rows.map((row, b) =>
    row.map((x, t) => (masks[b][t] ? (x - mean) / Math.sqrt(variance + WHITEN_EPS) : 0)),
  );
}

function gaeReference(input: AdvantageInput): AdvantageOutput {
  const { rewards, values, masks } = toRows(input);
  const gamma = input.gamma ?? 1;
  const lambda = input.lambda ?? 0.95;
  const adv: number[][] = [];
  const ret: number[][] = [];
  for (let b = 0; b < rewards.length; b++) {
    // A_t = Σ_l (γλ)^l δ_{t_l} over the counted tokens t_0 = t < t_1 < ... of the response.
    const counted = masks[b].map((m, t) => (m ? t : -1)).filter((t) => t >= 0);
    const delta = counted.map((t, i) => {
      const next = i + 1 < counted.length ? values[b][counted[i + 1]] : 0;
      return rewards[b][t] + gamma * next - values[b][t];
    });
    const a = new Array(rewards[b].length).fill(0);
    const r = new Array(rewards[b].length).fill(0);
    counted.forEach((t, i) => {
      let sum = 0;
      for (let l = 0; i + l < counted.length; l++) sum += (gamma * lambda) ** l * delta[i + l];
      a[t] = sum;
      r[t] = sum + values[b][t];
    });
    adv.push(a);
    ret.push(r);
  }
  return {
    advantages: flatten((input.whiten ?? true) ? whitenRows(adv, masks) : adv),
    returns: flatten(ret),
  };
}

function groupReference(input: AdvantageInput, kind: 'grpo' | 'grpo-no-std' | 'rloo'): AdvantageOutput {
  const { rewards, masks, prompt } = toRows(input);
  const scores = rewards.map((row) => row.reduce((a, x) => a + x, 0));
  const byPrompt = new Map<number, number[]>();
  scores.forEach((s, b) => {
    byPrompt.set(prompt[b], [...(byPrompt.get(prompt[b]) ?? []), s]);
  });
  const perRow = scores.map((s, b) => {
    const group = byPrompt.get(prompt[b]) as number[];
    const n = group.length;
    if (kind === 'rloo') {
      if (n === 1) return s;
      const others = group.filter((_, j) => j !== b % n);
      return s - others.reduce((a, x) => a + x, 0) / others.length;
    }
    const mean = n === 1 ? 0 : group.reduce((a, x) => a + x, 0) / n;
    const std = n === 1 ? 1 : Math.sqrt(group.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
    return kind === 'grpo' ? (s - mean) / (std + GRPO_EPS) : s - mean;
  });
  const adv = rewards.map((row, b) => row.map((_, t) => perRow[b] * masks[b][t]));
  return { advantages: flatten(adv), returns: flatten(adv) };
}

function reinforcePlusPlusReference(input: AdvantageInput): AdvantageOutput {
  const { rewards, masks } = toRows(input);
  const gamma = input.gamma ?? 1;
  // G_t = Σ_{l ≥ 0} γ^l r_{t+l}
  const g = rewards.map((row) => row.map((_, t) => row.slice(t).reduce((a, x, l) => a + gamma ** l * x, 0)));
  return { advantages: flatten(whitenRows(g, masks)), returns: flatten(g) };
}

export const REFERENCE_ESTIMATORS: Record<string, (input: AdvantageInput) => AdvantageOutput> = {
  gae: gaeReference,
  grpo: (input) => groupReference(input, 'grpo'),
  'grpo-no-std': (input) => groupReference(input, 'grpo-no-std'),
  rloo: (input) => groupReference(input, 'rloo'),
  'reinforce++': reinforcePlusPlusReference,
};
