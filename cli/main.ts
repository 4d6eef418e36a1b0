// `alloc-lens`: the terminal front door over core/. Subcommands live one per file in cli/.
import { Command, CommanderError } from 'commander';
import { registerAb } from './ab';
import { isUsageError, registerAudit } from './audit';
import { registerScan } from './scan';

declare const ALLOC_LENS_VERSION: string;

export function buildProgram(): Command {
  const program = new Command()
    .name('alloc-lens')
    .description('Allocator hot-path tooling: find atomics, ENV gates and compile flags in C, and A/B them honestly.')
    .version(ALLOC_LENS_VERSION, '-V, --version')
    .showHelpAfterError('(run alloc-lens --help for usage)')
    .configureOutput({ outputError: (s, write) => write(s) })
    // Throw instead of process.exit, so main() maps errors to exit codes; set before the
    // subcommands are added, which inherit it.
    .exitOverride();
  registerScan(program);
  registerAb(program);
  registerAudit(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    process.stderr.write(`alloc-lens: ${err instanceof Error ? err.message : String(err)}\n`);
    return isUsageError(err) ? 2 : 1;
  }
}

void main(process.argv).then((code) => {
  process.exitCode = code;
});
