import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ESLint } from 'eslint';
import { ROOT } from '../support/paths';

// Proves the boundary rule on real ESLint with the project's own config.
describe('eslint boundary: core/ never imports VS Code or LSP packages', () => {
  const eslint = new ESLint({ cwd: ROOT });
  const restricted = async (file: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
    return result.messages.filter((m) => m.ruleId === 'no-restricted-imports');
  };

  for (const mod of ['vscode', 'vscode-languageserver/node', 'vscode-languageserver-textdocument', 'vscode-languageclient/node']) {
    it(`rejects import from '${mod}' in core/`, async () => {
      const messages = await restricted('core/probe.ts', `import * as x from '${mod}';\nexport const y = x;\n`);
      assert.equal(messages.length, 1, JSON.stringify(messages));
      assert.match(messages[0].message, /core\/ is pure/);
    });
  }

  it('allows the same import in src/ and server/', async () => {
    assert.deepEqual(await restricted('src/probe.ts', `import * as vscode from 'vscode';\nexport const y = vscode;\n`), []);
    assert.deepEqual(await restricted('server/probe.ts', `import * as l from 'vscode-languageserver/node';\nexport const y = l;\n`), []);
  });

  it('finds no violation in the real core/ tree', async () => {
    const results = await eslint.lintFiles([path.join(ROOT, 'core')]);
    const bad = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}:${m.line}`));
    assert.deepEqual(bad, []);
  });
});
