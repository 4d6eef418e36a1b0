/** Per-file counts of the index summary (computed from the analysis facts, see workspaceIndex.ts). */
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
