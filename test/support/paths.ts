import * as path from 'node:path';
import type { CParserOptions } from '../../core/parsing/cParser';

export const ROOT = path.resolve(__dirname, '..', '..');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
export const DIST = path.join(ROOT, 'dist');

/** The wasm files as installed in node_modules (unit tests run from source, not dist/). */
export function nodeModulesWasm(): CParserOptions {
  return {
    runtimeWasm: path.join(path.dirname(require.resolve('web-tree-sitter')), 'tree-sitter.wasm'),
    languageWasm: path.join(path.dirname(require.resolve('tree-sitter-c/package.json')), 'tree-sitter-c.wasm'),
  };
}
