import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { globSync } from 'tinyglobby';
import { extractFacts } from '../../core/analysis/facts';
import { defaultAnalysisOptions, extractOptions, type AnalysisOptions } from '../../core/analysis/options';
import type { AtomicReport, AuditReport } from '../../core/analysis/report';
import { WorkspaceAnalysis } from '../../core/analysis/workspaceAnalysis';
import { CParser } from '../../core/parsing/cParser';
import { readCarets } from '../support/carets';
import { FIXTURES, ROOT, nodeModulesWasm } from '../support/paths';

const SEEDS = path.join(FIXTURES, 'seeds');
const ALLOCATOR = path.join(ROOT, 'allocator');

function cFiles(dir: string): string[] {
  return globSync(['**/*.c', '**/*.h'], { cwd: dir, absolute: true, ignore: ['build/**'] }).sort();
}

describe('analysis (core/analysis)', () => {
  let parser: CParser;
  const analyse = (dir: string, options: Partial<AnalysisOptions> = {}): AuditReport => {
    const wa = new WorkspaceAnalysis(parser);
    for (const f of cFiles(dir)) wa.setFile(f, readFileSync(f, 'utf8'));
    return wa.report({ ...defaultAnalysisOptions(), ...options }, dir);
  };
  before(async () => {
    parser = await CParser.create(nodeModulesWasm());
  });
  after(() => parser.dispose());

  describe('the seeds (test/fixtures/seeds)', () => {
    let report: AuditReport;
    before(() => {
      report = analyse(SEEDS);
    });
    const atomic = (file: string, line: number) => {
      const a = report.atomics.find((x) => x.file === file && x.line === line);
      assert.ok(a, `no atomic write site reported at ${file}:${line}`);
      return a;
    };

    it('classifies every marked atomic as its caret says, and reports no unmarked write site', () => {
      let marked = 0;
      for (const abs of cFiles(SEEDS)) {
        const file = path.relative(SEEDS, abs).split(path.sep).join('/');
        for (const c of readCarets(readFileSync(abs, 'utf8'))) {
          const [classification, ...rest] = c.kind.split(/\s+/);
          if (!['telemetry', 'correctness', 'unknown'].includes(classification)) continue;
          marked++;
          const a = report.atomics.find((x) => x.file === file && x.line === c.line && x.column === c.column + 1);
          assert.ok(a, `${file}:${c.line}:${c.column + 1}: no atomic reported (have ${report.atomics.filter((x) => x.file === file).map((x) => `${x.line}:${x.column}`).join(' ')})`);
          const where = `${file}:${c.line} ${a.target}`;
          assert.equal(a.classification, classification, `${where}: ${a.reason}`);
          const temperature = rest.find((t) => ['hot', 'warm', 'cold', 'unknown'].includes(t));
          if (temperature) assert.equal(a.temperature, temperature, `${where}: ${a.temperatureReason}`);
          const kv = Object.fromEntries(rest.filter((t) => t.includes('=')).map((t) => t.split('=')));
          assert.equal(a.guard, kv.guard ?? null, `${where}: guard`);
          assert.deepEqual(a.gates, kv.gate ? [kv.gate] : [], `${where}: gates`);
          if (kv.op) assert.equal(a.op, kv.op, `${where}: op`);
        }
      }
      assert.equal(report.atomics.length, marked, `unmarked write sites: ${report.atomics.map((a) => `${a.file}:${a.line}`).join(', ')}`);
    });

    it('pool v2 stats are telemetry, behind a gate that is OFF by default (Phase 29)', () => {
      const a = atomic('core/hakmem_pool.c', 23);
      assert.equal(a.classification, 'telemetry');
      assert.equal(a.family, 'g_pool_hotbox_v2_stats');
      assert.equal(a.field, 'alloc_calls');
      assert.ok(a.evidence.length > 0 && a.evidence.every((e) => e.kind === 'print' || e.kind === 'print-guard'), JSON.stringify(a.evidence));
      assert.ok(a.evidence.some((e) => e.file === 'core/hakmem_stats.c' && e.function === 'hak_stats_dump'));
      const gate = report.envGates.find((g) => g.name === 'HAKMEM_POOL_V2_ENABLED');
      assert.equal(gate?.default, 'off');
      assert.ok(gate?.gatedFunctions.includes('pool_v2_alloc'));
      const finding = report.findings.find((f) => f.rule === 'gate-off-by-default' && f.line === 23);
      assert.match(finding?.message ?? '', /does not run in the default configuration/);
      // ...and it is not also reported as "not compiled out": compiling it out changes nothing.
      assert.ok(!report.findings.some((f) => f.rule === 'telemetry-not-compiled-out' && f.line === 23));
    });

    it('the bg-spill length and the spill CAS are correctness, with the flow-control read as evidence (Phase 28)', () => {
      const len = atomic('core/hakmem_pool.c', 43);
      assert.equal(len.classification, 'correctness');
      assert.ok(len.evidence.some((e) => e.kind === 'condition' && e.line === 49 && e.function === 'tiny_free_should_spill'), JSON.stringify(len.evidence));
      const cas = atomic('core/hakmem_pool.c', 40);
      assert.equal(cas.op, 'cas');
      assert.equal(cas.classification, 'correctness');
      assert.equal(cas.order, 'memory_order_release');
    });

    it('an already-wrapped site shows its guard and is dimmed under the defaults, not with the flag at 1', () => {
      assert.equal(atomic('core/hakmem_pool.c', 70).guard, 'HAKMEM_TINY_CLASS_STATS_COMPILED');
      const dimmed = (r: AuditReport) => r.inactiveRegions.some((x) => x.file === 'core/hakmem_pool.c' && x.startLine <= 70 && x.endLine >= 70);
      assert.ok(dimmed(report));
      const flag = report.flags.find((f) => f.name === 'HAKMEM_TINY_CLASS_STATS_COMPILED');
      assert.equal(flag?.default, '0');
      assert.equal(flag?.enabled, false);
      assert.deepEqual(flag?.uses.map((u) => `${u.file}:${u.line}`).sort(), ['core/hakmem_pool.c:69', 'core/hakmem_stats.c:14']);
      const on = analyse(SEEDS, { defines: { HAKMEM_TINY_CLASS_STATS_COMPILED: '1' } });
      assert.ok(!dimmed(on));
      assert.equal(on.flags.find((f) => f.name === 'HAKMEM_TINY_CLASS_STATS_COMPILED')?.enabled, true);
      // The #else branch ((void)0) is the compiled-out one now.
      assert.ok(on.inactiveRegions.some((x) => x.file === 'core/hakmem_pool.c' && x.startLine === 73));
    });

    it('a counter whose value only decides whether to print is telemetry (print guard)', () => {
      const a = atomic('core/hakmem_pool.c', 89);
      assert.equal(a.classification, 'telemetry');
      assert.deepEqual(a.evidence.map((e) => e.kind), ['print-guard']);
    });

    it('ENV gates: the default when unset, for the seed shapes and helper shapes', () => {
      const text = readFileSync(path.join(SEEDS, 'core', 'hakmem_env.c'), 'utf8');
      const carets = readCarets(text).filter((c) => c.kind.startsWith('gate '));
      assert.ok(carets.length >= 6);
      for (const c of carets) {
        const [, name, expected] = c.kind.split(/\s+/);
        const g = report.envGates.find((x) => x.name === name);
        assert.ok(g, `gate ${name} not found`);
        assert.equal(`${g.line}:${g.column}`, `${c.line}:${c.column + 1}`, `${name}: where it is read`);
        if (expected.startsWith('value=')) {
          assert.equal(g.default, 'value', name);
          assert.equal(g.defaultValue, expected.slice(6), name);
        } else assert.equal(g.default, expected, name);
      }
      assert.equal(report.envGates.find((g) => g.name === 'HAKMEM_POOL_V2_ENABLED')?.cached, true);
    });

    it('profile presets resolve: the value of each variable under each profile, and the selector variable', () => {
      const gate = (n: string) => report.envGates.find((g) => g.name === n)!;
      assert.deepEqual(gate('HAKMEM_POOL_V2_ENABLED').profiles, { C6_HEAVY_LEGACY_POOLV1: '0', RESEARCH: '1' });
      assert.deepEqual(gate('HAKMEM_TINY_C6_HOT').profiles, { C6_HEAVY_LEGACY_POOLV1: '1', RESEARCH: '0' });
      assert.deepEqual(gate('HAKMEM_BG_SPILL_TARGET').profiles, { RESEARCH: '8' });
      const presets = (gate('HAKMEM_TINY_C6_HOT') as unknown as { presets: { selector: string }[] }).presets;
      assert.ok(presets.every((p) => p.selector === 'HAKMEM_PROFILE'), JSON.stringify(presets));
    });

    it('#if evaluation: defined() && comparison, never-defined flags, NDEBUG through the release flag', () => {
      const region = (r: AuditReport, line: number) => r.inactiveRegions.some((x) => x.file === 'core/hakmem_pool.c' && x.startLine <= line && x.endLine >= line);
      assert.ok(region(report, 109), 'HAKMEM_TRACE undefined: the trace block is compiled out');
      assert.ok(region(report, 113));
      assert.ok(!region(analyse(SEEDS, { defines: { HAKMEM_TRACE: '2' } }), 109), 'HAKMEM_TRACE=2 > 1');
      assert.ok(region(analyse(SEEDS, { defines: { HAKMEM_TRACE: '1' } }), 109), 'HAKMEM_TRACE=1 is not > 1');
      const release = (r: AuditReport) => r.flags.find((f) => f.name === 'HAKMEM_BUILD_RELEASE')?.enabled;
      assert.equal(release(report), null, 'without NDEBUG information the release flag is unknown');
      assert.equal(release(analyse(SEEDS, { defines: { NDEBUG: '1' } })), true);
    });

    it('findings: telemetry not compiled out, release hygiene, unused and never-defaulted flags', () => {
      const at = (rule: string) => report.findings.filter((f) => f.rule === rule).map((f) => `${f.file}:${f.line}`);
      assert.ok(at('telemetry-not-compiled-out').includes('core/hakmem_pool.c:67'));
      assert.ok(!at('telemetry-not-compiled-out').includes('core/hakmem_pool.c:70'), 'a guarded site is already compiled out');
      assert.ok(!at('telemetry-not-compiled-out').includes('core/hakmem_pool.c:43'), 'correctness is never proposed for compile-out');
      assert.ok(at('release-hygiene').includes('core/hakmem_pool.c:82'), 'debug_validate_block() on the free path');
      assert.ok(at('unused-flag').includes('core/hakmem_build_flags.h:25'));
      assert.ok(at('undefaulted-flag').includes('core/hakmem_pool.c:112'));
    });
  });

  describe('allocator/ (the sample allocator, against its README)', () => {
    let report: AuditReport;
    let readme: string;
    before(() => {
      report = analyse(ALLOCATOR);
      readme = readFileSync(path.join(ALLOCATOR, 'README.md'), 'utf8');
    });

    const mapRows = () => {
      const map = readme.slice(readme.indexOf('<!-- map:begin -->'), readme.indexOf('<!-- map:end -->'));
      return map
        .split('\n')
        .filter((l) => l.startsWith('| ') && !l.startsWith('| Area') && !l.startsWith('|---'))
        .map((l) => {
          const [area, pattern, where] = l.split(' | ').map((c) => c.replace(/^\|\s*|\s*\|$/g, ''));
          return { area, pattern, sites: [...where.matchAll(/`(src\/[\w.]+):(\d+)`/g)].map((m) => ({ file: m[1], line: Number(m[2]) })) };
        });
    };

    // A wrapped site is mapped at its `#if` line; the code is on the next lines.
    const linesOf = (file: string, line: number): number[] =>
      /^\s*#\s*if/.test(readFileSync(path.join(ALLOCATOR, file), 'utf8').split('\n')[line - 1] ?? '') ? [line + 1, line + 2] : [line];
    const writeAt = (file: string, line: number): AtomicReport | undefined =>
      report.atomics.find((a) => a.file === file && linesOf(file, line).includes(a.line));
    const readAt = (file: string, line: number): AtomicReport[] =>
      report.atomics.filter((a) => a.evidence.some((e) => e.file === file && linesOf(file, line).includes(e.line)));

    it('classifies every telemetry and correctness atomic of the pattern map as the README says', () => {
      let checked = 0;
      for (const row of mapRows()) {
        const expected = row.area.startsWith('Telemetry') ? 'telemetry' : row.area.startsWith('Correctness') ? 'correctness' : null;
        if (!expected) continue;
        for (const s of row.sites) {
          const w = writeAt(s.file, s.line);
          const classes = w ? [w.classification] : readAt(s.file, s.line).map((a) => a.classification);
          assert.ok(classes.length, `${s.file}:${s.line} (${row.pattern}): neither a write site nor a read in any evidence`);
          assert.ok(classes.every((c) => c === expected), `${s.file}:${s.line} (${row.pattern}): ${classes.join(',')} but the README says ${expected}`);
          checked++;
        }
      }
      assert.ok(checked >= 40, `only ${checked} sites checked`);
    });

    it('every atomic write site in allocator/src is classified (none unknown)', () => {
      const unknown = report.atomics.filter((a) => a.file.startsWith('src/') && a.classification === 'unknown');
      assert.deepEqual(unknown.map((a) => `${a.file}:${a.line} ${a.reason}`), []);
    });

    it('temperatures: HOT and WARM families have sites that hot/warm, the COLD sites are cold', () => {
      for (const row of mapRows()) {
        const m = /^Telemetry: (HOT|WARM|COLD)$/.exec(row.area);
        if (!m) continue;
        const want = m[1].toLowerCase();
        const sites = row.sites.map((s) => writeAt(s.file, s.line)).filter((a): a is AtomicReport => !!a);
        if (want === 'cold') {
          assert.ok(sites.every((a) => a.temperature === 'cold'), `${row.pattern}: ${sites.map((a) => `${a.line} ${a.temperature}: ${a.temperatureReason}`).join('; ')}`);
          continue;
        }
        // The README names families ("mid path counters"): one of the family's sites must be that hot.
        const family = report.atomics.filter((a) => sites.some((s) => s.family === a.family));
        assert.ok(family.some((a) => a.temperature === want), `${row.pattern}: ${family.map((a) => a.temperature).join(',')} has no ${want} site`);
      }
    });

    it('the front ring counters are gated by QUILL_FRONT_RING_ENABLED, OFF by default (the Phase 29 trap)', () => {
      const ring = mapRows().find((r) => r.area.includes('ENV-gated OFF'))!;
      for (const s of ring.sites) {
        const a = writeAt(s.file, s.line)!;
        // quill_ring_flush only finds blocks when the ring ran (a data dependency the static
        // analysis cannot see); it is not reached from malloc/free, so its temperature is unknown.
        if (a.function === 'quill_ring_flush') {
          assert.equal(a.temperature, 'unknown');
          continue;
        }
        assert.deepEqual(a.gates, ['QUILL_FRONT_RING_ENABLED'], `${s.file}:${s.line}`);
        assert.ok(report.findings.some((f) => f.rule === 'gate-off-by-default' && f.file === s.file && f.line === s.line));
      }
    });

    it('ENV gate defaults match the README table, and profiles come from QUILL_PROFILE', () => {
      const envSection = readme.slice(readme.indexOf('## ENV variables'), readme.indexOf('## Build flags'));
      const rows = [...envSection.matchAll(/^\| `(QUILL_[A-Z_]+)` \| ([^|]+) \|/gm)];
      assert.ok(rows.length >= 6);
      for (const [, name, cell] of rows) {
        const g = report.envGates.find((x) => x.name === name);
        assert.ok(g, name);
        const c = cell.trim();
        if (/\(OFF\)/.test(c)) assert.equal(g.default, 'off', name);
        else if (/\(ON\)/.test(c)) assert.equal(g.default, 'on', name);
        else if (/^\d+$/.test(c)) assert.equal(g.defaultValue, c, name);
      }
      const tcache = report.envGates.find((g) => g.name === 'QUILL_TCACHE_MAX')!;
      assert.equal(tcache.profiles.bench_random_mixed, '128');
      assert.equal(tcache.profiles.larson, '64');
      assert.equal(tcache.cachedIn, 'g_quill_tcache_max');
    });

    it('compile flag defaults match the README table', () => {
      for (const [, name, value] of readme.matchAll(/^\| `(QUILL_[A-Z_]+_COMPILED)` \| (\d+) \|/gm)) {
        const f = report.flags.find((x) => x.name === name);
        assert.equal(f?.default, value, name);
        assert.equal(f?.enabled, value !== '0', name);
        assert.ok(f.uses.length > 0, `${name} has uses`);
      }
    });

    it('release hygiene: the unguarded hot-path diagnostic is found, the guarded one is not', () => {
      const hygiene = report.findings.filter((f) => f.rule === 'release-hygiene').map((f) => `${f.file}:${f.line}`);
      const row = (p: RegExp) => mapRows().find((r) => r.area === 'Release hygiene' && p.test(r.pattern))!.sites[0];
      const bad = row(/NOT guarded/);
      assert.ok(hygiene.includes(`${bad.file}:${bad.line}`), hygiene.join(' '));
      const good = row(/correctly guarded/);
      assert.ok(!hygiene.some((h) => h.startsWith(`${good.file}:`) && Math.abs(Number(h.split(':')[1]) - good.line) <= 1));
    });
  });

  describe('incremental updates', () => {
    it('facts rebuilt from edited top-level items equal a fresh extraction, across line shifts', () => {
      const file = path.join(ALLOCATOR, 'src', 'quill_tiny.c');
      let text = readFileSync(file, 'utf8');
      const wa = new WorkspaceAnalysis(parser);
      let tree = parser.parse(text);
      wa.setFile(file, text, tree);
      const edits = [
        (t: string) => t.replace('bin->count--;', 'bin->count--; /* one */'),
        (t: string) => t.replace('void *quill_tiny_alloc_slow(unsigned cls) {', '/* added\n   lines */\nvoid *quill_tiny_alloc_slow(unsigned cls) {'),
        (t: string) => t.replace('/* added\n   lines */\n', ''),
        (t: string) => `${t}\nint quill_extra(void) { return atomic_load(&g_quill_tcache_stats[0].alloc_calls) > 3; }\n`,
      ];
      for (const edit of edits) {
        text = edit(text);
        tree.delete();
        tree = parser.parse(text);
        const incremental = wa.setFile(file, text, tree);
        const fresh = extractFacts(tree, text, { ...extractOptions(), parseSnippet: (t) => parser.parse(t) });
        assert.deepEqual(incremental, fresh);
      }
      tree.delete();
    });

    it('re-analysing after an edit gives the same report as analysing the edited files from scratch', () => {
      const files = cFiles(ALLOCATOR);
      const live = new WorkspaceAnalysis(parser);
      for (const f of files) live.setFile(f, readFileSync(f, 'utf8'));
      const options = defaultAnalysisOptions();
      const before = live.report(options, ALLOCATOR);
      const target = files.find((f) => f.endsWith('quill_stats.c'))!;
      // The dump starts testing a counter in a condition: remote drains become correctness.
      const edited = readFileSync(target, 'utf8').replace('void quill_stats_dump(int fd) {', 'int quill_probe(void) { if (atomic_load(&g_quill_refill_stats[0].remote_drains) > 5) return 1; return 0; }\nvoid quill_stats_dump(int fd) {');
      live.setFile(target, edited);
      const after = live.report(options, ALLOCATOR);
      const fresh = new WorkspaceAnalysis(parser);
      for (const f of files) fresh.setFile(f, f === target ? edited : readFileSync(f, 'utf8'));
      assert.deepEqual(after, fresh.report(options, ALLOCATOR));
      // One file's result, asked for on its own, is that file's part of the full report.
      const live2 = new WorkspaceAnalysis(parser);
      for (const f of files) live2.setFile(f, f === target ? edited : readFileSync(f, 'utf8'));
      live2.report(options, ALLOCATOR);
      const other = files.find((f) => f.endsWith('quill_remote.c'))!;
      live2.setFile(target, readFileSync(target, 'utf8'));
      const own = live2.fileReport(options, ALLOCATOR, other)!;
      assert.deepEqual(own.atomics, before.atomics.filter((a) => a.file === 'src/quill_remote.c'));
      const drains = (r: AuditReport) => r.atomics.find((a) => a.target.endsWith('remote_drains'))?.classification;
      assert.equal(drains(before), 'telemetry');
      assert.equal(drains(after), 'correctness');
    });
  });
});
