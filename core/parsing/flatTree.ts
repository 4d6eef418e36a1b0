// A parsed tree copied out of web-tree-sitter into flat arrays, so the analysis can walk it in plain
// JavaScript. Every web-tree-sitter call (a cursor step, a node's type or range) crosses into wasm
// and marshals its arguments through a shared buffer; walking a whole file that way cost about
// three parses. Copying the visible nodes (the ones a TreeCursor visits) costs about a tenth of one.
//
// The copy reads tree-sitter's own data structures from the wasm memory (subtree.h, parser.h of the
// web-tree-sitter version in package-lock.json). That layout is internal, so CParser checks it once
// per language against the TreeCursor on a probe text, and if anything differs every copy is made
// with the cursor instead: slower, never wrong.
import type { Language, Node, Tree } from 'web-tree-sitter';

/** The part of web-tree-sitter's Node the analysis reads; FlatNode and Node both provide it. */
export interface SyntaxNode {
  readonly type: string;
  readonly text: string;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly parent: SyntaxNode | null;
  readonly namedChildren: (SyntaxNode | null)[];
  readonly namedChildCount: number;
  childForFieldName(name: string): SyntaxNode | null;
  childrenForFieldName(name: string): (SyntaxNode | null)[];
  descendantsOfType(types: string | string[]): (SyntaxNode | null)[];
}

/** A FlatTree's data without its text and tables. */
export interface FlatArrays {
  n: number;
  cap: number;
  buffer: ArrayBuffer;
}

/** Per-language tables the copy and its readers need. */
export interface FlatLanguage {
  /** Node type by public symbol ('' for symbols the grammar hides). */
  types: string[];
  named: boolean[];
  /** Field name by id (index 0 is null). */
  fields: (string | null)[];
  fieldIds: Map<string, number>;
}

const ERROR_SYMBOL = 0xffff;
const NAMED = 1;
const MISSING = 2;

/**
 * The visible nodes of a tree (or of one node's subtree) in preorder. Node i's children are the
 * nodes i + 1, next[i + 1], ... up to next[i]; its field is the one TreeCursor.currentFieldId gives.
 */
export class FlatTree {
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** Index just past the node's subtree. */
  readonly next: Int32Array;
  readonly parent: Int32Array;
  readonly sym: Uint16Array;
  readonly field: Uint16Array;
  readonly flags: Uint8Array;

  /** Views of one buffer of `cap` nodes (an index worker sends the buffer, transferred). */
  constructor(
    readonly text: string,
    readonly lang: FlatLanguage,
    readonly n: number,
    readonly buffer: ArrayBuffer,
    readonly cap: number,
  ) {
    this.start = new Int32Array(buffer, 0, cap);
    this.end = new Int32Array(buffer, 4 * cap, cap);
    this.next = new Int32Array(buffer, 8 * cap, cap);
    this.parent = new Int32Array(buffer, 12 * cap, cap);
    this.sym = new Uint16Array(buffer, 16 * cap, cap);
    this.field = new Uint16Array(buffer, 18 * cap, cap);
    this.flags = new Uint8Array(buffer, 20 * cap, cap);
  }

  /** What a worker sends back: structured-cloneable, with a buffer to transfer. */
  arrays(): FlatArrays {
    return { n: this.n, cap: this.cap, buffer: this.buffer };
  }

  static fromArrays(text: string, lang: FlatLanguage, a: FlatArrays): FlatTree {
    return new FlatTree(text, lang, a.n, a.buffer, a.cap);
  }

  /** The node type, as Node.type gives it. */
  type(i: number): string {
    return this.lang.types[this.sym[i]] || 'ERROR';
  }

  isNamed(i: number): boolean {
    return (this.flags[i] & NAMED) !== 0;
  }

  node(i: number): FlatNode {
    return new FlatNode(this, i);
  }

  /** Start offsets of ERROR and MISSING nodes, in preorder. */
  errorStarts(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.n; i++) if (this.sym[i] === ERROR_SYMBOL || this.flags[i] & MISSING) out.push(this.start[i]);
    return out;
  }
}

export class FlatNode implements SyntaxNode {
  constructor(
    readonly tree: FlatTree,
    readonly index: number,
  ) {}

  get type(): string {
    return this.tree.type(this.index);
  }

  get startIndex(): number {
    return this.tree.start[this.index];
  }

  get endIndex(): number {
    return this.tree.end[this.index];
  }

  get text(): string {
    return this.tree.text.slice(this.tree.start[this.index], this.tree.end[this.index]);
  }

  get parent(): FlatNode | null {
    const p = this.tree.parent[this.index];
    return p >= 0 ? new FlatNode(this.tree, p) : null;
  }

  get namedChildren(): FlatNode[] {
    const t = this.tree;
    const out: FlatNode[] = [];
    for (let c = this.index + 1, end = t.next[this.index]; c < end; c = t.next[c]) if (t.flags[c] & NAMED) out.push(new FlatNode(t, c));
    return out;
  }

  get namedChildCount(): number {
    const t = this.tree;
    let count = 0;
    for (let c = this.index + 1, end = t.next[this.index]; c < end; c = t.next[c]) if (t.flags[c] & NAMED) count++;
    return count;
  }

  childForFieldName(name: string): FlatNode | null {
    const t = this.tree;
    const id = t.lang.fieldIds.get(name);
    // ts_node_child_by_field_id reads the node's own field map, which an ERROR node does not have
    // (the cursor still sees the fields of the hidden nodes inside it).
    if (!id || t.sym[this.index] === ERROR_SYMBOL) return null;
    for (let c = this.index + 1, end = t.next[this.index]; c < end; c = t.next[c]) if (t.field[c] === id) return new FlatNode(t, c);
    return null;
  }

  childrenForFieldName(name: string): FlatNode[] {
    const t = this.tree;
    const id = t.lang.fieldIds.get(name);
    const out: FlatNode[] = [];
    if (!id) return out;
    for (let c = this.index + 1, end = t.next[this.index]; c < end; c = t.next[c]) if (t.field[c] === id) out.push(new FlatNode(t, c));
    return out;
  }

  /** This node and its descendants of the given types, in preorder (as Node.descendantsOfType). */
  descendantsOfType(types: string | string[]): FlatNode[] {
    const t = this.tree;
    const wanted = typeof types === 'string' ? [types] : types;
    const out: FlatNode[] = [];
    for (let i = this.index, end = t.next[this.index]; i < end; i++) if (wanted.includes(t.type(i))) out.push(new FlatNode(t, i));
    return out;
  }
}

// ---- building ---------------------------------------------------------------------------------

/** What the copy needs from the web-tree-sitter module: its wasm memory views. */
export interface WasmHeap {
  HEAPU8: Uint8Array;
  HEAPU16: Uint16Array;
  HEAPU32: Uint32Array;
}

interface LanguageState {
  tables: FlatLanguage;
  /** Set once the memory layout matched the TreeCursor on the probe. */
  heap: WasmHeap | null;
}

const languages = new WeakMap<object, LanguageState>();

function languageState(lang: Language): LanguageState {
  let s = languages.get(lang);
  if (!s) {
    const types: string[] = [];
    const named: boolean[] = [];
    for (let i = 0; i < lang.nodeTypeCount; i++) {
      types.push(internalized(lang.nodeTypeForId(i) ?? ''));
      named.push(lang.nodeTypeIsNamed(i));
    }
    const fields: (string | null)[] = [];
    const fieldIds = new Map<string, number>();
    for (let i = 0; i <= lang.fieldCount; i++) {
      const raw = lang.fields[i];
      const name = raw ? internalized(raw) : null;
      fields.push(name);
      if (name && !fieldIds.has(name)) fieldIds.set(name, i);
    }
    s = { tables: { types, named, fields, fieldIds }, heap: null };
    languages.set(lang, s);
  }
  return s;
}

/**
 * The same string, internalized: web-tree-sitter decodes names from wasm memory into fresh strings,
 * and comparing those with literals (`type === 'if_statement'`, a switch) compares characters.
 */
function internalized(s: string): string {
  return Object.keys({ [s]: 0 })[0];
}

/** The language tables of a tree's language (types, fields). */
export function flatLanguage(lang: Language): FlatLanguage {
  return languageState(lang).tables;
}

/** Copies `node`'s subtree (the whole tree when it is the root) out of wasm. */
export function flatten(node: Node, text: string): FlatTree {
  const state = languageState(node.tree.language);
  if (state.heap) {
    const fromMemory = flattenFromMemory(node, text, state.tables, state.heap);
    if (fromMemory) return fromMemory;
  }
  return flattenWithCursor(node, text, state.tables);
}

/**
 * Parses `probe`, copies it both ways and keeps the memory copy for this language only if the two
 * agree node for node (without `parse`: trusts a check made on the same wasm files elsewhere).
 * Returns whether the memory copy is in use.
 */
export function enableMemoryCopy(lang: Language, heap: WasmHeap | null, parse: ((text: string) => Tree) | null, probe: string): boolean {
  const state = languageState(lang);
  state.heap = null;
  if (!heap?.HEAPU8 || !heap.HEAPU16 || !heap.HEAPU32) return false;
  // Checked by the caller already (an index worker loading the wasm its parent checked).
  if (!parse) {
    state.heap = heap;
    return true;
  }
  let tree: Tree | undefined;
  try {
    tree = parse(probe);
    const a = flattenFromMemory(tree.rootNode, probe, state.tables, heap);
    const b = flattenWithCursor(tree.rootNode, probe, state.tables);
    if (!a || !sameTree(a, b)) return false;
    // Subtrees too (the edit path copies one top-level item at a time).
    for (const item of tree.rootNode.children) {
      if (!item) continue;
      const x = flattenFromMemory(item, probe, state.tables, heap);
      if (!x || !sameTree(x, flattenWithCursor(item, probe, state.tables))) return false;
    }
    state.heap = heap;
    return true;
  } catch {
    return false;
  } finally {
    tree?.delete();
  }
}

export function sameTree(a: FlatTree, b: FlatTree): boolean {
  if (a.n !== b.n) return false;
  for (let i = 0; i < a.n; i++) {
    if (a.sym[i] !== b.sym[i] || a.start[i] !== b.start[i] || a.end[i] !== b.end[i] || a.field[i] !== b.field[i]) return false;
    if (a.next[i] !== b.next[i] || a.parent[i] !== b.parent[i] || a.flags[i] !== b.flags[i]) return false;
  }
  return true;
}

/** A FlatTree of `cap` nodes to fill in (n is set at the end). */
function allocate(text: string, lang: FlatLanguage, cap: number): FlatTree {
  return new FlatTree(text, lang, 0, new ArrayBuffer(21 * cap), cap);
}

/** The reference copy: a TreeCursor walk (what the memory copy must reproduce). */
export function flattenWithCursor(node: Node, text: string, lang: FlatLanguage): FlatTree {
  const cap = Math.max(1, node.descendantCount);
  const a = allocate(text, lang, cap);
  const cursor = node.walk();
  let n = 0;
  const stack: number[] = [];
  try {
    for (;;) {
      const i = n++;
      a.sym[i] = cursor.nodeTypeId;
      a.start[i] = cursor.startIndex;
      a.end[i] = cursor.endIndex;
      a.field[i] = stack.length ? cursor.currentFieldId : 0;
      a.parent[i] = stack.length ? stack[stack.length - 1] : -1;
      a.flags[i] = (cursor.nodeIsNamed ? NAMED : 0) | (cursor.nodeIsMissing ? MISSING : 0);
      if (cursor.gotoFirstChild()) {
        stack.push(i);
        continue;
      }
      a.next[i] = n;
      let more = false;
      while (!more) {
        if (cursor.gotoNextSibling()) more = true;
        else if (cursor.gotoParent()) a.next[stack.pop()!] = n;
        else break;
      }
      if (!more) break;
    }
  } finally {
    cursor.delete();
  }
  return new FlatTree(text, lang, n, a.buffer, cap);
}

// Offsets into tree-sitter's structs on wasm32 (lib/subtree.h, lib/parser.h, lib/tree.h).
// Subtree: 8 bytes, either inline data (bit 0 of byte 0 set) or a pointer to SubtreeHeapData.
const INLINE_SYMBOL = 1;
const INLINE_PADDING_BYTES = 6;
const INLINE_SIZE_BYTES = 7;
const HEAP_PADDING_BYTES = 4;
const HEAP_SIZE_BYTES = 16;
const HEAP_CHILD_COUNT = 36;
const HEAP_SYMBOL = 40;
const HEAP_FLAGS = 44;
const HEAP_FLAGS2 = 45;
const HEAP_VISIBLE_CHILD_COUNT = 48;
const HEAP_VISIBLE_DESCENDANT_COUNT = 56;
const HEAP_PRODUCTION_ID = 66;
// TSLanguage.
const LANG_FIELD_COUNT = 32;
const LANG_MAX_ALIAS_SEQUENCE_LENGTH = 36;
const LANG_FIELD_MAP_SLICES = 64;
const LANG_FIELD_MAP_ENTRIES = 68;
const LANG_PUBLIC_SYMBOL_MAP = 76;
const LANG_ALIAS_SEQUENCES = 84;

interface Walk {
  u8: Uint8Array;
  u16: Uint16Array;
  u32: Uint32Array;
  fieldCount: number;
  maxAlias: number;
  fieldSlices: number;
  fieldEntries: number;
  publicMap: number;
  aliasSequences: number;
  named: boolean[];
  cap: number;
  n: number;
  a: FlatTree;
}

/**
 * The memory copy. Mirrors ts_tree_cursor's child iteration (tree_cursor.c): hidden nodes are
 * descended into, aliases come from the parent production's alias sequence, and a node's field
 * is its own entry in the parent's field map or, through hidden parents, theirs.
 */
function flattenFromMemory(node: Node, text: string, lang: FlatLanguage, heap: WasmHeap): FlatTree | null {
  const u8 = heap.HEAPU8;
  const u16 = heap.HEAPU16;
  const u32 = heap.HEAPU32;
  const slot = node.id;
  if (!slot || slot & 3) return null;
  const languageAddress = (node.tree.language as unknown as Record<number, number>)[0];
  if (!languageAddress) return null;
  const inline = (u8[slot] & 1) !== 0;
  const ptr = inline ? 0 : u32[slot >> 2];
  const childCount = ptr ? u32[(ptr + HEAP_CHILD_COUNT) >> 2] : 0;
  const cap = childCount ? u32[(ptr + HEAP_VISIBLE_DESCENDANT_COUNT) >> 2] + 1 : 1;
  if (cap > 1 << 26) return null;
  const w: Walk = {
    u8,
    u16,
    u32,
    fieldCount: u32[(languageAddress + LANG_FIELD_COUNT) >> 2],
    maxAlias: u16[(languageAddress + LANG_MAX_ALIAS_SEQUENCE_LENGTH) >> 1],
    fieldSlices: u32[(languageAddress + LANG_FIELD_MAP_SLICES) >> 2],
    fieldEntries: u32[(languageAddress + LANG_FIELD_MAP_ENTRIES) >> 2],
    publicMap: u32[(languageAddress + LANG_PUBLIC_SYMBOL_MAP) >> 2],
    aliasSequences: u32[(languageAddress + LANG_ALIAS_SEQUENCES) >> 2],
    named: lang.named,
    cap,
    n: 1,
    a: allocate(text, lang, cap),
  };
  const a = w.a;
  // The node itself: its type (alias included), range and flags come from the Node.
  a.sym[0] = node.typeId;
  a.start[0] = node.startIndex;
  a.end[0] = node.endIndex;
  a.field[0] = 0;
  a.parent[0] = -1;
  a.flags[0] = (node.isNamed ? NAMED : 0) | (node.isMissing ? MISSING : 0);
  if (childCount) children(w, ptr, node.startIndex * 2);
  else a.next[0] = w.n;
  if (w.n !== cap) return null;
  return new FlatTree(text, lang, w.n, a.buffer, cap);
}

/** A heap subtree whose children are being copied (the walk keeps its own stack: trees nest deep). */
interface Level {
  base: number;
  count: number;
  k: number;
  pos: number;
  structural: number;
  aliasBase: number;
  fieldsFrom: number;
  fieldsTo: number;
  /** Flat index of the nearest visible ancestor, and whether this subtree is that node. */
  parentIndex: number;
  visible: boolean;
  /** For a hidden subtree: the field it passes down to its children. */
  field: number;
}

function children(w: Walk, root: number, rootPosition: number): void {
  const { u8, u16, u32, a } = w;
  const stack: Level[] = [];
  const open = (p: number, pos: number, parentIndex: number, visible: boolean, field: number): void => {
    const count = u32[(p + HEAP_CHILD_COUNT) >> 2];
    const production = u16[(p + HEAP_PRODUCTION_ID) >> 1];
    let fieldsFrom = 0;
    let fieldsTo = 0;
    if (w.fieldCount) {
      const slice = u32[(w.fieldSlices >> 2) + production];
      fieldsFrom = w.fieldEntries + (slice & 0xffff) * 4;
      fieldsTo = fieldsFrom + (slice >>> 16) * 4;
    }
    stack.push({
      base: p - count * 8,
      count,
      k: 0,
      pos,
      structural: 0,
      aliasBase: production ? (w.aliasSequences >> 1) + production * w.maxAlias : 0,
      fieldsFrom,
      fieldsTo,
      parentIndex,
      visible,
      field,
    });
  };
  open(root, rootPosition, 0, true, 0);
  while (stack.length) {
    const level = stack[stack.length - 1];
    if (level.k === level.count) {
      stack.pop();
      if (level.visible) a.next[level.parentIndex] = w.n;
      // The parent level moves past this child (its size was added when the child was opened).
      continue;
    }
    const k = level.k++;
    const slot = level.base + k * 8;
    const b0 = u8[slot];
    let visible: number;
    let named: number;
    let extra: number;
    let missing: number;
    let symbol: number;
    let padding: number;
    let size: number;
    let cp = 0;
    if (b0 & 1) {
      visible = (b0 >> 1) & 1;
      named = (b0 >> 2) & 1;
      extra = (b0 >> 3) & 1;
      missing = (b0 >> 5) & 1;
      symbol = u8[slot + INLINE_SYMBOL];
      padding = u8[slot + INLINE_PADDING_BYTES];
      size = u8[slot + INLINE_SIZE_BYTES];
    } else {
      cp = u32[slot >> 2];
      const f = u8[cp + HEAP_FLAGS];
      visible = f & 1;
      named = (f >> 1) & 1;
      extra = (f >> 2) & 1;
      missing = (u8[cp + HEAP_FLAGS2] >> 1) & 1;
      symbol = u16[(cp + HEAP_SYMBOL) >> 1];
      padding = u32[(cp + HEAP_PADDING_BYTES) >> 2];
      size = u32[(cp + HEAP_SIZE_BYTES) >> 2];
    }
    if (k > 0) level.pos += padding;
    const pos = level.pos;
    level.pos += size;
    let alias = 0;
    let own = 0;
    if (!extra) {
      if (level.aliasBase) alias = u16[level.aliasBase + level.structural];
      for (let e = level.fieldsFrom; e < level.fieldsTo; e += 4) {
        if (u8[e + 2] === level.structural && !u8[e + 3]) {
          own = u16[e >> 1];
          break;
        }
      }
      level.structural++;
    }
    const grandchildren = cp ? u32[(cp + HEAP_CHILD_COUNT) >> 2] : 0;
    const inherited = extra ? 0 : own || (level.visible ? 0 : level.field);
    if (visible || alias) {
      const i = w.n++;
      if (i >= w.cap) return;
      const s = alias || symbol;
      a.sym[i] = s === ERROR_SYMBOL ? ERROR_SYMBOL : u16[(w.publicMap >> 1) + s];
      a.start[i] = pos >> 1;
      a.end[i] = (pos + size) >> 1;
      a.field[i] = inherited;
      a.parent[i] = level.parentIndex;
      a.flags[i] = ((alias ? w.named[alias] : named) ? NAMED : 0) | (missing ? MISSING : 0);
      if (grandchildren) open(cp, pos, i, true, 0);
      else a.next[i] = w.n;
    } else if (grandchildren && u32[(cp + HEAP_VISIBLE_CHILD_COUNT) >> 2] > 0) {
      open(cp, pos, level.parentIndex, false, inherited);
    }
  }
}
