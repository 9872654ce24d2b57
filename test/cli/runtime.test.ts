import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('the real process runtime', () => {
  it('finishes normally when the reader of stdout goes away (shipcast status | head)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'status', '--db', ':memory:'], {
      cwd: root,
      env: { ...process.env, SHIPCAST_LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Like `| head -0`: the reader is gone before the command writes its first line.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  }, 60_000);
});
