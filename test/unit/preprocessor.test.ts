import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  activeAt,
  buildMacroEnv,
  evaluateIf,
  guardAt,
  inactiveRegions,
  isExternalMacro,
  scanPreprocessor,
  type MacroEnv,
  type MacroLookup,
  type PpFacts,
  type Tri,
} from '../../core/analysis/preprocessor';
import { readCarets } from '../support/carets';
import { FIXTURES, ROOT } from '../support/paths';
import { rng } from '../support/rng';

const PP = path.join(FIXTURES, 'preprocessor');
const SRC = path.join(ROOT, 'allocator', 'src');
const read = (file: string) => readFileSync(file, 'utf8');

/** string: defined with that body; null: not defined; [params, body]: function-like; absent: unknown. */
type EnvSpec = Record<string, string | null | [string[], string]>;
function envOf(spec: EnvSpec): MacroEnv {
  return {
    lookup(name): MacroLookup | undefined {
      if (!Object.hasOwn(spec, name)) return undefined;
      const v = spec[name];
      if (v === null) return { defined: false };
      return Array.isArray(v) ? { defined: true, value: v[1], params: v[0] } : { defined: true, value: v };
    },
  };
}

const show = (t: Tri) => (t.known ? t.value : 'unknown');

/** 1-based line of the first line of `text` that contains `needle`, from line `after` on. */
function lineOf(text: string, needle: string, after = 0): number {
  const lines = text.split('\n');
  for (let i = after; i < lines.length; i++) if (lines[i].includes(needle)) return i + 1;
  throw new Error(`${needle} not found`);
}

/** Every `#if X ... [#else ...] #endif` of a file whose condition is exactly `cond`: its lines. */
function sites(text: string, cond: string): { ifLine: number; elseLine: number | null; endifLine: number }[] {
  const facts = scanPreprocessor(text);
  return facts.conditionals
    .filter((c) => c.branches[0].kind === 'if' && c.branches[0].expr === cond)
    .map((c) => ({ ifLine: c.startLine, elseLine: c.branches.find((b) => b.kind === 'else')?.line ?? null, endifLine: c.endLine }));
}

function allocatorFiles(): { name: string; text: string; facts: PpFacts }[] {
  return readdirSync(SRC)
    .filter((f) => /\.[ch]$/.test(f))
    .sort()
    .map((name) => {
      const text = read(path.join(SRC, name));
      return { name, text, facts: scanPreprocessor(text) };
    });
}

describe('preprocessor: directive lexing (core/analysis/preprocessor)', () => {
  const lexing = read(path.join(PP, 'lexing.c'));

  it('finds exactly the directives marked in fixtures/preprocessor/lexing.c, none in comments or strings', () => {
    const facts = scanPreprocessor(lexing);
    const marked = readCarets(lexing).filter((c) => c.kind === 'directive').map((c) => c.line);
    assert.deepEqual(facts.directives.map((d) => d.endLine), marked);
    const names = facts.directives.map((d) => d.name ?? '').join(' ');
    assert.doesNotMatch(names, /NOT_|STILL_IN_STRING/);
    assert.deepEqual(facts.problems, []);
  });

  it('reports every macro use of a condition at its line and 1-based column', () => {
    const facts = scanPreprocessor(lexing);
    const marked = readCarets(lexing).filter((c) => c.kind === 'use');
    const lines = lexing.split('\n');
    assert.deepEqual(
      facts.uses.map((u) => ({ line: u.line, column: u.column - 1, name: u.name })),
      marked.map((c) => ({ line: c.line, column: c.column, name: /^\w+/.exec(lines[c.line - 1].slice(c.column))![0] })),
    );
  });

  it('gives the same facts for CRLF line endings', () => {
    const lf = scanPreprocessor(lexing);
    const crlf = scanPreprocessor(lexing.replace(/\n/g, '\r\n'));
    assert.deepEqual(crlf, lf);
  });

  it('joins continuations and drops comments in the directive text', () => {
    const facts = scanPreprocessor(lexing);
    const fn = facts.defines.find((d) => d.name === 'FN')!;
    assert.deepEqual([fn.line, fn.endLine, fn.params, fn.value], [49, 50, ['a', 'b', '...'], '((a) +     (b))']);
    const spaced = facts.defines.find((d) => d.name === 'SPACED')!;
    assert.deepEqual([spaced.text, spaced.keyword, spaced.value], ['#  define SPACED 1', 'define', '1']);
    const inner = facts.defines.find((d) => d.name === 'INNER')!;
    assert.deepEqual([inner.line, inner.endLine, inner.value], [42, 43, '2'], 'a block comment spanning lines continues the directive');
    const elif = facts.directives.find((d) => d.kind === 'elif')!;
    assert.equal(elif.expr, 'defined FEATURE_B || FEATURE_C > 2');
  });

  const table: [string, string, (f: PpFacts) => unknown, unknown][] = [
    ['a final line without newline', '#if A\nint a;\n#endif', (f) => [f.conditionals[0].endLine, f.conditionals[0].closed, f.lastLine], [3, true, 3]],
    ['a directive after a comment on its line', '/* c */ #define X 1\n', (f) => f.defines.map((d) => d.name), ['X']],
    ['a # after code is not a directive', 'int a; #define X 1\n', (f) => f.directives.length, 0],
    ['the %: digraph', '%:define X 1\n', (f) => f.defines.map((d) => d.name), ['X']],
    ['# inside a char literal', "char c = '#';\n#define Y 2\n", (f) => f.defines.map((d) => [d.name, d.line]), [['Y', 2]]],
    ['an unterminated string ends at the newline', 'const char *s = "abc\n#define Z 3\n', (f) => f.defines.map((d) => d.name), ['Z']],
    ['a continued string', 'const char *s = "a\\\n#define NO 1";\n#define YES 1\n', (f) => f.defines.map((d) => d.name), ['YES']],
    ['a backslash then spaces still continues (GCC)', '#define W 1 \\  \n  + 2\n', (f) => [f.defines[0].value, f.defines[0].endLine], ['1   + 2', 2]],
    ['a null directive and a line marker', '#\n# 12 "x.c"\n', (f) => f.directives.map((d) => [d.kind, d.keyword]), [['other', ''], ['other', '']]],
    ['#ifdef/#ifndef as defined()', '#ifdef A\n#elifndef B\n#endif\n', (f) => f.conditionals[0].branches.map((b) => b.expr), ['defined(A)', '!defined(B)']],
    ['include forms', '#include <a.h>\n#include_next "b.h"\n', (f) => f.directives.map((d) => [d.kind, d.header]), [['include', '<a.h>'], ['include', '"b.h"']]],
    ['an object-like macro whose body starts with (', '#define P (1)\n', (f) => [f.defines[0].params, f.defines[0].value], [undefined, '(1)']],
    ['after a byte-order mark', '\ufeff#ifndef X_H\n#define X_H\n#endif\n', (f) => f.includeGuard, 'X_H'],
    ['an unterminated comment', '/* open\n#define X 1\n', (f) => [f.directives.length, f.lastLine], [0, 3]],
  ];
  for (const [what, text, pick, want] of table) {
    it(`lexes ${what}`, () => assert.deepEqual(pick(scanPreprocessor(text)), want));
  }
});

describe('preprocessor: conditional structure', () => {
  it('nests conditionals with parents, branches and their macros', () => {
    const f = scanPreprocessor('#if A > 1\n# ifdef B\n# elif C || defined(D)\n# else\n# endif\n#endif\n');
    assert.deepEqual(
      f.conditionals.map((c) => [c.startLine, c.endLine, c.parent, c.branches.map((b) => `${b.kind}@${b.line}`), c.macros]),
      [
        [1, 6, null, ['if@1'], ['A']],
        [2, 5, 0, ['ifdef@2', 'elif@3', 'else@4'], ['B', 'C', 'D']],
      ],
    );
  });

  const unbalanced: [string, string, RegExp[]][] = [
    ['#endif without #if', 'int a;\n#endif\n', [/^#endif without #if$/]],
    ['unterminated #if', 'int a;\n#if A\nint b;\n', [/^unterminated #if from line 2$/]],
    ['unterminated nested', '#ifdef A\n#if B\n', [/^unterminated #if from line 2$/, /^unterminated #ifdef from line 1$/]],
    ['#else twice', '#if A\n#else\n#else\n#endif\n', [/^#else after #else$/]],
    ['#elif after #else', '#if A\n#else\n#elif B\n#endif\n', [/^#elif after #else$/]],
    ['#else without #if', '#else\n', [/^#else without #if$/]],
    ['#if without expression', '#if\n#endif\n', [/^#if without an expression$/]],
    ['#ifdef without name', '#ifdef\n#endif\n', [/^#ifdef without a macro name$/]],
  ];
  for (const [what, text, want] of unbalanced) {
    it(`reports ${what}`, () => {
      const f = scanPreprocessor(text);
      assert.equal(f.problems.length, want.length, JSON.stringify(f.problems));
      want.forEach((re, i) => assert.match(f.problems[i].message, re));
    });
  }

  it('closes an unterminated conditional at the last line of the file', () => {
    const f = scanPreprocessor('#if A\nint b;\nint c;\n');
    assert.deepEqual([f.conditionals[0].endLine, f.conditionals[0].closed, f.lastLine], [4, false, 4]);
    const regions = inactiveRegions(f, envOf({ A: '0' }));
    assert.deepEqual(regions.map((r) => [r.startLine, r.endLine]), [[2, 4]]);
  });

  it('survives 10,000 nested #if without a stack overflow', () => {
    const depth = 10_000;
    const text = '#if A\n'.repeat(depth) + 'int x;\n' + '#endif\n'.repeat(depth);
    const f = scanPreprocessor(text);
    assert.equal(f.conditionals.length, depth);
    assert.equal(f.conditionals[depth - 1].parent, depth - 2);
    assert.equal(activeAt(f, depth + 1, envOf({ A: '1' })), true);
    assert.equal(activeAt(f, depth + 1, envOf({})), null);
    assert.deepEqual(inactiveRegions(f, envOf({ A: '0' })).map((r) => [r.startLine, r.endLine]), [[2, 2 * depth]]);
    assert.equal(guardAt(f, depth + 1)?.startLine, depth);
    const open = scanPreprocessor('#ifdef A\n'.repeat(depth));
    assert.equal(open.problems.length, depth);
    assert.ok(buildMacroEnv([f, open], {}).values instanceof Map);
  });
});

describe('preprocessor: include guards and flag defaults', () => {
  it('finds the defaults of allocator/src/quill_build_flags.h, nested #if included', () => {
    const f = scanPreprocessor(read(path.join(SRC, 'quill_build_flags.h')));
    assert.equal(f.includeGuard, 'QUILL_BUILD_FLAGS_H');
    const byName = new Map<string, string[]>();
    for (const d of f.defaults) byName.set(d.name, [...(byName.get(d.name) ?? []), d.value]);
    assert.deepEqual(Object.fromEntries(byName), {
      QUILL_BUILD_RELEASE: ['1', '0'],
      QUILL_DEBUG_COUNTERS: ['0', '1'],
      QUILL_CLASS_STATS_COMPILED: ['0'],
      QUILL_FREE_STATS_COMPILED: ['0'],
      QUILL_DIAG_COMPILED: ['0'],
      QUILL_MID_LOCK_STATS_COMPILED: ['0'],
    });
    assert.ok(!f.defaults.some((d) => d.name === 'QUILL_BUILD_FLAGS_H' || d.name === 'QUILL_NO_OVERRIDE'));
    assert.equal(f.conditionals.filter((c) => c.includeGuard).length, 1);
  });

  it('finds the HAKMEM seed default, which wraps its file but is no include guard', () => {
    const f = scanPreprocessor(read(path.join(PP, 'hakmem_pool_flags.h')));
    assert.equal(f.includeGuard, null);
    assert.deepEqual(f.defaults, [{ name: 'HAKMEM_POOL_HOTBOX_V2_STATS_COMPILED', value: '0', line: 4 }]);
    assert.equal(f.conditionals[0].includeGuard, false);
  });

  const guards: [string, string, string | null, boolean][] = [
    ['a classic guard', '// x.h\n#ifndef X_H\n#define X_H\nint x;\n#endif /* X_H */\n', 'X_H', true],
    ['#if !defined form', '#if !defined(POOL_API)\n#define POOL_API\nint x;\n#endif\n', 'POOL_API', true],
    ['#pragma once outside', '#pragma once\n#ifndef Y_H\n#define Y_H\n#endif\n', 'Y_H', true],
    ['a guard-named one with code around', 'int a;\n#ifndef Z_H\n#define Z_H\n#endif\nint b;\n', null, true],
    ['a defined-by-default switch with code around', 'int a;\n#ifndef USE_FAST\n#define USE_FAST\n#endif\nint b;\n', null, false],
    ['`#define X_H 1`', '#ifndef X_H\n#define X_H 1\nint x;\n#endif\n', 'X_H', true],
    ['a flag on by default that wraps its file', '#ifndef FOO_ENABLED\n#define FOO_ENABLED 1\n#endif\n', null, false],
    ['the define not first', '#ifndef W_H\nint w;\n#define W_H\n#endif\n', null, false],
    ['an #else', '#ifndef V_H\n#define V_H\n#else\n#endif\n', null, false],
  ];
  for (const [what, text, fileGuard, conditionalGuard] of guards) {
    it(`tells include guards: ${what}`, () => {
      const f = scanPreprocessor(text);
      assert.equal(f.includeGuard, fileGuard);
      assert.equal(f.conditionals.at(-1)!.includeGuard, conditionalGuard);
      assert.deepEqual(f.defaults.map((d) => d.name), /ENABLED/.test(text) ? ['FOO_ENABLED'] : []);
    });
  }

  it('stays linear with thousands of guard-shaped conditionals', () => {
    const f = scanPreprocessor('#ifndef A_H\n#define A_H\n#endif\n'.repeat(20_000));
    assert.equal(f.conditionals.length, 20_000);
    assert.equal(f.includeGuard, null);
  });
});

describe('preprocessor: evaluateIf', () => {
  const env: EnvSpec = {
    A: '',
    B: null,
    ONE: '1',
    THREE: '3',
    TWO: '1 + 1',
    EMPTY: '',
    NAME_UNKNOWN: 'foo',
    NAME_UNDEF: 'B',
    STR: '"x"',
    FLOAT: '1.5',
    SELF: 'SELF',
    SELF1: 'SELF1 + 1',
    MUT_A: 'MUT_B',
    MUT_B: 'MUT_A',
    FN: [['x'], 'x'],
    TO_FN: 'FN',
    TO_LINUX: '__linux__',
  };
  for (let i = 0; i < 100; i++) env[`CHAIN${i}`] = i === 99 ? '42' : `CHAIN${i + 1}`;
  for (let i = 0; i < 40; i++) env[`BOOM${i}`] = i === 39 ? '1' : `BOOM${i + 1} + BOOM${i + 1}`;

  const cases: [string, bigint | 'unknown'][] = [
    // precedence and associativity
    ['1 + 2 * 3 == 7', 1n],
    ['1 << 2 + 1 == 8', 1n],
    ['(1 + 2) * 3', 9n],
    ['10 - 4 - 3', 3n],
    ['2 * 3 % 4', 2n],
    ['1 | 2 ^ 3 & 1', 3n],
    ['1 < 2 == 1', 1n],
    ['1 ? 0 ? 4 : 5 : 6', 5n],
    ['0 ? 2 : 3', 3n],
    ['(1, 2)', 2n],
    ['1 /* a comment */ + 1', 2n],
    // literals
    ['0x1F', 31n],
    ['017', 15n],
    ['0b101', 5n],
    ['10u + 10UL + 10ll + 10ULL + 10lu', 50n],
    ["1'000", 1000n],
    ['0xffffffffffffffff', 18446744073709551615n],
    ['18446744073709551615 == -1', 1n],
    ["'A'", 65n],
    ["'\\n'", 10n],
    ["'\\x41' == 65", 1n],
    ["'\\0'", 0n],
    // unary and arithmetic in intmax_t / uintmax_t
    ['~0 == -1', 1n],
    ['!0 + !5', 1n],
    ['-(-3)', 3n],
    ['+4', 4n],
    ['-1 < 0', 1n],
    ['-1 < 0u', 0n],
    ['-1 > 0u', 1n],
    ['-7 / 2', -3n],
    ['-7 % 2', -1n],
    ['1 << 63 < 0', 1n],
    ['1 << 64', 'unknown'],
    ['1 << -1', 'unknown'],
    ['-8 >> 1', -4n],
    // defined
    ['defined A', 1n],
    ['defined(A)', 1n],
    ['defined ( A )', 1n],
    ['defined(B)', 0n],
    ['defined(UNKNOWN)', 'unknown'],
    ['defined TWO && TWO == 2', 1n],
    ['!defined(B) || B > 2', 1n],
    ['!defined(THREE) || THREE > 2', 1n],
    ['!defined(ONE) || ONE > 2', 0n],
    ['!defined(UNKNOWN) || UNKNOWN > 2', 'unknown'],
    // division by zero is unknown, and harmless where it is not evaluated
    ['1 / 0', 'unknown'],
    ['1 % 0', 'unknown'],
    ['0 && 1 / 0', 0n],
    ['1 || 1 % 0', 1n],
    ['1 ? 2 : 1 / 0', 2n],
    // short-circuit with unknown
    ['UNKNOWN && 0', 0n],
    ['0 && UNKNOWN', 0n],
    ['UNKNOWN || 1', 1n],
    ['1 || UNKNOWN', 1n],
    ['UNKNOWN && 1', 'unknown'],
    ['UNKNOWN || 0', 'unknown'],
    ['UNKNOWN * 0', 0n],
    ['UNKNOWN ? 7 : 7', 7n],
    ['UNKNOWN ? 7 : 8', 'unknown'],
    // identifiers
    ['UNKNOWN', 'unknown'],
    ['__linux__ + 1', 'unknown'],
    ['B', 0n],
    ['B + 1', 1n],
    ['TWO * 3', 4n], // textual expansion: 1 + 1 * 3
    ['EMPTY', 'unknown'],
    ['EMPTY 1', 1n],
    ['defined(EMPTY)', 1n],
    ['NAME_UNKNOWN', 'unknown'],
    ['NAME_UNDEF', 0n],
    ['STR', 'unknown'],
    ['FLOAT', 'unknown'],
    ['true && !false', 1n],
    ['TO_LINUX', 'unknown'],
    ['CHAIN0', 42n],
    ['BOOM0', 'unknown'],
    // self reference: C does not expand a macro inside its own expansion; the rest is 0
    ['SELF', 0n],
    ['SELF1', 1n],
    ['MUT_A', 0n],
    // function-like macros
    ['FN(1)', 'unknown'],
    ['FN', 0n],
    ['defined(FN)', 1n],
    ['TO_FN(2)', 'unknown'],
    ['__has_include(<stdatomic.h>)', 'unknown'],
    ['0 && __has_include(<x.h>)', 0n],
    // malformed
    ['(1', 'unknown'],
    ['', 'unknown'],
    ['1 +', 'unknown'],
    ['1 2', 'unknown'],
    [')', 'unknown'],
    ['1 = 1', 'unknown'],
    ['"str"', 'unknown'],
    ['1.5', 'unknown'],
    ['08', 'unknown'],
    ['defined', 'unknown'],
    ['defined(', 'unknown'],
    ['defined(A', 'unknown'],
    ['++ONE', 'unknown'],
    ['0 && )', 'unknown'],
    ['1 ? 2', 'unknown'],
    ['B(1)', 'unknown'],
    ['99999999999999999999999', 'unknown'],
    ['('.repeat(5000) + '1' + ')'.repeat(5000), 'unknown'],
    ['!'.repeat(100) + '1', 1n],
  ];
  const e = envOf(env);
  for (const [expr, want] of cases) {
    it(`${expr.length > 40 ? expr.slice(0, 37) + '...' : JSON.stringify(expr)} is ${want}`, () => assert.equal(show(evaluateIf(expr, e)), want));
  }

  it('never throws, even when the env does', () => {
    const throwing: MacroEnv = {
      lookup() {
        throw new Error('boom');
      },
    };
    assert.deepEqual(evaluateIf('X + 1', throwing), { known: false });
    assert.deepEqual(evaluateIf(undefined as unknown as string, envOf({})), { known: false });
  });
});

describe('preprocessor: the workspace macro environment', () => {
  const files = allocatorFiles();
  const facts = files.map((f) => f.facts);
  const byName = (name: string) => files.find((f) => f.name === name)!;

  it('gives the quill_build_flags.h defaults', () => {
    const env = buildMacroEnv(facts, {});
    for (const name of ['QUILL_CLASS_STATS_COMPILED', 'QUILL_FREE_STATS_COMPILED', 'QUILL_DIAG_COMPILED', 'QUILL_MID_LOCK_STATS_COMPILED']) {
      assert.equal(env.values.get(name), '0', name);
      assert.deepEqual(env.lookup(name), { defined: true, value: '0' });
    }
  });

  const release: [string, Record<string, string | null>, string | null, string | null][] = [
    ['NDEBUG=1', { NDEBUG: '1' }, '1', '0'],
    ['NDEBUG not defined', { NDEBUG: null }, '0', '1'],
    ['no NDEBUG info', {}, null, null],
  ];
  for (const [what, extra, rel, dbg] of release) {
    it(`derives QUILL_BUILD_RELEASE and QUILL_DEBUG_COUNTERS with ${what}`, () => {
      const env = buildMacroEnv(facts, extra);
      assert.equal(env.values.get('QUILL_BUILD_RELEASE'), rel);
      assert.equal(env.values.get('QUILL_DEBUG_COUNTERS'), dbg);
      assert.equal(show(evaluateIf('!QUILL_BUILD_RELEASE', env)), rel === null ? 'unknown' : rel === '1' ? 0n : 1n);
    });
  }

  it('treats NDEBUG as not defined when isExternal says it is not external', () => {
    const env = buildMacroEnv(facts, {}, (n) => n.startsWith('__'));
    assert.equal(env.values.get('QUILL_BUILD_RELEASE'), '0');
  });

  it('knows that a name only ever mentioned in a comment is not defined', () => {
    const env = buildMacroEnv(facts, {});
    assert.deepEqual(env.lookup('QUILL_NO_OVERRIDE'), { defined: false });
    const override = byName('quill_override.c');
    assert.equal(activeAt(override.facts, lineOf(override.text, 'QUILL_EXPORT void *malloc'), env), true);
    assert.equal(env.lookup('__linux__'), undefined);
    assert.equal(env.lookup('_GNU_SOURCE'), undefined, 'defined by files, but external: unknown');
  });

  it('settles a default that depends on one in a file listed later', () => {
    const debug = scanPreprocessor('#ifndef X_DEBUG\n# if X_RELEASE\n#  define X_DEBUG 0\n# else\n#  define X_DEBUG 1\n# endif\n#endif\n');
    const rel = scanPreprocessor('#ifndef X_RELEASE\n# ifdef NDEBUG\n#  define X_RELEASE 1\n# else\n#  define X_RELEASE 0\n# endif\n#endif\n');
    assert.equal(buildMacroEnv([debug, rel], { NDEBUG: '1' }).values.get('X_DEBUG'), '0');
    assert.equal(buildMacroEnv([debug, rel], { NDEBUG: null }).values.get('X_DEBUG'), '1');
    assert.equal(buildMacroEnv([debug, rel], {}).values.get('X_DEBUG'), null);
  });

  it('follows an edit of one header into the files that depend on it (cached runs are keyed by their inputs)', () => {
    const debug = scanPreprocessor('#ifndef X_DEBUG\n# if X_RELEASE\n#  define X_DEBUG 0\n# else\n#  define X_DEBUG 1\n# endif\n#endif\n');
    const rel1 = scanPreprocessor('#ifndef X_RELEASE\n# define X_RELEASE 1\n#endif\n');
    const rel0 = scanPreprocessor('#ifndef X_RELEASE\n# define X_RELEASE 0\n#endif\n');
    for (let k = 0; k < 3; k++) {
      assert.equal(buildMacroEnv([debug, rel1], {}).values.get('X_DEBUG'), '0');
      assert.equal(buildMacroEnv([debug, rel0], {}).values.get('X_DEBUG'), '1');
      assert.equal(buildMacroEnv([debug, rel0], { X_RELEASE: '1' }).values.get('X_DEBUG'), '0');
      assert.equal(buildMacroEnv([debug], {}).values.get('X_DEBUG'), '1');
    }
  });

  const external: [string, boolean][] = [
    ['__linux__', true],
    ['__APPLE__', true],
    ['_WIN32', true],
    ['_GNU_SOURCE', true],
    ['NDEBUG', true],
    ['linux', true],
    ['unix', true],
    ['MAP_HUGETLB', true],
    ['MADV_FREE', true],
    ['SYS_gettid', true],
    ['SIZE_MAX', true],
    ['UINTPTR_MAX', true],
    ['_quill_private', false],
    ['QUILL_CLASS_STATS_COMPILED', false],
    ['HAKMEM_POOL_HOTBOX_V2_STATS_COMPILED', false],
    ['SYS_ALLOC_STATS_COMPILED', false],
    ['HAVE_ATOMICS', false],
    ['DEBUG', false],
  ];
  for (const [name, want] of external) {
    it(`counts ${name} as ${want ? 'external (unknown)' : 'a workspace name'} by default`, () => assert.equal(isExternalMacro(name), want));
  }

  const shapes: [string, string, Record<string, string | null>, string, MacroLookup | undefined][] = [
    ['a define under an unknown branch', '#ifdef __linux__\n#define HAS_X 1\n#endif\n', {}, 'HAS_X', undefined],
    ['a define on the #else of an unknown branch only', '#ifdef __linux__\n#else\n#define ELSE_ONLY 1\n#endif\n', {}, 'ELSE_ONLY', undefined],
    ['an #undef on one unknown branch', '#define U 1\n#ifdef __linux__\n#undef U\n#endif\n', {}, 'U', undefined],
    ['a define in nested known branches under an unknown one', '#ifdef __linux__\n# if 1\n#  define NESTED 1\n# endif\n#else\n# define NESTED 1\n#endif\n', {}, 'NESTED', { defined: true, value: '1' }],
    ['the same define on both unknown branches', '#ifdef __linux__\n#define P 4096\n#else\n#define P 4096\n#endif\n', {}, 'P', { defined: true, value: '4096' }],
    ['a known branch', '#ifdef __linux__\n#define HAS_X 1\n#endif\n', { __linux__: '1' }, 'HAS_X', { defined: true, value: '1' }],
    ['a known-skipped branch', '#if 0\n#define DEAD 1\n#endif\n', {}, 'DEAD', { defined: false }],
    ['extra defines over a workspace define', '#define FOO 2\n', { FOO: '5' }, 'FOO', { defined: true, value: '5' }],
    ['#undef', '#define GONE 1\n#undef GONE\n', {}, 'GONE', { defined: false }],
    ['a function-like macro', '#define MAX(a, b) ((a) > (b) ? (a) : (b))\n', {}, 'MAX', { defined: true, value: '((a) > (b) ? (a) : (b))', params: ['a', 'b'] }],
    ['a cycle that never settles', '#ifdef OSC\n#undef OSC\n#else\n#define OSC 1\n#endif\n', {}, 'OSC', undefined],
    ['two files that disagree', '#define TWO_WAY 1\n\u0000#define TWO_WAY 2\n', {}, 'TWO_WAY', undefined],
  ];
  for (const [what, text, extra, name, want] of shapes) {
    it(`simulates ${what}`, () => {
      const files = text.split('\u0000').map(scanPreprocessor);
      assert.deepEqual(buildMacroEnv(files, extra).lookup(name), want);
    });
  }
});

describe('preprocessor: guards and inactive regions in allocator/src', () => {
  const files = allocatorFiles();
  const facts = files.map((f) => f.facts);
  const file = (name: string) => files.find((f) => f.name === name)!;
  const ranges = (f: PpFacts, env: MacroEnv) => inactiveRegions(f, env).map((r) => [r.startLine, r.endLine, r.condition]);

  for (const name of ['quill_malloc.c', 'quill_tiny.c', 'quill_stats.c']) {
    it(`compiles out the QUILL_CLASS_STATS_COMPILED sites of ${name} by default, and the #else with the flag on`, () => {
      const { text, facts: f } = file(name);
      const found = sites(text, 'QUILL_CLASS_STATS_COMPILED');
      assert.ok(found.length > 0);
      const off = buildMacroEnv(facts, {});
      const on = buildMacroEnv(facts, { QUILL_CLASS_STATS_COMPILED: '1' });
      for (const s of found) {
        const thenEnd = (s.elseLine ?? s.endifLine) - 1;
        assert.deepEqual(ranges(f, off).filter((r) => r[0] === s.ifLine + 1), [[s.ifLine + 1, thenEnd, 'QUILL_CLASS_STATS_COMPILED']]);
        assert.equal(activeAt(f, s.ifLine + 1, off), false);
        assert.equal(activeAt(f, s.ifLine + 1, on), true);
        assert.equal(activeAt(f, s.ifLine, off), true, 'the directive line itself stays active');
        const g = guardAt(f, s.ifLine + 1)!;
        assert.deepEqual([g.macro, g.negated, g.line, g.condition], ['QUILL_CLASS_STATS_COMPILED', false, s.ifLine, 'QUILL_CLASS_STATS_COMPILED']);
        if (s.elseLine !== null) {
          assert.equal(activeAt(f, s.elseLine + 1, off), true);
          assert.deepEqual(ranges(f, on).filter((r) => r[0] === s.elseLine! + 1), [[s.elseLine + 1, s.endifLine - 1, '!QUILL_CLASS_STATS_COMPILED']]);
          const ge = guardAt(f, s.elseLine + 1)!;
          assert.deepEqual([ge.macro, ge.negated, ge.kind], ['QUILL_CLASS_STATS_COMPILED', true, 'else']);
        }
      }
      assert.ok(!ranges(f, on).some((r) => r[0] === found[0].ifLine + 1));
    });
  }

  it('lists exactly the telemetry compile-out bodies of quill_malloc.c as inactive by default', () => {
    const { text, facts: f } = file('quill_malloc.c');
    const want = ['QUILL_CLASS_STATS_COMPILED', 'QUILL_FREE_STATS_COMPILED', 'QUILL_DIAG_COMPILED']
      .flatMap((m) => sites(text, m).map((s) => [s.ifLine + 1, (s.elseLine ?? s.endifLine) - 1, m]))
      .sort((a, b) => (a[0] as number) - (b[0] as number));
    assert.deepEqual(ranges(f, buildMacroEnv(facts, {})), want);
  });

  it('sees `#if !QUILL_BUILD_RELEASE` in quill_tiny.c as a negated guard that depends on NDEBUG', () => {
    const { text, facts: f } = file('quill_tiny.c');
    const [s] = sites(text, '!QUILL_BUILD_RELEASE');
    const inside = s.ifLine + 1;
    const g = guardAt(f, inside)!;
    assert.deepEqual([g.macro, g.negated, g.condition, g.line], ['QUILL_BUILD_RELEASE', true, '!QUILL_BUILD_RELEASE', s.ifLine]);
    assert.equal(activeAt(f, inside, buildMacroEnv(facts, {})), null);
    assert.equal(activeAt(f, inside, buildMacroEnv(facts, { NDEBUG: '1' })), false);
    assert.equal(activeAt(f, inside, buildMacroEnv(facts, { NDEBUG: null })), true);
    assert.ok(!ranges(f, buildMacroEnv(facts, {})).some((r) => r[0] === inside), 'unknown is not inactive');
    assert.ok(ranges(f, buildMacroEnv(facts, { NDEBUG: '1' })).some((r) => r[0] === inside && r[2] === '!QUILL_BUILD_RELEASE'));
  });

  it('never reports include guards as guards or inactive regions', () => {
    const env = buildMacroEnv(facts, {});
    assert.equal(env.values.get('QUILL_INTERNAL_H'), '', 'the guard macro is defined workspace-wide');
    const { text, facts: f } = file('quill_internal.h');
    assert.equal(f.includeGuard, 'QUILL_INTERNAL_H');
    assert.deepEqual(inactiveRegions(f, env), []);
    assert.deepEqual(inactiveRegions(f, envOf({ QUILL_INTERNAL_H: '' })), []);
    assert.equal(guardAt(f, lineOf(text, 'QUILL_SPAN_SHIFT 16')), null);
    assert.equal(activeAt(f, lineOf(text, 'QUILL_SPAN_SHIFT 16'), env), true);
  });

  it('judges a header by its own defaults: nothing inactive in quill_build_flags.h unless -D says so', () => {
    const { text, facts: f } = file('quill_build_flags.h');
    assert.deepEqual(inactiveRegions(f, buildMacroEnv(facts, { NDEBUG: null })).map((r) => r.condition), ['defined(NDEBUG)', 'QUILL_BUILD_RELEASE']);
    const line = lineOf(text, '# define QUILL_CLASS_STATS_COMPILED 0');
    assert.equal(activeAt(f, line, buildMacroEnv(facts, {})), true);
    assert.equal(activeAt(f, line, buildMacroEnv(facts, { QUILL_CLASS_STATS_COMPILED: '1' })), false);
  });

  it('applies a file’s own #define and #undef in order', () => {
    const f = scanPreprocessor('#define USE_FAST 1\n#if USE_FAST\nint fast;\n#endif\n#undef USE_FAST\n#if USE_FAST\nint slow;\n#endif\n');
    const env = buildMacroEnv([f], {});
    assert.deepEqual(inactiveRegions(f, env).map((r) => [r.startLine, r.endLine]), [[7, 7]]);
  });

  const mains: [string, string, boolean][] = [
    ['#if QUILL_X', 'QUILL_X', false],
    ['#if !QUILL_X', 'QUILL_X', true],
    ['#ifndef QUILL_X', 'QUILL_X', true],
    ['#if !defined(QUILL_X)', 'QUILL_X', true],
    ['#if QUILL_X == 0', 'QUILL_X', true],
    ['#if defined(__linux__) && !QUILL_X', 'QUILL_X', true],
    ['#if defined(__linux__)', '__linux__', false],
    ['#if 0', '', false],
  ];
  for (const [directive, macro, negated] of mains) {
    it(`takes ${macro || 'no macro'} as the main macro of \`${directive}\` (negated: ${negated})`, () => {
      const g = guardAt(scanPreprocessor(`${directive}\nint x;\n#endif\n`), 2)!;
      assert.deepEqual([g.macro, g.negated], [macro, negated]);
    });
  }

  const chains: [string, string, EnvSpec, (boolean | null)[]][] = [
    ['unknown, then true: the #else is known skipped', '#if U\na;\n#elif 1\nb;\n#else\nc;\n#endif\n', {}, [null, null, false]],
    ['true, then unknown: the rest is known skipped', '#if 1\na;\n#elif U\nb;\n#else\nc;\n#endif\n', {}, [true, false, false]],
    ['false, then unknown', '#if 0\na;\n#elif U\nb;\n#else\nc;\n#endif\n', {}, [false, null, null]],
    ['elifdef and elifndef', '#ifdef A\na;\n#elifdef B\nb;\n#elifndef C\nc;\n#endif\n', { A: null, B: null, C: null }, [false, false, true]],
    ['under an unknown parent', '#if U\n#if 1\na;\n#else\nb;\n#endif\n#endif\n', {}, [null, false]],
  ];
  for (const [what, text, spec, want] of chains) {
    it(`decides branches in order: ${what}`, () => {
      const f = scanPreprocessor(text);
      const lines = text.split('\n').flatMap((l, i) => (/^[a-z]+;$/.test(l) ? [i + 1] : []));
      assert.deepEqual(lines.map((l) => activeAt(f, l, envOf(spec))), want);
    });
  }

  it('spells the condition of #elif and #else branches', () => {
    const f = scanPreprocessor('#if A\na;\n#elif B || C\nbc;\n#elif defined(D)\nd;\n#else\ne;\n#endif\n');
    assert.deepEqual(
      inactiveRegions(f, envOf({ A: '0', B: '0', C: '0', D: null })).map((r) => [r.startLine, r.condition]),
      [
        [2, 'A'],
        [4, '!A && (B || C)'],
        [6, '!A && !(B || C) && defined(D)'],
      ],
    );
    assert.equal(guardAt(f, 8)!.condition, '!A && !(B || C) && !defined(D)');
    const chain = scanPreprocessor('#if X == 0\n' + Array.from({ length: 2000 }, (_, k) => `#elif X == ${k + 1}\nint v${k};\n`).join('') + '#endif\n');
    const regions = inactiveRegions(chain, envOf({ X: '5000' }));
    assert.equal(regions.length, 2000);
    assert.ok(regions.every((r) => r.condition.length < 200));
  });

  it('returns null outside any conditional', () => {
    const { text, facts: f } = file('quill_malloc.c');
    assert.equal(guardAt(f, lineOf(text, 'int quill_init(void)')), null);
  });
});

describe('preprocessor: the HAKMEM seed shapes (fixtures/preprocessor)', () => {
  const header = scanPreprocessor(read(path.join(PP, 'hakmem_pool_flags.h')));
  const text = read(path.join(PP, 'hakmem_pool.c'));
  const source = scanPreprocessor(text);
  const carets = readCarets(text);

  it('marks the wrapped stats site inactive and its #else active under the default 0', () => {
    const env = buildMacroEnv([header, source], {});
    assert.equal(env.values.get('HAKMEM_POOL_HOTBOX_V2_STATS_COMPILED'), '0');
    for (const c of carets) assert.equal(activeAt(source, c.line, env), c.kind === 'active', `line ${c.line}`);
    const inactive = carets.filter((c) => c.kind === 'inactive').map((c) => c.line);
    for (const line of inactive) assert.ok(inactiveRegions(source, env).some((r) => r.startLine <= line && line <= r.endLine));
  });

  it('flips with -DHAKMEM_POOL_HOTBOX_V2_STATS_COMPILED=1', () => {
    const env = buildMacroEnv([header, source], { HAKMEM_POOL_HOTBOX_V2_STATS_COMPILED: '1' });
    const inElse = (line: number) => guardAt(source, line)?.kind === 'else';
    assert.ok(carets.some((c) => inElse(c.line)));
    for (const c of carets) assert.equal(activeAt(source, c.line, env), !inElse(c.line), `line ${c.line}`);
  });

  it('shows the existing guard of the site', () => {
    const site = carets.find((c) => c.kind === 'inactive')!;
    const g = guardAt(source, site.line)!;
    assert.deepEqual([g.macro, g.negated], ['HAKMEM_POOL_HOTBOX_V2_STATS_COMPILED', false]);
    assert.deepEqual(
      source.uses.map((u) => u.name),
      ['HAKMEM_POOL_HOTBOX_V2_STATS_COMPILED'],
    );
  });
});

describe('preprocessor: robustness', () => {
  const TOKENS = ['#if ', '#ifdef ', '#ifndef ', '#elif ', '#else', '#endif', '#define ', '#undef ', '\\\n', '\n', '\r\n', '/*', '*/', '//', '"', "'", '(', ')', 'defined', '&&', '||', '!', '?', ':', '0', '1', '0x', 'X', '__linux__', '\u0000', '\ud800', '%:', '##'];

  function mutate(text: string, r: () => number): string {
    let s = text;
    const n = 1 + Math.floor(r() * 8);
    for (let k = 0; k < n; k++) {
      const at = Math.floor(r() * (s.length + 1));
      const op = r();
      if (op < 0.3) s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 0x10000)) + s.slice(at + 1);
      else if (op < 0.6) s = s.slice(0, at) + TOKENS[Math.floor(r() * TOKENS.length)] + s.slice(at);
      else if (op < 0.8) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 40));
      else {
        const from = Math.floor(r() * s.length);
        s = s.slice(0, at) + s.slice(from, from + Math.floor(r() * 200)) + s.slice(at);
      }
    }
    return s;
  }

  function exercise(texts: string[], extra: Record<string, string | null>): void {
    const facts = texts.map(scanPreprocessor);
    const env = buildMacroEnv(facts, extra);
    for (const f of facts) {
      inactiveRegions(f, env);
      for (const line of [1, Math.floor(f.lastLine / 2), f.lastLine, f.lastLine + 5, 0, -1]) {
        guardAt(f, line);
        activeAt(f, line, env);
      }
      for (const d of f.directives) if (d.expr !== undefined) evaluateIf(d.expr, env);
    }
  }

  it('never throws on thousands of random mutations of the fixtures', function () {
    this.timeout(60_000);
    const corpus = [
      read(path.join(PP, 'lexing.c')),
      read(path.join(PP, 'hakmem_pool.c')),
      read(path.join(PP, 'hakmem_pool_flags.h')),
      read(path.join(SRC, 'quill_build_flags.h')),
      read(path.join(SRC, 'quill_tiny.c')),
    ];
    const r = rng(4);
    for (let i = 0; i < 3000; i++) {
      const a = mutate(corpus[i % corpus.length], r);
      const b = mutate(corpus[3], r);
      assert.doesNotThrow(() => exercise([a, b], i % 2 ? { NDEBUG: '1', X: '1' } : {}), `mutation ${i}`);
    }
  });

  it('never throws on random bytes or binary files', () => {
    const r = rng(7);
    for (let i = 0; i < 50; i++) {
      const bytes = Buffer.alloc(2000 + Math.floor(r() * 20_000));
      for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(r() * 256);
      if (i % 2) for (let k = 0; k < bytes.length; k += 37) bytes[k] = 0x23; // '#'
      assert.doesNotThrow(() => exercise([bytes.toString('utf8'), bytes.toString('latin1')], {}));
    }
  });

  it('never throws on hostile environments', () => {
    const f = scanPreprocessor('#if A\nint a;\n#elif B(1)\n#endif\n');
    const hostile: MacroEnv = {
      lookup(name) {
        if (name === 'A') throw new Error('boom');
        return { defined: true, value: '(((' };
      },
      lookupInitial() {
        throw new Error('boom');
      },
    };
    assert.doesNotThrow(() => [inactiveRegions(f, hostile), activeAt(f, 2, hostile), guardAt(f, 2)]);
    assert.doesNotThrow(() => buildMacroEnv([f], {}, () => {
      throw new Error('boom');
    }));
  });
});
