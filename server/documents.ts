import type { Tree } from 'web-tree-sitter';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Connection, TextDocumentContentChangeEvent } from 'vscode-languageserver/node';
import { Emitter, type Event } from 'vscode-languageserver/node';
import type { CParser } from '../core/parsing/cParser';

const C_LANGUAGES = new Set(['c', 'cpp', 'cuda-cpp', 'objective-c']);

interface Entry {
  document: TextDocument;
  /** The tree of `treeVersion`; when older than the document it has already been `edit()`ed. */
  tree?: Tree;
  treeVersion: number;
}

/**
 * Open C documents and their syntax trees, keyed by (uri, version). Edits are applied to the
 * old tree (`tree.edit`) and the reparse happens lazily, so a burst of keystrokes costs one
 * incremental parse; evicted trees are `delete()`d because they live in wasm memory.
 */
export class DocumentStore {
  private readonly entries = new Map<string, Entry>();
  private readonly changed = new Emitter<TextDocument>();
  private readonly closed = new Emitter<string>();
  readonly onDidChange: Event<TextDocument> = this.changed.event;
  readonly onDidClose: Event<string> = this.closed.event;

  constructor(private readonly parser: CParser) {}

  listen(connection: Connection): void {
    connection.onDidOpenTextDocument(({ textDocument: d }) => {
      if (!C_LANGUAGES.has(d.languageId)) return;
      this.evict(d.uri);
      const document = TextDocument.create(d.uri, d.languageId, d.version, d.text);
      this.entries.set(d.uri, { document, treeVersion: -1 });
      this.changed.fire(document);
    });
    connection.onDidChangeTextDocument(({ textDocument, contentChanges }) => {
      const entry = this.entries.get(textDocument.uri);
      if (!entry) return;
      for (const change of contentChanges) this.applyChange(entry, change);
      entry.document = TextDocument.update(entry.document, [], textDocument.version);
      this.changed.fire(entry.document);
    });
    connection.onDidCloseTextDocument(({ textDocument }) => {
      if (this.evict(textDocument.uri)) this.closed.fire(textDocument.uri);
    });
  }

  get(uri: string): TextDocument | undefined {
    return this.entries.get(uri)?.document;
  }

  all(): TextDocument[] {
    return [...this.entries.values()].map((e) => e.document);
  }

  /** The tree for the document's current version (reparsed incrementally when stale). */
  tree(uri: string): Tree | undefined {
    const entry = this.entries.get(uri);
    if (!entry) return undefined;
    if (!entry.tree || entry.treeVersion !== entry.document.version) {
      const old = entry.tree;
      entry.tree = this.parser.parse(entry.document.getText(), old);
      entry.treeVersion = entry.document.version;
      old?.delete();
    }
    return entry.tree;
  }

  dispose(): void {
    for (const uri of [...this.entries.keys()]) this.evict(uri);
  }

  private applyChange(entry: Entry, change: TextDocumentContentChangeEvent): void {
    const before = entry.document;
    if (!('range' in change)) {
      entry.tree?.delete();
      entry.tree = undefined;
      entry.document = TextDocument.create(before.uri, before.languageId, before.version, change.text);
      return;
    }
    const startIndex = before.offsetAt(change.range.start);
    const oldEndIndex = before.offsetAt(change.range.end);
    const oldEnd = before.positionAt(oldEndIndex);
    const start = before.positionAt(startIndex);
    const after = TextDocument.update(before, [change], before.version);
    const newEndIndex = startIndex + change.text.length;
    const newEnd = after.positionAt(newEndIndex);
    // Tree-sitter columns are UTF-16 units here, like LSP positions.
    entry.tree?.edit({
      startIndex,
      oldEndIndex,
      newEndIndex,
      startPosition: { row: start.line, column: start.character },
      oldEndPosition: { row: oldEnd.line, column: oldEnd.character },
      newEndPosition: { row: newEnd.line, column: newEnd.character },
    });
    entry.document = after;
  }

  private evict(uri: string): boolean {
    const entry = this.entries.get(uri);
    if (!entry) return false;
    entry.tree?.delete();
    this.entries.delete(uri);
    return true;
  }
}
