import { Language, Parser, Query, type Tree } from 'web-tree-sitter';

export interface CParserOptions {
  /** Absolute path of web-tree-sitter's runtime wasm (`tree-sitter.wasm`). */
  runtimeWasm: string;
  /** Absolute path of the C grammar (`tree-sitter-c.wasm`). */
  languageWasm: string;
}

let runtimeReady: Promise<void> | undefined;

/**
 * The one place that talks to web-tree-sitter. Callers own the trees it returns and must
 * `delete()` them; queries are compiled once per source text and kept for the parser's life.
 */
export class CParser {
  private readonly queries = new Map<string, Query>();

  private constructor(
    private readonly parser: Parser,
    readonly language: Language,
  ) {}

  static async create(options: CParserOptions): Promise<CParser> {
    runtimeReady ??= Parser.init({ locateFile: () => options.runtimeWasm });
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
    return new CParser(parser, language);
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
