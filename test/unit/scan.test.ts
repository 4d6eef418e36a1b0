import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CParser } from '../../core/parsing/cParser';
import { isAtomicBuiltin } from '../../core/parsing/scan';
import { scanText } from '../support/scanOracle';
import { countCarets } from '../support/carets';
import { FIXTURES, nodeModulesWasm } from '../support/paths';

describe('scan (core/parsing)', () => {
  let parser: CParser;
  before(async () => {
    parser = await CParser.create(nodeModulesWasm());
  });
  after(() => parser.dispose());

  for (const name of ['pool.c', 'broken.c']) {
    it(`counts the atomics and getenv calls marked in fixtures/workspace/src/${name}`, () => {
      const text = readFileSync(path.join(FIXTURES, 'workspace', 'src', name), 'utf8');
      const scan = scanText(parser, text);
      assert.equal(scan.atomicCalls, countCarets(text, 'atomic'));
      assert.equal(scan.getenvCalls, countCarets(text, 'getenv'));
    });
  }

  it('reports the lines of parse errors and still counts the valid functions', () => {
    const text = readFileSync(path.join(FIXTURES, 'workspace', 'src', 'broken.c'), 'utf8');
    const scan = scanText(parser, text);
    assert.deepEqual(scan.errorLines, [4]);
    assert.ok(scan.functions >= 1);
  });

  it('survives input that is not C at all', () => {
    const scan = scanText(parser, '\u0000\u0001 }}}} ((( "unterminated\n#if\n');
    assert.ok(scan.errorLines.length > 0);
    assert.equal(scan.atomicCalls, 0);
  });

  it('knows C11, GCC __atomic and __sync names, but not atomic_init', () => {
    for (const n of ['atomic_fetch_add_explicit', 'atomic_load', '__atomic_fetch_add', '__sync_bool_compare_and_swap', 'atomic_compare_exchange_weak']) {
      assert.ok(isAtomicBuiltin(n), n);
    }
    for (const n of ['atomic_init', 'my_atomic_add', 'getenv', 'atomically']) assert.ok(!isAtomicBuiltin(n), n);
  });

  it('reparses incrementally from an edited tree to the same result as a fresh parse', () => {
    const before = 'void f(void) {\n  x();\n}\n';
    const insert = '  atomic_fetch_add(&c, 1);\n';
    const after = before.slice(0, 15) + insert + before.slice(15);
    const tree = parser.parse(before);
    tree.edit({
      startIndex: 15,
      oldEndIndex: 15,
      newEndIndex: 15 + insert.length,
      startPosition: { row: 1, column: 0 },
      oldEndPosition: { row: 1, column: 0 },
      newEndPosition: { row: 2, column: 0 },
    });
    const incremental = parser.parse(after, tree);
    const fresh = parser.parse(after);
    try {
      assert.equal(incremental.rootNode.toString(), fresh.rootNode.toString());
    } finally {
      tree.delete();
      incremental.delete();
      fresh.delete();
    }
  });
});
