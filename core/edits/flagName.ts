// Compile-out flag names: the prefix the workspace already uses, a proposal in the seeds' shape
// (`HAKMEM_POOL_HOTBOX_V2_STATS_COMPILED` for `g_pool_hotbox_v2_stats`), and validation of a
// name the user typed.
import type { AuditReport } from '../analysis/report';

const C_KEYWORDS = new Set([
  'auto', 'break', 'case', 'char', 'const', 'continue', 'default', 'do', 'double', 'else', 'enum', 'extern', 'float',
  'for', 'goto', 'if', 'inline', 'int', 'long', 'register', 'restrict', 'return', 'short', 'signed', 'sizeof', 'static',
  'struct', 'switch', 'typedef', 'union', 'unsigned', 'void', 'volatile', 'while', '_Alignas', '_Alignof', '_Atomic',
  '_Bool', '_Complex', '_Generic', '_Imaginary', '_Noreturn', '_Static_assert', '_Thread_local', 'alignas', 'alignof',
  'bool', 'constexpr', 'false', 'nullptr', 'static_assert', 'thread_local', 'true', 'typeof', 'typeof_unqual',
  // Preprocessor operators a macro cannot be named after.
  'defined', '__has_include', '__has_c_attribute',
]);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where a macro is defined (the first definition found). */
export interface MacroSite {
  file: string;
  line: number;
}

/**
 * The prefix of the workspace's flags (`QUILL_` for QUILL_CLASS_STATS_COMPILED): the leading
 * token most compile flags share, else most ENV gates share; '' when there is none.
 */
export function detectPrefix(report: Pick<AuditReport, 'flags' | 'envGates'>): string {
  const vote = (names: string[]): string => {
    const counts = new Map<string, number>();
    for (const n of names) {
      const m = /^([A-Z][A-Z0-9]+_)[A-Z0-9]/.exec(n);
      if (m) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
    }
    let best = '';
    let bestCount = 0;
    for (const [p, c] of counts) if (c > bestCount) [best, bestCount] = [p, c];
    return bestCount > 0 && bestCount * 2 >= names.length ? best : '';
  };
  const compiled = report.flags.map((f) => f.name).filter((n) => n.endsWith('_COMPILED'));
  return vote(compiled) || vote(report.flags.map((f) => f.name)) || vote(report.envGates.map((g) => g.name));
}

/** `g_quill_tcache_stats` with prefix `QUILL_` → `TCACHE_STATS`. */
export function familyStem(family: string, prefix: string): string {
  let stem = family.replace(/^(?:[gst]_)/, '').replace(/^_+/, '').toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  if (prefix && stem.startsWith(prefix) && stem.length > prefix.length) stem = stem.slice(prefix.length);
  stem = stem.replace(/^_+|_+$/g, '');
  return stem || 'TELEMETRY';
}

/**
 * The proposed flag: PREFIX + stem + `_COMPILED`; when that name is taken by another macro,
 * `_STATS`, `_TELEMETRY` or a number is added. `ownFlags` (flags already wrapping this family)
 * are not "taken": a second run reuses them.
 */
export function proposeFlag(family: string, prefix: string, isTaken: (name: string) => boolean): string {
  const stem = familyStem(family, prefix);
  const base = `${prefix}${stem}`;
  const candidates = [`${base}_COMPILED`];
  if (!/_STATS$/.test(stem)) candidates.push(`${base}_STATS_COMPILED`);
  candidates.push(`${base}_TELEMETRY_COMPILED`);
  for (const c of candidates) if (!isTaken(c)) return c;
  for (let i = 2; ; i++) if (!isTaken(`${base}_${i}_COMPILED`)) return `${base}_${i}_COMPILED`;
}

/**
 * Why `name` cannot be the flag, or null when it can: it must be a C identifier, not a keyword
 * or a reserved name, and not a macro the workspace already defines (unless it is the flag that
 * already wraps this family, which a second run extends).
 */
export function validateFlagName(name: string, macros: ReadonlyMap<string, MacroSite>, ownFlags: ReadonlySet<string>): string | null {
  if (!name) return 'Enter a flag name.';
  if (!IDENTIFIER.test(name)) return `\`${name}\` is not a C identifier: letters, digits and _, not starting with a digit.`;
  if (C_KEYWORDS.has(name)) return `\`${name}\` is a C keyword.`;
  if (/^__|^_[A-Z]/.test(name)) return `\`${name}\` is reserved for the compiler and the C library (it starts with __ or _ and a capital).`;
  if (ownFlags.has(name)) return null;
  const at = macros.get(name);
  if (at) return `\`${name}\` is already a macro (${at.file}:${at.line}): pick a name nothing defines yet.`;
  return null;
}
