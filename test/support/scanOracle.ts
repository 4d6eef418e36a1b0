// An independent, query-based count of a C file's functions, atomic calls, getenv calls and
// error lines: the oracle the tests hold the index's fact-based counts against.
import type { Tree } from 'web-tree-sitter';
import type { CParser } from '../../core/parsing/cParser';
import { isAtomicBuiltin, isGetenv, type FileScan } from '../../core/parsing/scan';

const CALLS_AND_FUNCTIONS = `
(call_expression function: (identifier) @callee)
(function_definition) @function
`;

const ERRORS = `
(ERROR) @error
(MISSING) @error
`;

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
