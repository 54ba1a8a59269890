// Markdown rendering shared by the reports (eval results.md, analysis.md).

/** A GitHub-flavoured markdown table; cells are written as given (no escaping). */
export function markdownTable(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** A share in [0, 1] as a percentage with one decimal; '–' when there is none. */
export const pct = (x: number | null | undefined): string =>
  x === null || x === undefined ? '–' : (100 * x).toFixed(1);
