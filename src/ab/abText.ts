// Plain-text renderings of a result for notifications and the task terminal.
import type { CellResult, ExperimentResult } from '../../core/ab';

const signed = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${x >= 0 ? '+' : ''}${x.toFixed(digits)}%`);
const ci = (c: [number, number] | null) => (c ? `[${signed(c[0])}, ${signed(c[1])}]` : '—');

/** `QUILL_X: NO-GO, Δ -1.03% [-1.41%, -0.68%] after 24 pairs` (plus the status when not completed). */
export function verdictLine(r: ExperimentResult): string {
  const what = r.flag ?? r.name;
  if (r.status === 'failed') return `A/B ${what} failed: ${r.error?.message ?? 'unknown error'}`;
  const status = r.status === 'cancelled' ? ' (cancelled: partial samples kept)' : '';
  const same = r.identicalBinaries ? '; the binaries are identical' : '';
  return `A/B ${what}: ${r.verdict}, Δ ${signed(r.deltaPct)} ${ci(r.ci)} after ${r.pairs} pairs${same}${status}`;
}

/** One progress line per interim look: the headline cell so far. */
export function statsLine(cell: CellResult | undefined, pairs: number, maxPairs: number): string {
  if (!cell) return `pair ${pairs}/${maxPairs}`;
  return `pair ${pairs}/${maxPairs}  Δ ${signed(cell.deltaPct)} ${ci(cell.ci)}  p ${cell.pValue === null ? '—' : cell.pValue.toPrecision(2)}  ${cell.verdict}`;
}

/** The verdict table: one row per cell, columns padded for a terminal. */
export function verdictTable(r: ExperimentResult): string[] {
  const head = ['cell', 'Δ%', '95% CI', 'p', 'pairs', 'verdict'];
  const rows = r.cells.map((c) => [`${c.variant} vs ${c.baseline} (${c.profile})`, signed(c.deltaPct), ci(c.ci), c.pValue === null ? '—' : c.pValue.toPrecision(2), String(c.pairs), c.verdict]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)];
}
