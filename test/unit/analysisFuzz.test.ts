// Mutation fuzzing: thousands of random byte and token mutations of the fixtures go through the
// whole analysis (preprocessor scan, parse, fact extraction, workspace join). Not one may throw.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { globSync } from 'tinyglobby';
import { analyze, type AnalyzedFile } from '../../core/analysis/analyze';
import { extractFacts } from '../../core/analysis/facts';
import { defaultAnalysisOptions, extractOptions } from '../../core/analysis/options';
import { scanPreprocessor } from '../../core/analysis/preprocessor';
import { CParser } from '../../core/parsing/cParser';
import { FIXTURES, ROOT, nodeModulesWasm } from '../support/paths';
import { rng } from '../support/rng';


const TOKENS = [
  '#if ', '#ifdef X\n', '#ifndef Y\n#define Y 1\n', '#else\n', '#elif 1\n', '#endif\n', '#define F(a) atomic_load(&(a))\n', '\\\n',
  '{', '}', '(', ')', '[', ']', ';', ',', '"', "'", '/*', '*/', '//', '&', '*', '->', '.', '?', ':', '&&', '||', '!',
  'atomic_fetch_add_explicit(&g.x, 1, memory_order_relaxed)', 'atomic_load(&', '__sync_fetch_and_add(', '_Atomic', '_Atomic(int)',
  'getenv("X")', 'getenv(', 'setenv("A", "1", 0)', 'strcmp(p, "P") == 0', 'static int g = -1;', 'return ', 'if (', 'else ',
  'while (1)', 'struct s { _Atomic int v; };', 'typedef struct t t;', 'malloc', 'free', '\u0000', '\uFFFD', 'é', '\r\n', '\t',
];

function mutate(text: string, r: () => number): string {
  let out = text;
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (out.length + 1));
    switch (Math.floor(r() * 6)) {
      case 0: // random byte
        out = out.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + out.slice(at);
        break;
      case 1: // delete a range
        out = out.slice(0, at) + out.slice(at + Math.floor(r() * 200));
        break;
      case 2: // duplicate a range
        out = out.slice(0, at) + out.slice(at, at + Math.floor(r() * 300)) + out.slice(at);
        break;
      case 3: // move a range
        {
          const len = Math.floor(r() * 120);
          const piece = out.slice(at, at + len);
          const rest = out.slice(0, at) + out.slice(at + len);
          const to = Math.floor(r() * (rest.length + 1));
          out = rest.slice(0, to) + piece + rest.slice(to);
        }
        break;
      default: // insert a token
        out = out.slice(0, at) + TOKENS[Math.floor(r() * TOKENS.length)] + out.slice(at);
    }
  }
  return out;
}

describe('analysis fuzz (core/analysis)', () => {
  let parser: CParser;
  const sources = [
    ...globSync(['**/*.{c,h}'], { cwd: path.join(FIXTURES, 'seeds'), absolute: true }),
    ...globSync(['src/*.{c,h}'], { cwd: path.join(ROOT, 'allocator'), absolute: true }),
  ]
    .sort()
    .map((f) => ({ file: path.basename(f), text: readFileSync(f, 'utf8') }));
  const seeds = sources.filter((s) => s.file.startsWith('hakmem'));
  let base: AnalyzedFile[] = [];
  before(async () => {
    parser = await CParser.create(nodeModulesWasm());
    base = seeds.map((s) => run(s.file, s.text));
  });
  after(() => parser.dispose());

  const run = (file: string, text: string): AnalyzedFile => {
    const tree = parser.parse(text);
    try {
      return { file, pp: scanPreprocessor(text), facts: extractFacts(tree, text, { ...extractOptions(), parseSnippet: (t) => parser.parse(t) }) };
    } finally {
      tree.delete();
    }
  };

  for (const [round, seed] of [[1, 0xa110c], [2, 0x5eed5], [3, 0xc0ffee]] as const) {
    it(`${1000} random mutations (seed ${seed.toString(16)}) analyse without an exception`, function () {
      this.timeout(180_000);
      const r = rng(seed);
      const failures: string[] = [];
      for (let i = 0; i < 1000; i++) {
        const src = sources[Math.floor(r() * sources.length)];
        const text = mutate(src.text, r);
        try {
          const mutated = run(src.file, text);
          // Join it with the unmutated seed files, replacing its own original if it is one of them.
          const files = [...base.filter((b) => b.file !== src.file), mutated];
          const report = analyze('/fuzz', files, defaultAnalysisOptions());
          assert.equal(report.version, 1);
        } catch (err) {
          failures.push(`round ${round} #${i} (${src.file}): ${err instanceof Error ? err.stack?.split('\n').slice(0, 3).join(' | ') : String(err)}`);
          if (failures.length > 5) break;
        }
      }
      assert.deepEqual(failures, []);
    });
  }

  it('survives pathological input: deep nesting, huge lines, binary, unbalanced #if', function () {
    this.timeout(60_000);
    const cases: Record<string, string> = {
      'nested parentheses': `int f(void) { return ${'('.repeat(5000)}1${')'.repeat(5000)}; }`,
      'nested blocks': `void f(void) ${'{'.repeat(3000)} atomic_fetch_add(&g, 1); ${'}'.repeat(3000)}`,
      'nested #if': `${'#if 1\n'.repeat(10000)}int x;\n${'#endif\n'.repeat(10000)}`,
      'nested macros': Array.from({ length: 500 }, (_, i) => `#define M${i}(x) M${i + 1}(atomic_load(&(x)))`).join('\n'),
      'unbalanced #if': '#endif\n#else\n#if FOO\nint x = getenv("A") ? 1 : 0;\n#elif\n',
      'one huge line': `static int t[] = {${'1,'.repeat(200_000)}};`,
      binary: Array.from({ length: 20_000 }, (_, i) => String.fromCharCode((i * 7919) % 256)).join(''),
      'lone surrogates': '\uD800 int f(void) { return getenv("\uDC00") != 0; }',
      empty: '',
    };
    for (const [name, text] of Object.entries(cases)) {
      const f = run(`${name}.c`, text);
      const report = analyze('/fuzz', [...base, f], defaultAnalysisOptions());
      assert.equal(report.version, 1, name);
    }
  });
});
