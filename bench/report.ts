/** Plain-text output: tables and budget checks, readable in a terminal and pasteable into an issue. */

export interface Table {
  title?: string;
  headers: string[];
  rows: string[][];
  /** Per column; numbers read best right-aligned. Default: first column left, the rest right. */
  align?: ('left' | 'right')[];
}

export function renderTable(table: Table): string {
  const widths = table.headers.map((header, column) =>
    Math.max(header.length, ...table.rows.map((row) => (row[column] ?? '').length)),
  );
  const alignOf = (column: number) => table.align?.[column] ?? (column === 0 ? 'left' : 'right');
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        alignOf(column) === 'left' ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  const out = [line(table.headers), widths.map((width) => '-'.repeat(width)).join('  ')];
  for (const row of table.rows) out.push(line(row));
  return [...(table.title ? [table.title] : []), ...out].map((text) => `  ${text}`).join('\n');
}

/** A DESIGN §4 budget: `measured` must not exceed `limit`. Reported, never fatal. */
export interface Budget {
  name: string;
  measured: number;
  limit: number;
  format: (value: number) => string;
}

export const withinBudget = (budget: Budget) => budget.measured <= budget.limit;
export const verdict = (budget: Budget) => (withinBudget(budget) ? 'PASS' : 'OVER');

export function budgetTable(budgets: readonly Budget[], title?: string): Table {
  return {
    ...(title ? { title } : {}),
    headers: ['budget', 'measured', 'limit', 'result'],
    rows: budgets.map((b) => [b.name, b.format(b.measured), `≤ ${b.format(b.limit)}`, verdict(b)]),
  };
}

export const fmt = {
  ms: (value: number) => `${value.toFixed(2)} ms`,
  ratio: (value: number) => `${value.toFixed(3)}×`,
  count: (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(2)),
  kb: (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`,
};

export function heading(text: string): string {
  return `\n== ${text} ${'='.repeat(Math.max(3, 96 - text.length))}`;
}
