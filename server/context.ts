import type { ClientCapabilities, Connection } from 'vscode-languageserver/node';
import type { WorkspaceIndex } from '../core/index/workspaceIndex';
import type { CParser } from '../core/parsing/cParser';
import type { DocumentStore } from './documents';
import type { SettingsCache } from './settings';

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
}
