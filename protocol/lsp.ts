// Custom LSP messages between the extension client and the Alloc Lens server.
// One namespace per message: `method` + `type`, as in vscode-eslint and rust-analyzer.
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type { AuditReport } from '../core/analysis/report';
import type { IndexSummary } from '../core/index/workspaceIndex';

export type { IndexSummary, IndexedFile } from '../core/index/workspaceIndex';
export type * from '../core/analysis/report';

/** Index state pushed by the server whenever a run starts, finishes or fails. */
export interface IndexState {
  state: 'indexing' | 'ready' | 'failed';
  files: number;
  atomicCalls: number;
  getenvCalls: number;
  message?: string;
}

/** The current workspace summary (waits for a running index pass to finish). */
export namespace WorkspaceSummaryRequest {
  export const method = 'allocLens/workspaceSummary' as const;
  export const type = new RequestType0<IndexSummary, void>(method);
}

export namespace IndexStateNotification {
  export const method = 'allocLens/indexState' as const;
  export const type = new NotificationType<IndexState>(method);
}

/** Reindexes every workspace folder from disk. */
export namespace ReindexRequest {
  export const method = 'allocLens/reindex' as const;
  export const type = new RequestType0<IndexSummary, void>(method);
}

/** The analysis of one workspace folder (`folder` is its URI; the first folder when omitted). */
export interface AuditParams {
  folder?: string;
}

export namespace AuditRequest {
  export const method = 'allocLens/audit' as const;
  export const type = new RequestType<AuditParams, AuditReport, void>(method);
}
