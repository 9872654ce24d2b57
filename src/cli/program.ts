import { Command, CommanderError } from 'commander';
import type { CliRuntime } from './runtime.js';
import { registerStatusCommand } from './status-command.js';
// cli-commands: each capability registers its commands here, one line each.
import { registerNbaCommands } from './nba-commands.js';
import { registerGenerateCommand } from './generate-command.js';
import { registerEtaCommands } from './eta-commands.js';
import { registerReturnsCommands } from './returns-commands.js';
import { registerLoadCommand } from './load-command.js';
import { registerEmailCommand } from './email-command.js';
import { registerKeysCommand } from './keys-command.js';
import { registerIngestCommands } from './ingest-commands.js';
import { registerServeCommand } from './serve-command.js';
import { registerStartCommand } from './start-command.js';
import { registerReportCommand } from './report-command.js';
import { registerExportCommand } from './export-command.js';
import { registerSnapshotCommand } from './snapshot-command.js';

/** Builds the `shipcast` command tree bound to a runtime. */
export function buildProgram(rt: CliRuntime): Command {
  const program = new Command('shipcast')
    .description('shipcast: logistics data joined to customer messaging')
    .exitOverride()
    .configureOutput({ writeOut: (s) => rt.out(s.trimEnd()), writeErr: (s) => rt.err(s.trimEnd()) });
  registerStatusCommand(program, rt);
  // register-commands: one line per capability.
  registerNbaCommands(program, rt);
  registerGenerateCommand(program, rt);
  registerEtaCommands(program, rt);
  registerReturnsCommands(program, rt);
  registerLoadCommand(program, rt);
  registerEmailCommand(program, rt);
  registerKeysCommand(program, rt);
  registerIngestCommands(program, rt);
  registerStartCommand(program, rt);
  registerServeCommand(program, rt);
  registerReportCommand(program, rt);
  registerExportCommand(program, rt);
  registerSnapshotCommand(program, rt);
  return program;
}

/** Runs the CLI; resolves to the process exit code. Errors print `error [CODE]: message`. */
export async function runCli(argv: readonly string[], rt: CliRuntime): Promise<number> {
  const program = buildProgram(rt);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    const err = e as { code?: string; message?: string };
    rt.err(`error [${err.code ?? 'INTERNAL'}]: ${err.message ?? String(e)}`);
    if (!err.code) rt.log.debug({ err: e }, 'unhandled CLI error');
    return 1;
  }
}
