// Core reports count lines and columns from 1. Their columns are UTF-16 code units: facts come
// from tree-sitter indices into the JS string (UTF-16, not UTF-8 bytes) and the preprocessor
// counts string indices too. LSP positions are 0-based UTF-16 (the default position encoding,
// and the only one this server offers), so the conversion is a shift plus clamping to the
// document, never a byte-to-character translation.
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Location, Position, Range } from 'vscode-languageserver/node';
import type { SourceRef } from '../core/analysis/report';

/** A 1-based line and optional 1-based column as an LSP position, clamped to `doc` when given. */
export function toPosition(line: number, column = 1, doc?: TextDocument): Position {
  const pos = { line: Math.max(0, line - 1), character: Math.max(0, column - 1) };
  return doc ? clamp(doc, pos) : pos;
}

/** An LSP position as the 1-based line and column core uses. */
export function fromPosition(pos: Position): { line: number; column: number } {
  return { line: pos.line + 1, column: pos.character + 1 };
}

/** Keeps a position inside the document (a client may send one past the end). */
export function clamp(doc: TextDocument, pos: Position): Position {
  return doc.positionAt(doc.offsetAt(pos));
}

/** The text of a 0-based line, without its line break ('' past the end). */
export function lineText(doc: TextDocument, line: number): string {
  if (line < 0 || line >= doc.lineCount) return '';
  return doc.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } }).replace(/\r?\n$/, '');
}

/**
 * The range of a 1-based line. With the document: from its first non-blank character to its end;
 * without: the whole line up to the start of the next one (clients clamp it to the text).
 */
export function lineRange(line: number, doc?: TextDocument): Range {
  const l = Math.max(0, line - 1);
  if (!doc) return { start: { line: l, character: 0 }, end: { line: l + 1, character: 0 } };
  const text = lineText(doc, l);
  const first = text.search(/\S/);
  return { start: { line: l, character: first < 0 ? 0 : first }, end: { line: l, character: text.length } };
}

/** A reference with an optional end (1-based, end exclusive) as an LSP range. */
export function toRange(ref: { line: number; column?: number; endLine?: number; endColumn?: number }, doc?: TextDocument): Range {
  if (ref.column === undefined) return lineRange(ref.line, doc);
  const start = toPosition(ref.line, ref.column, doc);
  const end = ref.endLine !== undefined && ref.endColumn !== undefined ? toPosition(ref.endLine, ref.endColumn, doc) : start;
  return { start, end };
}

/** The range of `word` on a 1-based line (its first whole-word match), or the line's range. */
export function wordRange(line: number, word: string, doc?: TextDocument): Range {
  if (!doc || !word) return lineRange(line, doc);
  const text = lineText(doc, line - 1);
  const m = new RegExp(`\\b${word.replace(/[^\w]/g, '')}\\b`).exec(text);
  if (!m) return lineRange(line, doc);
  return { start: { line: line - 1, character: m.index }, end: { line: line - 1, character: m.index + word.length } };
}

/** The identifier at a position and its range, or undefined. */
export function wordAt(doc: TextDocument, pos: Position): { word: string; range: Range } | undefined {
  const p = clamp(doc, pos);
  const text = lineText(doc, p.line);
  const re = /[A-Za-z_][A-Za-z0-9_]*/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (p.character >= m.index && p.character <= m.index + m[0].length) {
      return { word: m[0], range: { start: { line: p.line, character: m.index }, end: { line: p.line, character: m.index + m[0].length } } };
    }
    if (m.index > p.character) break;
  }
  return undefined;
}

/** Whether a position lies in a range (ends inclusive, as a cursor right after a word still hovers it). */
export function contains(range: Range, pos: Position): boolean {
  const before = (a: Position, b: Position) => a.line < b.line || (a.line === b.line && a.character <= b.character);
  return before(range.start, pos) && before(pos, range.end);
}

export function fileUri(root: string, file: string): string {
  return pathToFileURL(path.resolve(root, file)).href;
}

/** A report reference (path relative to `root`) as an LSP location. */
export function toLocation(root: string, ref: SourceRef & { endLine?: number; endColumn?: number }, doc?: TextDocument): Location {
  return { uri: fileUri(root, ref.file), range: toRange(ref, doc) };
}

/** A `file:` link to a report reference for Markdown (VS Code opens `#L<line>,<column>`). */
export function markdownLink(root: string, ref: SourceRef): string {
  return `${fileUri(root, ref.file)}#L${ref.line}${ref.column ? `,${ref.column}` : ''}`;
}
