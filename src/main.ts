/**
 * Process entry point of the `shipcast` CLI (`npm start` runs `shipcast start`). Commands build
 * their dependencies from the validated config; the long-running composition root is in
 * `app.ts`.
 */
import { runCli } from './cli/program.js';
import { processRuntime } from './cli/runtime.js';

const code = await runCli(process.argv.slice(2), processRuntime());
process.exitCode = code;
