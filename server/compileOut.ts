// The server side of the compile-out quick fix, shared by its code actions and its plan request:
// what core/edits reads (open documents first, then the index, then the disk), the analysis of the
// folder, plans cached per analysis, and core's plain file edits turned into one versioned
// WorkspaceEdit.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CreateFile, TextDocumentEdit, TextEdit, type Location, type Position, type WorkspaceEdit } from 'vscode-languageserver/node';
import { analysisOptionsFrom, globToRegExp, type AnalysisOptions } from '../core/analysis/options';
import type { AtomicReport, AuditReport, Evidence } from '../core/analysis/report';
import { planCompileOut, type CompileOutPlan } from '../core/edits/compileOut';
import { planRemoveCompileOut, type RemoveCompileOutPlan } from '../core/edits/removeCompileOut';
import type { EditSource, FileEdit, SourceText } from '../core/edits/textEdits';
import type { CompileOutEvidence } from '../protocol/compileOut';
import type { ServerContext } from './context';

/** One request's view of a workspace folder. */
export interface FolderView {
  root: string;
  /** The file the request is about, relative to root. */
  file: string;
  report: AuditReport;
  options: AnalysisOptions;
  flagsHeader: string;
  isTestFile(file: string): boolean;
  source: MemoSource;
}

/** An EditSource that remembers what it read, so the edit is converted against the same texts. */
export interface MemoSource extends EditSource {
  read(file: string): SourceText | undefined;
}

export function toPath(uri: string): string | undefined {
  return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
}

function isUnder(file: string, root: string): boolean {
  const rel = path.relative(root, file);
  return !!rel && !rel.startsWith('..') && !path.isAbsolute(rel);
}

const rel = (root: string, p: string) => path.relative(root, p).split(path.sep).join('/');

export class CompileOutService {
  /** Plans by analysis: a new report (any file changed) starts afresh. */
  private readonly plans = new WeakMap<AuditReport, Map<string, CompileOutPlan | RemoveCompileOutPlan>>();

  constructor(private readonly ctx: ServerContext) {}

  /** The analysis of the folder holding `uri`, with open documents brought into it first. */
  async folder(uri: string): Promise<FolderView | null> {
    const file = toPath(uri);
    if (!file) return null;
    const root = this.ctx
      .workspaceFolders()
      .filter((f) => isUnder(file, f))
      .sort((a, b) => b.length - a.length)[0];
    if (!root) return null;
    await this.ctx.whenIndexed();
    // Pending (debounced) edits of open documents reach the index first, through the same path
    // as the other features, so diagnostics and hints follow too.
    await Promise.all(this.ctx.documents.all().map((d) => this.ctx.freshen(d.uri)));
    const settings = await this.ctx.settings.get(pathToFileURL(root).href);
    const options = analysisOptionsFrom(settings.analysis);
    const tests = options.ignoreReadsIn.map(globToRegExp);
    return {
      root,
      file: rel(root, file),
      report: this.ctx.index.report(options, root),
      options,
      flagsHeader: settings.compileOut.flagsHeader,
      isTestFile: (f) => tests.some((t) => t.test(f)),
      source: this.source(root),
    };
  }

  /** The write site at (or on the line of) a position; the one whose columns hold it first. */
  siteAt(view: FolderView, position: Position): AtomicReport | undefined {
    const line = position.line + 1;
    const onLine = view.report.atomics.filter((a) => a.file === view.file && a.line <= line && line <= a.endLine);
    const col = position.character + 1;
    return onLine.find((a) => (a.line < line || a.column <= col) && (a.endLine > line || col <= a.endColumn)) ?? onLine[0];
  }

  /** Write sites whose lines meet a range, one per family. */
  sitesIn(view: FolderView, startLine: number, endLine: number): AtomicReport[] {
    const seen = new Set<string>();
    return view.report.atomics.filter((a) => {
      if (a.file !== view.file || a.endLine < startLine + 1 || a.line > endLine + 1 || seen.has(a.family)) return false;
      seen.add(a.family);
      return true;
    });
  }

  plan(view: FolderView, family: string, flag?: string, validateOnly = false): CompileOutPlan {
    return this.cached(view, `c\0${family}\0${flag ?? ''}\0${validateOnly}\0${view.flagsHeader}`, () =>
      planCompileOut({ parser: this.ctx.parser, source: view.source, report: view.report, family, flag, validateOnly, flagsHeader: view.flagsHeader, isTestFile: view.isTestFile }),
    );
  }

  removal(view: FolderView, line: number, scope: 'site' | 'flag'): RemoveCompileOutPlan {
    return this.cached(view, `r\0${view.file}\0${line}\0${scope}`, () => planRemoveCompileOut({ parser: this.ctx.parser, source: view.source, file: view.file, line, scope }));
  }

  /**
   * Core's file edits as one WorkspaceEdit: TextDocumentEdits with the open document's version
   * (null for a closed file) when the client takes documentChanges, else plain `changes`.
   */
  workspaceEdit(view: FolderView, edits: readonly FileEdit[]): WorkspaceEdit | { error: string } {
    const we = this.ctx.clientCapabilities.workspace?.workspaceEdit;
    const versioned = !!we?.documentChanges;
    if (edits.some((e) => e.create) && !(versioned && we?.resourceOperations?.includes('create'))) {
      return { error: `the client cannot create files: create ${edits.find((e) => e.create)!.file} first, or point allocLens.compileOut.flagsHeader at an existing header` };
    }
    const documentChanges: (TextDocumentEdit | CreateFile)[] = [];
    const changes: Record<string, TextEdit[]> = {};
    for (const fe of edits) {
      const uri = this.uriOf(view.root, fe.file);
      const text = fe.create ? '' : (view.source.read(fe.file)?.text ?? '');
      const doc = TextDocument.create(uri, 'c', 0, text);
      const lsp = fe.edits.map((e) => TextEdit.replace({ start: doc.positionAt(e.start), end: doc.positionAt(e.end) }, e.newText));
      if (versioned) {
        if (fe.create) documentChanges.push(CreateFile.create(uri, { ignoreIfExists: true }));
        documentChanges.push(TextDocumentEdit.create({ uri, version: fe.create ? null : fe.version }, lsp));
      } else changes[uri] = lsp;
    }
    return versioned ? { documentChanges } : { changes };
  }

  location(view: FolderView, s: { file: string; line: number; column?: number }): Location {
    const position = { line: s.line - 1, character: Math.max((s.column ?? 1) - 1, 0) };
    return { uri: this.uriOf(view.root, s.file), range: { start: position, end: position } };
  }

  evidence(view: FolderView, e: Evidence): CompileOutEvidence {
    return { location: this.location(view, e), kind: e.kind, function: e.function ?? null, text: e.text };
  }

  uriOf(root: string, file: string): string {
    const abs = path.join(root, file);
    return this.openUris().get(abs) ?? pathToFileURL(abs).href;
  }

  private cached<T extends CompileOutPlan | RemoveCompileOutPlan>(view: FolderView, key: string, make: () => T): T {
    let m = this.plans.get(view.report);
    if (!m) this.plans.set(view.report, (m = new Map()));
    let p = m.get(key) as T | undefined;
    if (!p) m.set(key, (p = make()));
    return p;
  }

  /** Open documents by path, with the URI the client spelled. */
  private openUris(): Map<string, string> {
    const out = new Map<string, string>();
    for (const d of this.ctx.documents.all()) {
      const p = toPath(d.uri);
      if (p) out.set(p, d.uri);
    }
    return out;
  }

  /** The index follows edits after a debounce: bring it up to the documents before planning. */
  /** Open documents first (their version), then the index's text, then the disk; each read once. */
  private source(root: string): MemoSource {
    const { index, documents } = this.ctx;
    const seen = new Map<string, SourceText | undefined>();
    let files: string[] | undefined;
    const open = new Map<string, { text: string; version: number }>();
    for (const d of documents.all()) {
      const p = toPath(d.uri);
      if (p) open.set(p, { text: d.getText(), version: d.version });
    }
    return {
      files: () => (files ??= index.summary().perFile.map((f) => f.path).filter((p) => isUnder(p, root)).map((p) => rel(root, p))),
      read: (file) => {
        if (seen.has(file)) return seen.get(file);
        const abs = path.join(root, file);
        const indexed = index.source(abs);
        const doc = open.get(abs);
        let src: SourceText | undefined;
        if (doc) src = { text: doc.text, version: doc.version, pp: indexed?.text === doc.text ? indexed.pp : undefined };
        else if (indexed) src = { text: indexed.text, version: null, pp: indexed.pp };
        else {
          try {
            src = { text: readFileSync(abs, 'utf8'), version: null };
          } catch {
            src = undefined;
          }
        }
        seen.set(file, src);
        return src;
      },
    };
  }
}
