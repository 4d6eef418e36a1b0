// Messages between the Overview webview page (media/overview) and the extension host
// (src/panels/overviewPanel.ts). Both sides import these types; nothing else crosses.
import type { IndexState, IndexSummary } from './lsp';

export type HostToPage =
  | { type: 'summary'; summary: IndexSummary }
  | { type: 'state'; state: IndexState }
  | { type: 'error'; message: string };

export type PageToHost =
  | { type: 'ready' }
  | { type: 'refresh' }
  | { type: 'openFile'; path: string; line?: number };

/** What the page persists with `setState`, so a reloaded or revived panel redraws at once. */
export interface OverviewPageState {
  summary?: IndexSummary;
}
