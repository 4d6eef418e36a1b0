import type { Tree } from 'web-tree-sitter';
import type { CParser } from './cParser';

/** Per-file counts: the first, coarse look at a C file (the full analysis comes later). */
export interface FileScan {
  functions: number;
  atomicCalls: number;
  getenvCalls: number;
  /**
   * 1-based lines where tree-sitter found ERROR / MISSING nodes, at most 20: broken C, or valid
   * C that macros hide from the grammar (`QUILL_TLS int x;`, `_Atomic(T)` specifiers).
   */
  errorLines: number[];
}

const CALLS_AND_FUNCTIONS = `
(call_expression function: (identifier) @callee)
(function_definition) @function
`;

const ERRORS = `
(ERROR) @error
(MISSING) @error
`;

/** Names of C11 / GCC atomic operations: atomic_*, __atomic_*, __sync_*. */
export function isAtomicBuiltin(name: string): boolean {
  return (
    (name.startsWith('atomic_') && name !== 'atomic_init' && !name.startsWith('atomic_flag_init')) ||
    name.startsWith('__atomic_') ||
    name.startsWith('__sync_')
  );
}

export function isGetenv(name: string): boolean {
  return name === 'getenv' || name === 'secure_getenv';
}

export function scanTree(parser: CParser, tree: Tree): FileScan {
  const scan: FileScan = { functions: 0, atomicCalls: 0, getenvCalls: 0, errorLines: [] };
  for (const cap of parser.query(CALLS_AND_FUNCTIONS).captures(tree.rootNode)) {
    if (cap.name === 'function') {
      scan.functions++;
    } else if (isAtomicBuiltin(cap.node.text)) {
      scan.atomicCalls++;
    } else if (isGetenv(cap.node.text)) {
      scan.getenvCalls++;
    }
  }
  if (tree.rootNode.hasError) {
    const lines = new Set<number>();
    for (const cap of parser.query(ERRORS).captures(tree.rootNode)) {
      lines.add(cap.node.startPosition.row + 1);
      if (lines.size >= 20) break;
    }
    scan.errorLines = [...lines].sort((a, b) => a - b);
  }
  return scan;
}

/** Parses and scans a whole text, freeing the tree afterwards. */
export function scanText(parser: CParser, text: string): FileScan {
  const tree = parser.parse(text);
  try {
    return scanTree(parser, tree);
  } finally {
    tree.delete();
  }
}
