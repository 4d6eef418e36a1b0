import { Language, Parser, Query, type Node, type Tree } from 'web-tree-sitter';
import { enableMemoryCopy, flatten, type FlatTree, type WasmHeap } from './flatTree';

export interface CParserOptions {
  /** Absolute path of web-tree-sitter's runtime wasm (`tree-sitter.wasm`). */
  runtimeWasm: string;
  /** Absolute path of the C grammar (`tree-sitter-c.wasm`). */
  languageWasm: string;
  /**
   * Set when another parser already checked these wasm files' memory layout (flatTree.ts) and it
   * matched: an index worker skips the check.
   */
  memoryLayoutChecked?: boolean;
}

let runtimeReady: Promise<void> | undefined;
/** The emscripten module object: Parser.init fills in the wasm memory views (HEAPU8...). */
let runtimeModule: Partial<WasmHeap> & { locateFile?: () => string } = {};

/**
 * Exercises what the flat copy must get right (flatTree.ts): aliases (field_identifier,
 * type_identifier, statement_identifier), fields through hidden nodes, extras (comments),
 * directives, ERROR and MISSING nodes.
 */
const PROBE = `#include <stdatomic.h>
#define ADD(p, n) atomic_fetch_add_explicit((p), (n), memory_order_relaxed)
typedef struct node { _Atomic long hits; struct node *next; unsigned bits : 3; } node_t;
static node_t g_nodes[4] = { [0] = { .hits = 0 } };
int f(node_t *n, const char *s, ...) {
  /* extra */ if (__builtin_expect(!n, 0)) goto out; // trailing
  for (int i = 0; i < 4 && s[i]; i++) { n->hits += i ? -1 : (int)sizeof(long); ADD(&g_nodes[i].hits, 1); }
  switch (*s) { case 'a': return n->next ? 1 : 2; default: break; }
  do { n = n->next; } while (n);
out:
  return s == NULL ? getenv("X") != 0 : strcmp(s, "on\n") == 0;
}
#if defined(A) && B > 1
int g(void) { return f(0, "x" "y") +; }
#else
int h(int x) { return x }
#endif
void broken( { int a = ; }
`;

/**
 * The one place that talks to web-tree-sitter. Callers own the trees it returns and must
 * `delete()` them; queries are compiled once per source text and kept for the parser's life.
 */
export class CParser {
  private readonly queries = new Map<string, Query>();

  private constructor(
    private readonly parser: Parser,
    readonly language: Language,
    /** Where the wasm files were loaded from (index workers load the same ones). */
    private readonly options: CParserOptions,
  ) {}

  static async create(options: CParserOptions): Promise<CParser> {
    if (!runtimeReady) {
      runtimeModule = { locateFile: () => options.runtimeWasm };
      runtimeReady = Parser.init(runtimeModule);
    }
    try {
      await runtimeReady;
    } catch (err) {
      runtimeReady = undefined;
      throw new Error(`cannot load the tree-sitter runtime from ${options.runtimeWasm}: ${String(err)}`);
    }
    let language: Language;
    try {
      language = await Language.load(options.languageWasm);
    } catch (err) {
      throw new Error(`cannot load the C grammar from ${options.languageWasm}: ${String(err)}`);
    }
    const parser = new Parser();
    parser.setLanguage(language);
    const created = new CParser(parser, language, options);
    if (options.memoryLayoutChecked) created.memoryCopy = enableMemoryCopy(language, runtimeModule as WasmHeap, null, '');
    else created.enableMemoryCopy();
    return created;
  }

  /** What an index worker needs to load the same parser (and whether to skip the layout check). */
  get wasm(): CParserOptions {
    return { runtimeWasm: this.options.runtimeWasm, languageWasm: this.options.languageWasm, memoryLayoutChecked: this.memoryCopy };
  }

  /** Whether flat copies read the wasm memory (true) or walk a TreeCursor (layout check failed). */
  memoryCopy = false;

  /** Checks the wasm memory layout for this grammar on a probe (flatTree.ts) and uses it if it matches. */
  enableMemoryCopy(): boolean {
    this.memoryCopy = enableMemoryCopy(this.language, runtimeModule as WasmHeap, (t) => this.parse(t), PROBE);
    return this.memoryCopy;
  }

  /** The visible nodes of `node`'s subtree (a whole tree: its rootNode) as flat arrays. */
  flatten(node: Node, text: string): FlatTree {
    return flatten(node, text);
  }

  /** Parses `text`; pass the previous (already `edit()`ed) tree to reparse incrementally. */
  parse(text: string, oldTree?: Tree): Tree {
    const tree = this.parser.parse(text, oldTree ?? null);
    if (!tree) throw new Error('tree-sitter returned no tree (parse cancelled or out of memory)');
    return tree;
  }

  query(source: string): Query {
    let q = this.queries.get(source);
    if (!q) {
      q = new Query(this.language, source);
      this.queries.set(source, q);
    }
    return q;
  }

  dispose(): void {
    for (const q of this.queries.values()) q.delete();
    this.queries.clear();
    this.parser.delete();
  }
}
