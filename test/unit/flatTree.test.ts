// The flat copy of a tree (core/parsing/flatTree.ts) must be exactly what a TreeCursor sees, and
// its nodes must answer like web-tree-sitter's Node: the analysis reads both the same way.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { globSync } from 'tinyglobby';
import type { Node } from 'web-tree-sitter';
import { CParser } from '../../core/parsing/cParser';
import { enableMemoryCopy, flatLanguage, flatten, flattenWithCursor, sameTree, type FlatNode, type FlatTree } from '../../core/parsing/flatTree';
import { FIXTURES, ROOT, nodeModulesWasm } from '../support/paths';
import { rng } from '../support/rng';

const sources = [
  ...globSync(['**/*.{c,h}'], { cwd: path.join(ROOT, 'allocator'), absolute: true }),
  ...globSync(['**/*.{c,h}'], { cwd: FIXTURES, absolute: true }),
].sort();

const odd: Record<string, string> = {
  'syntax errors and missing tokens': 'int f( { return 1 }\nstruct { int a int b; } x = ;\n#if\nvoid g(void) { if (x) else y; }\n',
  'nested parentheses': `int f(void) { return ${'('.repeat(3000)}1${')'.repeat(3000)}; }`,
  'comments everywhere': 'int /*a*/ f /*b*/ ( /*c*/ void /*d*/ ) // e\n{ /*f*/ return /*g*/ 0 /*h*/ ; }\n',
  'lone surrogates': '\uD800 int f(void) { return getenv("\uDC00") != 0; } \u00e9',
  empty: '',
};

describe('flat tree copies (core/parsing/flatTree)', () => {
  let parser: CParser;

  before(async () => {
    parser = await CParser.create(nodeModulesWasm());
  });

  after(() => parser.dispose());

  it('reads the wasm memory for the C grammar (the layout check passed)', () => {
    // If this fails after a web-tree-sitter upgrade, the copy falls back to the cursor: correct, but
    // indexing is several times slower. Update the offsets in flatTree.ts.
    assert.equal(parser.memoryCopy, true);
  });

  it('copies every file, and every top-level item, exactly as a TreeCursor walks them', function () {
    this.timeout(60_000);
    const lang = flatLanguage(parser.language);
    const texts = [...sources.map((f) => readFileSync(f, 'utf8')), ...Object.values(odd)];
    let nodes = 0;
    for (const text of texts) {
      const tree = parser.parse(text);
      try {
        const flat = flatten(tree.rootNode, text);
        assert.ok(sameTree(flat, flattenWithCursor(tree.rootNode, text, lang)), text.slice(0, 80));
        nodes += flat.n;
        for (const item of tree.rootNode.children) {
          if (!item) continue;
          assert.ok(sameTree(flatten(item, text), flattenWithCursor(item, text, lang)), item.text.slice(0, 80));
        }
      } finally {
        tree.delete();
      }
    }
    assert.ok(nodes > 20_000, `only ${nodes} nodes compared`);
  });

  it('answers like web-tree-sitter nodes: type, text, range, fields, named children, parent, descendants', function () {
    this.timeout(300_000);
    const lang = flatLanguage(parser.language);
    const fieldNames = lang.fields.filter((f): f is string => !!f);
    const allocator = sources.filter((f) => f.includes(`${path.sep}allocator${path.sep}src${path.sep}`)).map((f) => readFileSync(f, 'utf8'));
    // Broken C too: random cuts and pastes of the allocator (seeded, so a failure replays).
    const r = rng(0xf1a7);
    const broken = Array.from({ length: 12 }, (_, k) => {
      let t = allocator[k % allocator.length];
      for (let m = 0; m < 8; m++) {
        const at = Math.floor(r() * t.length);
        t = r() < 0.5 ? t.slice(0, at) + t.slice(at + Math.floor(r() * 80)) : t.slice(0, at) + '{(;"*/'[Math.floor(r() * 6)] + t.slice(at);
      }
      return t;
    });
    let checked = 0;
    for (const text of [...allocator, ...Object.values(odd), ...broken]) {
      const tree = parser.parse(text);
      try {
        const flat = flatten(tree.rootNode, text);
        // Preorder over both: the cursor's order is the flat order.
        const cursor = tree.walk();
        let i = 0;
        for (;;) {
          const node = cursor.currentNode;
          const f = flat.node(i);
          assert.equal(f.type, node.type);
          assert.equal(f.text, node.text);
          assert.equal(f.startIndex, node.startIndex);
          assert.equal(f.endIndex, node.endIndex);
          assert.deepEqual(range(f.parent), range(node.parent), `parent of ${node.type} at ${node.startIndex}`);
          if (node.isNamed && node.childCount) {
            checked++;
            assert.deepEqual(f.namedChildren.map(range), node.namedChildren.map(range));
            assert.equal(f.namedChildCount, node.namedChildCount);
            for (const name of fieldNames) {
              assert.deepEqual(range(f.childForFieldName(name)), range(node.childForFieldName(name)), `${node.type}.${name} at ${node.startIndex}`);
              assert.deepEqual(f.childrenForFieldName(name).map(range), node.childrenForFieldName(name).map(range), `${node.type}.${name}[]`);
            }
            for (const types of ['call_expression', ['assignment_expression', 'update_expression'], 'return_statement', 'ERROR']) {
              assert.deepEqual(f.descendantsOfType(types).map(range), node.descendantsOfType(types).map(range));
            }
          }
          i++;
          if (cursor.gotoFirstChild()) continue;
          let more = false;
          while (!more) {
            if (cursor.gotoNextSibling()) more = true;
            else if (!cursor.gotoParent()) break;
          }
          if (!more) break;
        }
        cursor.delete();
        assert.equal(i, flat.n);
      } finally {
        tree.delete();
      }
    }
    assert.ok(checked > 5_000, `only ${checked} nodes compared`);
  });

  it('falls back to the cursor when the memory layout does not match, with the same copy', () => {
    const text = readFileSync(path.join(ROOT, 'allocator', 'src', 'quill_malloc.c'), 'utf8');
    const tree = parser.parse(text);
    const before = flatten(tree.rootNode, text);
    try {
      // A heap whose memory holds zeros: the probe disagrees with the cursor, so it is not used.
      const zeros = { HEAPU8: new Uint8Array(1 << 16), HEAPU16: new Uint16Array(1 << 15), HEAPU32: new Uint32Array(1 << 14) };
      assert.equal(enableMemoryCopy(parser.language, zeros, (t) => parser.parse(t), 'int main(void) { return 0; }'), false);
      const fallback: FlatTree = flatten(tree.rootNode, text);
      assert.ok(sameTree(before, fallback));
    } finally {
      tree.delete();
      // Put the real check back for the other tests.
      assert.equal(parser.enableMemoryCopy(), true);
    }
  });
});

function range(n: Node | FlatNode | null): [string, number, number] | null {
  return n ? [n.type, n.startIndex, n.endIndex] : null;
}
