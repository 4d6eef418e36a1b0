// Bundles the four programs into dist/ and copies the tree-sitter wasm next to them.
//   node esbuild.mjs               development build (sourcemaps)
//   node esbuild.mjs --production  minified, no sourcemaps (what the VSIX ships)
//   node esbuild.mjs --watch       rebuild on change
//   node esbuild.mjs --bench       bundle scripts/benchIndex.ts to out/bench (run as the server runs)
// Type-checking is separate: `tsc -b`.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const bench = process.argv.includes('--bench');
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  sourcesContent: false,
  logLevel: 'info',
  define: { ALLOC_LENS_VERSION: JSON.stringify(pkg.version) },
};

const node = {
  ...common,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  // Dependencies that ship only ESM (fdir, web-tree-sitter) read import.meta.url, which is
  // empty in a CommonJS bundle: give them the bundle's own file URL.
  define: { ...common.define, 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('url').pathToFileURL(__filename).href;" },
};

const programs = [
  { ...node, entryPoints: { extension: 'src/extension.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { server: 'server/main.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { cli: 'cli/main.ts' }, outdir: 'dist', banner: { js: `#!/usr/bin/env node\n${node.banner.js}` } },
  // The index worker thread the server and the CLI start (core/host/indexWorkers.ts finds it next to them).
  { ...node, entryPoints: { indexWorker: 'core/host/indexWorker.ts' }, outdir: 'dist' },
  {
    ...common,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    entryPoints: { overview: 'media/overview/main.ts', ab: 'media/ab/main.ts' },
    outdir: 'dist/webview',
  },
];

// The benchmark is bundled and minified like the shipped server, so it measures that code (not tsx).
const builds = bench ? [{ ...node, minify: true, sourcemap: false, entryPoints: { benchIndex: 'scripts/benchIndex.ts', indexWorker: 'core/host/indexWorker.ts' }, outdir: 'out/bench' }] : programs;

function copyAssets() {
  mkdirSync('dist', { recursive: true });
  const runtime = join(dirname(require.resolve('web-tree-sitter')), 'tree-sitter.wasm');
  const grammar = join(dirname(require.resolve('tree-sitter-c/package.json')), 'tree-sitter-c.wasm');
  copyFileSync(runtime, 'dist/tree-sitter.wasm');
  copyFileSync(grammar, 'dist/tree-sitter-c.wasm');
  // vscode-elements' icons need the codicon font, linked with a fixed id (see html.ts).
  const codicons = dirname(require.resolve('@vscode/codicons/dist/codicon.css'));
  mkdirSync('dist/webview', { recursive: true });
  copyFileSync(join(codicons, 'codicon.css'), 'dist/webview/codicon.css');
  copyFileSync(join(codicons, 'codicon.ttf'), 'dist/webview/codicon.ttf');
}

// Lines the "npm: watch" task's background problem matcher keys on (.vscode/tasks.json).
const watchLog = {
  name: 'watch-log',
  setup(build) {
    build.onStart(() => console.log('[watch] build started'));
    build.onEnd((result) => {
      for (const e of result.errors) console.error(`✘ [ERROR] ${e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : ''}${e.text}`);
      console.log('[watch] build finished');
    });
  },
};

copyAssets();
// `npm run package` writes out/alloc-lens.vsix next, and vsce does not create folders.
if (production) mkdirSync('out', { recursive: true });
if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context({ ...b, plugins: [...(b.plugins ?? []), watchLog] })));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[esbuild] watching for changes');
} else {
  const results = await Promise.all(builds.map((b) => esbuild.build(b)));
  if (results.some((r) => r.errors.length)) process.exit(1);
  chmodSync('dist/cli.js', 0o755);
}
