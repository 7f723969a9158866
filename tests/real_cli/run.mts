// Runs one command of the real Activepieces CLI from its own source in .cli-src/ (copied there by
// tests/real_cli/cli.py; never committed): `node --import tsx run.mts <benchmark|replace> [options]`.
// Only this entry is ours: it loads the command module the real CLI registers and hands it argv.
import { Command } from 'commander';

const COMMANDS: Record<string, [string, string]> = {
    benchmark: ['./.cli-src/lib/commands/benchmark.ts', 'benchmarkCommand'],
    replace: ['./.cli-src/lib/commands/replace-project.ts', 'replaceProjectCommand'],
};

const [name, ...rest] = process.argv.slice(2);
const entry = COMMANDS[name ?? ''];
if (entry === undefined) {
    console.error(`usage: run.mts <${Object.keys(COMMANDS).join('|')}> [options]`);
    process.exit(64);
}
const module = await import(entry[0]);
const program = new Command().name('activepieces');
program.addCommand(module[entry[1]] as Command);
await program.parseAsync(['node', 'activepieces', name, ...rest]);
