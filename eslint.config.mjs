// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const vscodeImports = {
  paths: [{ name: 'vscode', message: 'core/ is pure: pass data in and out, and let src/ or server/ talk to VS Code.' }],
  patterns: [
    {
      group: ['vscode-languageserver', 'vscode-languageserver/*', 'vscode-languageserver-*', 'vscode-languageclient', 'vscode-languageclient/*'],
      message: 'core/ is pure: it returns offsets and plain data; server/ converts them to LSP types.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'allocator/**', '.vscode-test/**', 'test-results/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-namespace': 'off', // protocol/: the `namespace X { method; type }` idiom
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error', // stdout is the LSP pipe; log through the connection or LogOutputChannel
      eqeqeq: ['error', 'smart'],
    },
  },
  { files: ['core/**/*.ts'], rules: { 'no-restricted-imports': ['error', vscodeImports] } },
  { files: ['cli/**/*.ts', 'test/**/*.ts', 'scripts/**', '*.mjs'], rules: { 'no-console': 'off' } },
  {
    files: ['**/*.mjs', 'scripts/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
