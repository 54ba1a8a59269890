/**
 * Per-problem metrics over n samples, and their means over a benchmark.
 *
 * - pass@1: c / n (the unbiased pass@k below at k = 1; with greedy decoding n = 1).
 * - avg@k: mean correctness of the first k samples (the v1 "AIME24 avg@32").
 * - pass@k: unbiased estimator of Chen et al. 2021 ("Evaluating Large Language Models Trained on
 *   Code", arXiv:2107.03374): 1 - C(n-c, k) / C(n, k), computed as 1 - Π_{i=n-c+1..n} (1 - k/i) so
 *   no binomial coefficient (which overflows for n in the hundreds) is ever formed.
 * - maj@k: majority vote over the extracted answers of the first k samples, with answers clustered by
 *   an equivalence function (the verifier's `answersEquivalent`, so `0.5` and `\frac{1}{2}` vote
 *   together). See majorityVote for the clustering and tie-breaking rules.
 */

export const METRICS_ERROR = 'metrics:';

function checkCounts(n: number, c: number, k: number): void {
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${METRICS_ERROR} number of samples n must be an integer >= 1, got ${n}`);
  if (!Number.isInteger(c) || c < 0 || c > n) {
    throw new Error(`${METRICS_ERROR} number correct c must be an integer in [0, n=${n}], got ${c}`);
  }
  if (!Number.isInteger(k) || k < 1) throw new Error(`${METRICS_ERROR} k must be an integer >= 1, got ${k}`);
  if (k > n) {
    throw new Error(
      `${METRICS_ERROR} k=${k} is larger than the number of samples n=${n}: @${k} metrics need at least ${k} samples per problem (generate with --n ${k} or more)`,
    );
  }
}

/** Unbiased pass@k for one problem with n samples of which c are correct. */
export function passAtK(n: number, c: number, k: number): number {
  checkCounts(n, c, k);
  if (n - c < k) return 1;
  if (k === 1) return c / n; // exact; the product below gives 1 - (1 - 1/3) = 0.33333333333333326
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}

/** Mean correctness of the first k verdicts (k defaults to all of them). */
export function avgAtK(verdicts: readonly boolean[], k: number = verdicts.length): number {
  checkCounts(verdicts.length, 0, k);
  let c = 0;
  for (let i = 0; i < k; i++) if (verdicts[i]) c++;
  return c / k;
}

export type Equivalence = (a: string, b: string) => boolean;

export interface MajorityVote {
  /** The winning answer (the first-seen member of the winning cluster); null when no sample has an answer. */
  answer: string | null;
  /** The verdict of that first-seen member; false when there is no answer. */
  correct: boolean;
  /** Votes of the winning cluster. */
  votes: number;
  /** Number of clusters (distinct answers up to equivalence). */
  numClusters: number;
  /** True when another cluster had as many votes as the winner (the tie-break decided). */
  isTie: boolean;
}

/**
 * maj@k over the first k samples.
 *
 * Clustering: samples are taken in order; a sample without an extracted answer (null or empty after
 * trimming) does not vote. Each answer joins the first existing cluster whose first-seen answer is
 * equivalent to it (`equivalent(representative, answer)`); otherwise it opens a new cluster. Comparing
 * against the representative only keeps the result independent of a non-transitive equivalence's
 * chain effects and costs at most k × clusters calls.
 *
 * Tie-breaking: among clusters with the most votes, the one whose first member appeared earliest
 * wins (sample order, so the result is deterministic and does not depend on the equivalence's
 * argument order). `isTie` reports that the tie-break decided.
 */
export function majorityVote(
  answers: readonly (string | null | undefined)[],
  verdicts: readonly boolean[],
  k: number = answers.length,
  equivalent: Equivalence = (a, b) => a === b,
): MajorityVote {
  if (answers.length !== verdicts.length) {
    throw new Error(`${METRICS_ERROR} ${answers.length} answers but ${verdicts.length} verdicts`);
  }
  checkCounts(answers.length, 0, k);
  const clusters: { answer: string; correct: boolean; votes: number }[] = [];
  for (let i = 0; i < k; i++) {
    const answer = answers[i];
    if (answer === null || answer === undefined || answer.trim() === '') continue;
    const cluster = clusters.find((cl) => cl.answer === answer || equivalent(cl.answer, answer));
    if (cluster) cluster.votes++;
    else clusters.push({ answer, correct: verdicts[i], votes: 1 });
  }
  if (clusters.length === 0) return { answer: null, correct: false, votes: 0, numClusters: 0, isTie: false };
  let best = clusters[0];
  for (const cl of clusters) if (cl.votes > best.votes) best = cl;
  const isTie = clusters.some((cl) => cl !== best && cl.votes === best.votes);
  return {
    answer: best.answer,
    correct: best.correct,
    votes: best.votes,
    numClusters: clusters.length,
    isTie,
  };
}

export interface ProblemSamples {
  /** Extracted answer of each sample (null when none). */
  answers: readonly (string | null | undefined)[];
  verdicts: readonly boolean[];
}

export interface ProblemMetrics {
  n: number;
  numCorrect: number;
  /** Keys like "pass@1", "pass@4", "avg@8", "maj@8". */
  [metric: string]: number;
}

/** Parses metric names such as `pass@1`, `avg@32`, `maj@8`, and rejects anything else. */
export function parseMetricName(name: string): { kind: 'pass' | 'avg' | 'maj'; k: number } {
  const m = /^(pass|avg|maj)@([1-9][0-9]*)$/.exec(name.trim());
  if (!m)
    throw new Error(
      `${METRICS_ERROR} unknown metric ${JSON.stringify(name)}: expected pass@K, avg@K or maj@K`,
    );
  return { kind: m[1] as 'pass' | 'avg' | 'maj', k: Number(m[2]) };
}

/** The default metrics for n samples: pass@1, and with n > 1 also avg@n, maj@n and pass@k for k = 2, 4, 8, … < n and k = n. */
export function defaultMetricNames(n: number): string[] {
  const names = ['pass@1'];
  if (n > 1) {
    for (let k = 2; k < n; k *= 2) names.push(`pass@${k}`);
    names.push(`pass@${n}`, `avg@${n}`, `maj@${n}`);
  }
  return names;
}

/** Computes the named metrics (1 = correct, 0 = wrong for maj@k) for one problem. */
export function problemMetrics(
  samples: ProblemSamples,
  metricNames: readonly string[],
  equivalent?: Equivalence,
): ProblemMetrics {
  const n = samples.verdicts.length;
  const c = samples.verdicts.filter(Boolean).length;
  const out: ProblemMetrics = { n, numCorrect: c };
  for (const name of metricNames) {
    const { kind, k } = parseMetricName(name);
    if (kind === 'pass') out[name] = passAtK(n, c, k);
    else if (kind === 'avg') out[name] = avgAtK(samples.verdicts, k);
    else out[name] = majorityVote(samples.answers, samples.verdicts, k, equivalent).correct ? 1 : 0;
  }
  return out;
}

/** Mean of each metric over problems (the benchmark score, a share in [0, 1]). */
export function meanMetrics(
  problems: readonly Record<string, number>[],
  metricNames: readonly string[],
): Record<string, number> {
  const out: Record<string, number> = {};
  if (problems.length === 0) throw new Error(`${METRICS_ERROR} no problems to average`);
  for (const name of metricNames) {
    let sum = 0;
    for (const p of problems) sum += p[name];
    out[name] = sum / problems.length;
  }
  return out;
}
