// What the analysis assumes about a codebase it has never seen. Defaults fit HAKMEM-style allocator
// code; every list can be changed through settings (`allocLens.analysis.*`) or CLI flags.
import type { ExtractOptions } from './facts';

export interface AnalysisOptions {
  /** Functions that start hot paths. Exact names, or `*` globs (`*_alloc`). A glob only matches
   *  functions nothing in the workspace calls: API wrappers, not internal helpers. */
  entryPoints: string[];
  /** Extra `-D` defines for `#if` evaluation and inactive regions (`NDEBUG: "1"`). */
  defines: Record<string, string>;
  /** Extra callees whose arguments count as printed (on top of printf & co.). */
  printFunctions: string[];
  /** Globs of files whose reads are listed as evidence but do not decide a classification
   *  a test asserting on a counter does not make the allocator depend on it. */
  ignoreReadsIn: string[];
}

export const DEFAULT_IGNORE_READS_IN = ['**/test/**', '**/tests/**', '**/bench/**', '**/benches/**', '**/benchmarks/**'];

export const DEFAULT_ENTRY_POINTS = [
  'malloc',
  'free',
  'calloc',
  'realloc',
  'reallocarray',
  'posix_memalign',
  'aligned_alloc',
  'memalign',
  'valloc',
  'pvalloc',
  'malloc_usable_size',
  '*_malloc',
  '*_free',
  '*_calloc',
  '*_realloc',
  '*_alloc',
  '*_memalign',
  '*_aligned_alloc',
  '*_usable_size',
];

export function defaultAnalysisOptions(): AnalysisOptions {
  return { entryPoints: [...DEFAULT_ENTRY_POINTS], defines: {}, printFunctions: [], ignoreReadsIn: [...DEFAULT_IGNORE_READS_IN] };
}

// ---- temperature rules: the one place they are written down ---------------------------------
//
// 1. Entry points are HOT.
// 2. A function called from a hot or warm function gets the caller's temperature, except that
//    a call on the slow side of a branch (the body of `if (unlikely(c))`, the else of
//    `if (likely(c))`, the code after `if (likely(c)) { ...; return; }`), a call in a branch that
//    also calls a refill/slow/miss function, or a call to a function whose name says refill,
//    slow, miss, drain, flush, grow, carve or fallback is at most WARM;
// 3. a call to a function whose name says init, mmap, munmap, madvise, error, abort, dump, print,
//    report, destroy, exit, fork, config or env, and any call in an error branch (one that
//    returns NULL / -1 / -E*, sets errno or calls abort), is COLD.
// 4. A function reached through several callers takes the hottest result.
// 5. A function nothing reaches is COLD if its name says so or it is a constructor/destructor,
//    else UNKNOWN.
// 6. An atomic takes its function's temperature, capped the same way by the branch it sits in.
// Measured execution counts (issue #7) replace these guesses when they exist.

export const WARM_NAME = /(^|_)(slow|refill|miss|drain|flush|grow|carve|fallback|spill|reclaim|retry|collect|steal|remote)(_|$)/i;
export const COLD_NAME = /(^|_)(init|initialize|mmap|munmap|mremap|madvise|map|unmap|error|err|abort|panic|fatal|dump|print|report|destroy|fini|exit|atexit|fork|atfork|prefork|postfork|config|env|ctor|dtor|oom|reserve|setup|teardown|shutdown)(_|$)/i;
/** Functions whose reads only feed output. */
export const REPORTING_NAME = /(^|_)(dump|print|report|show|log|trace|describe)(_|$)/i;
/** Diagnostics that release builds should not run on hot paths (release hygiene). */
export const DIAGNOSTIC_NAME = /(^|_)(debug|validate|verify|check|sanity|dump|trace)(_|$)|^(printf|fprintf|puts|fputs|perror)$/i;

const PRINT_CALLEES = /^(printf|fprintf|dprintf|sprintf|snprintf|vprintf|vfprintf|vsnprintf|vsprintf|puts|fputs|fputc|putc|putchar|syslog|perror|write|fwrite)$/;

/** Parses `-D`-style defines: `NAME` (= 1) or `NAME=VALUE`. */
export function parseDefines(defines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of defines) {
    const eq = d.indexOf('=');
    if (eq < 0) out[d.trim()] = '1';
    else out[d.slice(0, eq).trim()] = d.slice(eq + 1);
  }
  return out;
}

/** From the `allocLens.analysis` settings (or CLI flags) to options. */
export function analysisOptionsFrom(s: { entryPoints: string[]; defines: string[]; printFunctions: string[]; ignoreReadsIn: string[] }): AnalysisOptions {
  return { entryPoints: [...s.entryPoints], defines: parseDefines(s.defines), printFunctions: [...s.printFunctions], ignoreReadsIn: [...s.ignoreReadsIn] };
}

/** Per-file extraction does not depend on settings, so facts survive a settings change. */
export function extractOptions(): ExtractOptions {
  return {
    isPrintCallee: (name) => PRINT_CALLEES.test(name) || REPORTING_NAME.test(name),
    isWarmName: (name) => WARM_NAME.test(name),
    isColdName: (name) => COLD_NAME.test(name) || /^(mmap|munmap|mremap|madvise|abort|exit|perror)$/.test(name),
    isReportingFunction: (name) => REPORTING_NAME.test(name),
  };
}

// `*` matches within a path segment; a double star followed by a slash matches any leading folders.
export function globToRegExp(glob: string): RegExp {
  let body = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      body += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') body += '[^/]*';
    else if (c === '?') body += '[^/]';
    else body += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${body}$`);
}
