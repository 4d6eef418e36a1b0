// Messages between the A/B results page (media/ab) and the extension host
// (src/panels/abPanel.ts). Both sides import these types; nothing else crosses.
import type { compoundedTotals, ExperimentEvent, ExperimentResult, HistoryEntry } from '../core/ab';

export type { CellResult, ExperimentEvent, ExperimentResult, HistoryEntry, Sample, Verdict, Warning } from '../core/ab';

/** The folder's cumulative table (the seeds' phases) and its compounded total per metric. */
export interface HistoryTable {
  entries: HistoryEntry[];
  totals: ReturnType<typeof compoundedTotals>;
}

export type ExportFormat = 'markdown' | 'csv';

export type HostToPage =
  /** A finished (or cancelled, or failed) experiment, read from the results store. */
  | { type: 'result'; result: ExperimentResult }
  /** One event of the experiment that is running now, as the engine emits it. */
  | { type: 'event'; event: ExperimentEvent }
  | { type: 'history'; history: HistoryTable }
  /** Nothing to show yet: no experiment has run in this folder. */
  | { type: 'empty'; folder: string }
  | { type: 'error'; message: string };

export type PageToHost =
  /** The page is loaded; `resultId` is the result it showed before a reload, if any. */
  | { type: 'ready'; resultId?: string }
  | { type: 'export'; format: ExportFormat; resultId: string }
  | { type: 'rerun' }
  | { type: 'cancel' };

/**
 * What the page persists with `setState`: enough to redraw at once after a reload, and the id
 * the host re-reads from the results store (raw stderr tails are dropped to keep it small).
 */
export interface AbPageState {
  result?: ExperimentResult;
  history?: HistoryTable;
}
