import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { globSync } from 'tinyglobby';
import { defaultAnalysisOptions, globToRegExp } from '../../core/analysis/options';
import type { AuditReport } from '../../core/analysis/report';
import { WorkspaceAnalysis } from '../../core/analysis/workspaceAnalysis';
import { planCompileOut, type CompileOutInput, type CompileOutPlan } from '../../core/edits/compileOut';
import { detectPrefix, familyStem, proposeFlag, validateFlagName } from '../../core/edits/flagName';
import { planRemoveCompileOut } from '../../core/edits/removeCompileOut';
import { applyTextEdits, type EditSource, type FileEdit } from '../../core/edits/textEdits';
import { CParser } from '../../core/parsing/cParser';
import { readCarets } from '../support/carets';
import { FIXTURES, ROOT, nodeModulesWasm } from '../support/paths';

const FIXTURE = path.join(FIXTURES, 'compileout');
const ALLOCATOR = path.join(ROOT, 'allocator');
const VERSION = 7;

/** A workspace folder held in memory, analysed the way the server analyses one. */
class Mem {
  constructor(
    readonly root: string,
    readonly texts: Map<string, string>,
    private readonly parser: CParser,
  ) {}

  static load(dir: string, parser: CParser): Mem {
    const files = globSync(['**/*.c', '**/*.h'], { cwd: dir, ignore: ['build/**'] }).sort();
    return new Mem(dir, new Map(files.map((f) => [f, readFileSync(path.join(dir, f), 'utf8')])), parser);
  }

  copy(): Mem {
    const m = new Mem(this.root, new Map(this.texts), this.parser);
    m.cached = this.cached;
    return m;
  }

  private cached?: { key: string; report: AuditReport };

  report(): AuditReport {
    const key = [...this.texts.values()].join('\0');
    if (this.cached?.key !== key) {
      const wa = new WorkspaceAnalysis(this.parser);
      for (const [f, t] of this.texts) wa.setFile(path.join(this.root, f), t);
      this.cached = { key, report: wa.report(defaultAnalysisOptions(), this.root) };
    }
    return this.cached.report;
  }

  source(): EditSource {
    return { files: () => [...this.texts.keys()].sort(), read: (f) => (this.texts.has(f) ? { text: this.texts.get(f)!, version: VERSION } : undefined) };
  }

  plan(family: string, extra: Partial<CompileOutInput> = {}): CompileOutPlan {
    const tests = defaultAnalysisOptions().ignoreReadsIn.map(globToRegExp);
    return planCompileOut({ parser: this.parser, source: this.source(), report: this.report(), family, isTestFile: (f) => tests.some((t) => t.test(f)), ...extra });
  }

  apply(edits: readonly FileEdit[]): void {
    for (const e of edits) this.texts.set(e.file, applyTextEdits(e.create ? '' : this.texts.get(e.file)!, e.edits));
  }

  removeAll(flag: string): void {
    for (;;) {
      const hit = [...this.texts].map(([file, t]) => ({ file, line: t.split(/\r?\n/).indexOf(`#if ${flag}`) + 2 })).find((x) => x.line > 1);
      if (!hit) return;
      const plan = planRemoveCompileOut({ parser: this.parser, source: this.source(), file: hit.file, line: hit.line, scope: 'flag' });
      assert.ok(plan.removed.length > 0, `nothing removed at ${hit.file}:${hit.line}`);
      this.apply(plan.edits);
    }
  }
}

const siteKey = (s: { file: string; line: number }) => `${s.file}:${s.line}`;

/**
 * What "remove" gives back for xa_pool.c: a statement that shared its line with code (`if (c) x;`,
 * `else x;`, `do x; while (0);`) was moved to its own line by the fix, and stays there.
 */
function ownLines(text: string): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return text
    .replace(`    if (p == NULL) atomic_`, `    if (p == NULL)${eol}        atomic_`)
    .replace(`    if (c > 4) foo(); else atomic_`, `    if (c > 4) foo(); else${eol}        atomic_`)
    .replace(`    do atomic_fetch_add_explicit(&g_xa_stats[c].refills, 1, memory_order_relaxed); while (0);`, `    do${eol}        atomic_fetch_add_explicit(&g_xa_stats[c].refills, 1, memory_order_relaxed);${eol}    while (0);`);
}

describe('compile-out quick fix (core/edits)', () => {
  let parser: CParser;
  let fixture: Mem;
  before(async () => {
    parser = await CParser.create(nodeModulesWasm());
    fixture = Mem.load(FIXTURE, parser);
  });
  after(() => parser.dispose());

  describe('the fixture family g_xa_stats', () => {
    let plan: CompileOutPlan;
    let out: Mem;
    before(() => {
      plan = fixture.plan('g_xa_stats');
      out = fixture.copy();
      out.apply(plan.edits);
    });

    it('proposes XA_STATS_COMPILED from the workspace prefix and the family', () => {
      assert.equal(plan.prefix, 'XA_');
      assert.equal(plan.proposedFlag, 'XA_STATS_COMPILED');
      assert.equal(plan.flag, 'XA_STATS_COMPILED');
      assert.equal(plan.invalidFlag, null);
      assert.equal(plan.error, null);
      assert.equal(plan.classification, 'telemetry');
      assert.ok(plan.evidence.length > 0 && plan.evidence.every((e) => e.kind === 'print' || e.kind === 'print-guard'), JSON.stringify(plan.evidence));
    });

    it('does what each caret says: wrap, skip (with the reason) or leave an already compiled-out site', () => {
      const wrapped = new Set(plan.wrapped.map(siteKey));
      const skipped = new Map(plan.skipped.map((s) => [siteKey(s), s.reason]));
      const already = new Map(plan.alreadyWrapped.map((s) => [siteKey(s), s.flag]));
      let checked = 0;
      const marked = new Set<string>();
      for (const file of ['src/xa_pool.c', 'src/sub/xa_other.c', 'tests/xa_test.c']) {
        for (const c of readCarets(fixture.texts.get(file)!)) {
          const [what, ...words] = c.kind.split(/\s+/);
          const key = `${file}:${c.line}`;
          if (file === 'src/sub/xa_other.c') continue; // another family
          if (what === 'wrap') assert.ok(wrapped.has(key), `${key} should be wrapped; skipped: ${skipped.get(key)}`);
          else if (what === 'skip') {
            const reason = skipped.get(key);
            assert.ok(reason, `${key} should be skipped`);
            for (const w of words) assert.match(reason, new RegExp(w), `${key}: ${reason}`);
          } else if (what === 'already') assert.equal(already.get(key), 'XA_FREE_STATS_COMPILED', key);
          else continue;
          marked.add(key);
          checked++;
        }
      }
      assert.equal(checked, 17);
      // Nothing happens to a site without a caret, except the two #defines of xa_stats.h.
      for (const s of [...plan.wrapped, ...plan.skipped, ...plan.alreadyWrapped]) if (s.file !== 'src/xa_stats.h') assert.ok(marked.has(siteKey(s)), `unmarked ${siteKey(s)}`);
      assert.deepEqual(
        plan.wrapped.filter((w) => w.kind === 'macro').map(siteKey),
        ['src/xa_stats.h:20'],
      );
      assert.match(skipped.get('src/xa_stats.h:23') ?? '', /macro XA_BUMP_FREE writes `g_xa_stats` and its value is used at src\/xa_pool\.c:84/);
    });

    it('wraps a statement on its own lines in the seeds pattern, text and indentation untouched', () => {
      const t = out.texts.get('src/xa_pool.c')!;
      assert.ok(
        t.includes(
          '    unsigned c = (unsigned)(size >> 4) & 7;\n#if XA_STATS_COMPILED\n    atomic_fetch_add_explicit(&g_xa_stats[c].alloc_calls, 1, memory_order_relaxed);\n#else\n    (void)0;\n#endif\n    // ^ wrap\n',
        ),
      );
      // A braceless if body that spans lines: the body stays the body, (void)0; keeps it valid.
      assert.ok(
        t.includes(
          '    if (size == 0)\n#if XA_STATS_COMPILED\n        atomic_fetch_add_explicit(&g_xa_stats[c].free_calls, 1,\n        // ^ wrap\n                                  memory_order_relaxed);\n#else\n        (void)0;\n#endif\n',
        ),
      );
    });

    it('moves a statement that shares its line with code onto its own line (if, else, do-while)', () => {
      const t = out.texts.get('src/xa_pool.c')!;
      assert.ok(t.includes('    if (p == NULL)\n#if XA_STATS_COMPILED\n        atomic_fetch_add_explicit(&g_xa_stats[c].free_calls, 1, memory_order_relaxed);\n#else\n        (void)0;\n#endif\n'));
      assert.ok(t.includes('    if (c > 4) foo(); else\n#if XA_STATS_COMPILED\n        atomic_fetch_add_explicit'));
      assert.ok(t.includes('    do\n#if XA_STATS_COMPILED\n        atomic_fetch_add_explicit(&g_xa_stats[c].refills, 1, memory_order_relaxed);\n#else\n        (void)0;\n#endif\n    while (0);\n'));
    });

    it('wraps adjacent sites as one block, with a trailing comment kept on its statement', () => {
      const t = out.texts.get('src/xa_pool.c')!;
      assert.ok(
        t.includes(
          '#if XA_STATS_COMPILED\n    atomic_fetch_add_explicit(&g_xa_stats[c].free_calls, 1, memory_order_relaxed);\n    // ^ wrap\n    atomic_fetch_add_explicit(&g_xa_stats[c].refills, 1, memory_order_relaxed); /* trailing comment */\n#else\n    (void)0;\n#endif\n',
        ),
      );
    });

    it('keeps a local that only the wrapped code uses used in the #else branch: (void)k;', () => {
      const t = out.texts.get('src/xa_pool.c')!;
      assert.ok(t.includes('#if XA_STATS_COMPILED\n    atomic_fetch_add_explicit(&g_xa_stats[k & 7].refills, 1, memory_order_relaxed);\n#else\n    (void)k;\n#endif\n'));
      assert.ok(plan.notes.some((n) => /`k` only feeds the wrapped code/.test(n)), plan.notes.join('\n'));
    });

    it('wraps the #define of a macro that writes the family, with a no-op #else definition', () => {
      assert.ok(
        out.texts.get('src/xa_stats.h')!.includes(
          '#if XA_STATS_COMPILED\n#define XA_COUNT_REFILL(c) atomic_fetch_add_explicit(&g_xa_stats[c].refills, 1, memory_order_relaxed)\n#else\n#define XA_COUNT_REFILL(c) ((void)0)\n#endif\n',
        ),
      );
      // The macro used as a value is left exactly as it was.
      assert.ok(out.texts.get('src/xa_stats.h')!.includes('/* One whose value is used somewhere: reported, not wrapped. */\n#define XA_BUMP_FREE(c) \\\n'));
    });

    it('adds the default after the last _COMPILED default of the detected header, and no #include the files already reach', () => {
      assert.deepEqual(plan.header, { file: 'src/xa_flags.h', created: false, defaultAdded: true });
      assert.ok(
        out.texts.get('src/xa_flags.h')!.includes(
          '# define XA_OLD_STATS_COMPILED 0\n#endif\n\n/* g_xa_stats telemetry (10 write sites, hot): 0 compiles it out, 1 compiles it in. */\n#ifndef XA_STATS_COMPILED\n# define XA_STATS_COMPILED 0\n#endif\n\n/* Not telemetry. */',
        ),
      );
      assert.deepEqual(plan.includesAdded, []);
    });

    it('returns one edit per file, sorted and non-overlapping, carrying the version of the text it read', () => {
      assert.deepEqual(plan.edits.map((e) => e.file), ['src/xa_flags.h', 'src/xa_pool.c', 'src/xa_stats.h']);
      for (const e of plan.edits) {
        assert.equal(e.version, VERSION);
        for (let i = 1; i < e.edits.length; i++) assert.ok(e.edits[i].start >= e.edits[i - 1].end, `${e.file}: edits ${i - 1} and ${i} overlap`);
      }
    });

    it('is idempotent: a second run leaves every site alone and edits nothing', () => {
      const again = out.plan('g_xa_stats');
      assert.equal(again.proposedFlag, 'XA_STATS_COMPILED', 'the flag that wraps the family is proposed again');
      assert.equal(again.invalidFlag, null, 'and is valid although it is now a macro');
      assert.deepEqual(again.edits, []);
      assert.deepEqual(again.wrapped, []);
      assert.equal(again.alreadyWrapped.filter((a) => a.flag === 'XA_STATS_COMPILED').length, 10, JSON.stringify(again.alreadyWrapped));
      // The macro site and the statement sites; the skipped ones stay skipped.
      assert.deepEqual(again.skipped.map((s) => `${s.file} ${s.reason.replace(/:?\d+/g, '')}`), plan.skipped.map((s) => `${s.file} ${s.reason.replace(/:?\d+/g, '')}`));
      assert.match(again.error ?? '', /no write site of `g_xa_stats` can be wrapped/);
    });

    it('round-trips: removing every wrapper of the flag gives back the original files', () => {
      const back = out.copy();
      back.removeAll('XA_STATS_COMPILED');
      for (const [file, text] of fixture.texts) assert.equal(back.texts.get(file), file === 'src/xa_pool.c' ? ownLines(text) : text, file);
    });

    it('removes one wrapper alone (the default stays), and the default with the last one', () => {
      const t = out.texts.get('src/xa_pool.c')!;
      const line = t.split('\n').indexOf('    atomic_fetch_add_explicit(&g_xa_stats[k & 7].refills, 1, memory_order_relaxed);') + 1;
      const one = planRemoveCompileOut({ parser, source: out.source(), file: 'src/xa_pool.c', line, scope: 'site' });
      assert.equal(one.flag, 'XA_STATS_COMPILED');
      assert.equal(one.total, 9);
      assert.deepEqual(one.removed, [{ file: 'src/xa_pool.c', line: line - 1, kind: 'statement' }]);
      assert.equal(one.defaultRemoved, null);
      const after = out.copy();
      after.apply(one.edits);
      assert.ok(after.texts.get('src/xa_pool.c')!.includes('    unsigned k = cls + 1;\n    atomic_fetch_add_explicit(&g_xa_stats[k & 7].refills, 1, memory_order_relaxed);\n    // ^ wrap\n'));
      assert.ok(after.texts.get('src/xa_flags.h')!.includes('#ifndef XA_STATS_COMPILED'));
      // Remove the others one at a time: the last removal takes the default and its comment with it.
      let last = one;
      for (let i = 0; i < 8; i++) {
        const cur = after.texts.get('src/xa_pool.c')!.split('\n');
        const file = cur.includes('#if XA_STATS_COMPILED') ? 'src/xa_pool.c' : 'src/xa_stats.h';
        const l = after.texts.get(file)!.split('\n').indexOf('#if XA_STATS_COMPILED') + 2;
        last = planRemoveCompileOut({ parser, source: after.source(), file, line: l, scope: 'site' });
        assert.equal(last.removed.length, 1);
        after.apply(last.edits);
      }
      assert.deepEqual(last.defaultRemoved, { file: 'src/xa_flags.h', line: 12 });
      for (const [file, text] of fixture.texts) assert.equal(after.texts.get(file), file === 'src/xa_pool.c' ? ownLines(text) : text, file);
    });

    it('finds nothing to remove outside a wrapper', () => {
      const r = planRemoveCompileOut({ parser, source: out.source(), file: 'src/xa_pool.c', line: 3, scope: 'site' });
      assert.equal(r.flag, null);
      assert.deepEqual(r.edits, []);
    });
  });

  it('keeps CRLF files CRLF, and round-trips them', () => {
    const crlf = fixture.copy();
    for (const f of ['src/xa_pool.c', 'src/xa_flags.h', 'src/xa_stats.h']) crlf.texts.set(f, crlf.texts.get(f)!.replace(/\n/g, '\r\n'));
    const plan = crlf.plan('g_xa_stats');
    assert.equal(plan.wrapped.length, 10);
    const out = crlf.copy();
    out.apply(plan.edits);
    for (const f of ['src/xa_pool.c', 'src/xa_flags.h', 'src/xa_stats.h']) {
      const t = out.texts.get(f)!;
      assert.ok(t.includes(f.endsWith('flags.h') ? '#ifndef XA_STATS_COMPILED\r\n' : '#if XA_STATS_COMPILED\r\n'), f);
      assert.equal(/[^\r]\n/.test(t), false, `${f} has a bare LF`);
    }
    out.removeAll('XA_STATS_COMPILED');
    for (const [file, text] of crlf.texts) assert.equal(out.texts.get(file), file === 'src/xa_pool.c' ? ownLines(text) : text, file);
  });

  it('keeps tab indentation, and adds the #include with a relative path where the header is not reached', () => {
    const plan = fixture.plan('g_xa_tab_hits');
    assert.equal(plan.flag, 'XA_TAB_HITS_COMPILED');
    assert.deepEqual(plan.includesAdded, ['src/sub/xa_other.c']);
    assert.ok(plan.notes.some((n) => n.startsWith('test or benchmark code reads `g_xa_tab_hits` (tests/xa_test.c:14 in main): with XA_TAB_HITS_COMPILED at 0 those reads see 0')), plan.notes.join('\n'));
    const out = fixture.copy();
    out.apply(plan.edits);
    assert.equal(
      out.texts.get('src/sub/xa_other.c'),
      '/* xa_other.c - tab indentation, and no #include that reaches xa_flags.h. */\n#include <stdatomic.h>\n#include "../xa_flags.h"\n\n_Atomic unsigned long g_xa_tab_hits;\n\n' +
        'void xa_tab_free(void *p) {\n\tif (p)\n#if XA_TAB_HITS_COMPILED\n\t\tatomic_fetch_add_explicit(&g_xa_tab_hits, 1, memory_order_relaxed);\n#else\n\t\t(void)0;\n#endif\n//^ wrap\n' +
        '\tif (!p)\n#if XA_TAB_HITS_COMPILED\n\t\tatomic_fetch_add_explicit(&g_xa_tab_hits, 1, memory_order_relaxed);\n#else\n\t\t(void)0;\n#endif\n\t//      ^ wrap\n}\n',
    );
    // The header never includes itself; a second run adds no second #include.
    assert.ok(!plan.edits.find((e) => e.file === 'src/xa_flags.h')!.edits.some((e) => e.newText.includes('#include')));
    assert.deepEqual(out.plan('g_xa_tab_hits').edits, []);
  });

  it('puts the default before the include guard\'s #endif when the header has no _COMPILED default yet', () => {
    const ws = fixture.copy();
    ws.texts.set('src/xa_flags.h', '/* flags */\n#ifndef XA_FLAGS_H\n#define XA_FLAGS_H\n\n#define XA_PAGE_SHIFT 12\n\n#endif /* XA_FLAGS_H */\n');
    const plan = ws.plan('g_xa_tab_hits', { flagsHeader: 'src/xa_flags.h' });
    ws.apply(plan.edits);
    assert.equal(
      ws.texts.get('src/xa_flags.h'),
      '/* flags */\n#ifndef XA_FLAGS_H\n#define XA_FLAGS_H\n\n#define XA_PAGE_SHIFT 12\n\n/* g_xa_tab_hits telemetry (2 write sites, hot): 0 compiles it out, 1 compiles it in. */\n#ifndef XA_TAB_HITS_COMPILED\n# define XA_TAB_HITS_COMPILED 0\n#endif\n\n#endif /* XA_FLAGS_H */\n',
    );
    // No header holds a default and none is configured: say how to fix it.
    const bare = fixture.copy();
    bare.texts.set('src/xa_flags.h', '#ifndef XA_FLAGS_H\n#define XA_FLAGS_H\n#endif\n');
    const p2 = bare.plan('g_xa_tab_hits');
    assert.match(p2.error ?? '', /set allocLens\.compileOut\.flagsHeader/);
    assert.deepEqual(p2.edits, []);
  });

  it('creates the configured header when it does not exist, and includes it', () => {
    const plan = fixture.plan('g_xa_stats', { flagsHeader: 'src/xa_new_flags.h' });
    const created = plan.edits.find((e) => e.file === 'src/xa_new_flags.h')!;
    assert.equal(created.create, true);
    assert.deepEqual(plan.header, { file: 'src/xa_new_flags.h', created: true, defaultAdded: true });
    assert.match(created.edits[0].newText, /^\/\* xa_new_flags\.h .*\n#ifndef XA_NEW_FLAGS_H\n#define XA_NEW_FLAGS_H\n\n\/\* g_xa_stats telemetry .*\n#ifndef XA_STATS_COMPILED\n# define XA_STATS_COMPILED 0\n#endif\n\n#endif \/\* XA_NEW_FLAGS_H \*\/\n$/);
    assert.deepEqual(plan.includesAdded.sort(), ['src/xa_pool.c', 'src/xa_stats.h']);
    const out = fixture.copy();
    out.apply(plan.edits);
    assert.ok(out.texts.get('src/xa_pool.c')!.includes('#include "xa_stats.h"\n#include "xa_new_flags.h"\n'));
    assert.ok(out.texts.get('src/xa_stats.h')!.includes('#include "xa_flags.h"\n#include "xa_new_flags.h"\n'));
  });

  it('refuses correctness, plans unknown (the client confirms), refuses counters only tests write', () => {
    const c = fixture.plan('g_xa_len');
    assert.equal(c.classification, 'correctness');
    assert.match(c.error ?? '', /correctness.*must not be compiled out/);
    assert.deepEqual(c.edits, []);
    const u = fixture.plan('g_xa_mystery');
    assert.equal(u.classification, 'unknown');
    assert.equal(u.error, null);
    assert.equal(u.wrapped.length, 1);
    assert.ok(u.evidence.some((e) => e.kind === 'call'), JSON.stringify(u.evidence));
    const t = fixture.plan('g_checks');
    assert.match(t.error ?? '', /only written in test or benchmark code/);
    assert.deepEqual(t.edits, []);
  });

  it('validates the flag name: a C identifier, no keyword or reserved name, no existing macro', () => {
    const invalid = (flag: string) => fixture.plan('g_xa_stats', { flag, validateOnly: true }).invalidFlag;
    assert.match(invalid('') ?? '', /Enter a flag name/);
    assert.match(invalid('1XA') ?? '', /not a C identifier/);
    assert.match(invalid('XA-STATS') ?? '', /not a C identifier/);
    assert.match(invalid('int') ?? '', /C keyword/);
    assert.match(invalid('__XA') ?? '', /reserved/);
    assert.match(invalid('_XA') ?? '', /reserved/);
    assert.match(invalid('XA_OLD_STATS_COMPILED') ?? '', /already a macro \(src\/xa_flags\.h:7\)/);
    assert.match(invalid('XA_COUNT_REFILL') ?? '', /already a macro \(src\/xa_stats\.h:20\)/);
    assert.equal(invalid('XA_MY_OWN_NAME'), null);
    // The flag that already wraps part of the family may be reused.
    assert.equal(invalid('XA_FREE_STATS_COMPILED'), null);
    // Validation alone edits nothing but counts what would be wrapped.
    const v = fixture.plan('g_xa_stats', { validateOnly: true });
    assert.deepEqual(v.edits, []);
    assert.equal(v.wrapped.length, 15, 'every site not compiled out and not in tests is a candidate');
  });

  it('proposes names in the seeds\' shape and steps around names that are taken', () => {
    assert.equal(familyStem('g_pool_hotbox_v2_stats', 'HAKMEM_'), 'POOL_HOTBOX_V2_STATS');
    assert.equal(proposeFlag('g_pool_hotbox_v2_stats', 'HAKMEM_', () => false), 'HAKMEM_POOL_HOTBOX_V2_STATS_COMPILED');
    assert.equal(proposeFlag('g_quill_diag', 'QUILL_', (n) => n === 'QUILL_DIAG_COMPILED'), 'QUILL_DIAG_STATS_COMPILED');
    assert.equal(proposeFlag('g_x', '', (n) => n !== 'X_2_COMPILED'), 'X_2_COMPILED');
    assert.equal(proposeFlag('quill_heap', 'QUILL_', () => false), 'QUILL_HEAP_COMPILED');
    assert.equal(detectPrefix({ flags: [], envGates: [] }), '');
    assert.equal(validateFlagName('X', new Map([['X', { file: 'a.h', line: 1 }]]), new Set(['X'])), null);
  });

  describe('on allocator/ (quill)', () => {
    let quill: Mem;
    before(() => {
      quill = Mem.load(ALLOCATOR, parser);
    });

    it('wraps the 11 g_quill_tcache_stats sites in 3 files behind QUILL_TCACHE_STATS_COMPILED', () => {
      const plan = quill.plan('g_quill_tcache_stats');
      assert.equal(plan.prefix, 'QUILL_');
      assert.equal(plan.flag, 'QUILL_TCACHE_STATS_COMPILED');
      assert.equal(plan.wrapped.length, 11);
      assert.deepEqual(plan.skipped, []);
      assert.deepEqual(plan.edits.map((e) => e.file), ['src/quill_build_flags.h', 'src/quill_malloc.c', 'src/quill_remote.c', 'src/quill_tiny.c']);
      assert.deepEqual(plan.includesAdded, [], 'every quill source reaches quill_build_flags.h through quill_internal.h');
      const out = quill.copy();
      out.apply(plan.edits);
      assert.ok(out.texts.get('src/quill_remote.c')!.includes('#else\n    (void)cls;\n#endif\n}\n'), 'cls only feeds the counter in quill_remote_free');
      assert.ok(out.texts.get('src/quill_build_flags.h')!.includes('# define QUILL_MID_LOCK_STATS_COMPILED 0\n#endif\n\n/* g_quill_tcache_stats telemetry (11 write sites, hot)'));
      out.removeAll('QUILL_TCACHE_STATS_COMPILED');
      for (const [file, text] of quill.texts) assert.equal(out.texts.get(file), text, file);
    });

    it('leaves the mid lock counter behind its own flag, steps around QUILL_DIAG_COMPILED, and refuses quill_heap', () => {
      const mid = quill.plan('g_quill_mid_stats');
      assert.equal(mid.flag, 'QUILL_MID_STATS_COMPILED');
      assert.deepEqual(mid.alreadyWrapped.map((a) => `${siteKey(a)} ${a.flag}`), ['src/quill_mid.c:48 QUILL_MID_LOCK_STATS_COMPILED']);
      assert.equal(mid.wrapped.length, 6);
      assert.equal(quill.plan('g_quill_diag', { validateOnly: true }).proposedFlag, 'QUILL_DIAG_STATS_COMPILED');
      const heap = quill.plan('quill_heap');
      assert.equal(heap.classification, 'correctness');
      assert.deepEqual(heap.edits, []);
      const ring = quill.plan('g_quill_ring_stats');
      assert.ok(ring.notes.some((n) => /QUILL_FRONT_RING_ENABLED .*off by default.*Phase 29/.test(n)), ring.notes.join('\n'));
    });
  });
});
