import type { CancellationToken, ClientCapabilities, Connection, Event } from 'vscode-languageserver/node';
import type { WorkspaceIndex } from '../core/index/workspaceIndex';
import type { CParser } from '../core/parsing/cParser';
import type { DocumentStore } from './documents';
import type { SettingsCache } from './settings';

/** What changed the index (or how it is read): features redo what they pushed to the client. */
export interface IndexChange {
  /** `indexed`: a full pass finished; `edited`: open documents' edits were applied; `disk`: files changed on disk; `settings`: the settings changed. */
  reason: 'indexed' | 'edited' | 'disk' | 'settings';
  /** The documents whose text changed (edited: their uris), so their pushed state is resent even when equal. */
  uris: string[];
}

/** Everything a feature needs, handed to each feature's `register(connection, ctx)`. */
export interface ServerContext {
  connection: Connection;
  clientCapabilities: ClientCapabilities;
  parser: CParser;
  documents: DocumentStore;
  settings: SettingsCache;
  index: WorkspaceIndex;
  /** Workspace folders as file-system paths; empty for a single loose file. */
  workspaceFolders(): string[];
  /** Settles when the running index pass (if any) is done; rejects if it failed. */
  whenIndexed(): Promise<unknown>;
  /** Fires after every change of the index or the settings (edits come debounced). */
  onIndexChanged: Event<IndexChange>;
  /** Only features/workspaceIndex.ts fires it. */
  fireIndexChanged(change: IndexChange): void;
  /**
   * Call before answering a request about `uri`: applies that document's pending (debounced)
   * edit now and, before the first index pass has finished, waits for it (without `uri`: only
   * that wait). Later passes are not waited for: the last complete analysis answers meanwhile.
   * False when cancelled.
   */
  freshen(uri?: string, token?: CancellationToken): Promise<boolean>;
}
