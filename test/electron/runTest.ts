// Desktop VS Code runner (@vscode/test-electron), for people who have a desktop VS Code and
// internet access (it downloads VS Code). `npm test` proves the extension in code-server
// instead, because that download is impossible on the CI machine.
//   npm run test:electron            build, download VS Code, run the suite on allocator/
//   ... runTest.ts --build-only      just bundle the suite (used by .vscode/launch.json)
import * as path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(__dirname, '..', '..');
const SUITE = path.join(ROOT, 'out', 'electron', 'suite.js');

async function main(): Promise<number> {
  await build({
    entryPoints: [path.join(__dirname, 'suite', 'index.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha'],
    outfile: SUITE,
    logLevel: 'warning',
  });
  if (process.argv.includes('--build-only')) return 0;
  const { runTests } = await import('@vscode/test-electron');
  try {
    return await runTests({
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: SUITE,
      launchArgs: [path.join(ROOT, 'allocator'), '--disable-extensions', '--disable-workspace-trust'],
    });
  } catch (err) {
    process.stderr.write(`test-electron failed: ${err instanceof Error ? err.message : String(err)}\n` +
      '(it downloads VS Code from the internet; offline, use `npm test`, whose e2e tier runs code-server)\n');
    return 1;
  }
}

main().then((code) => process.exit(code));
