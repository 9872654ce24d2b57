/**
 * Spawns the real CLI as API replicas (`shipcast serve --replica`) for the scale tests: one
 * `node --import tsx` process each (so signals reach it, not a wrapper), on a free port of 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const MAIN = path.resolve('src/main.ts');

export interface ReplicaProcess {
  url: string;
  child: ChildProcess;
  /** What the process wrote to stderr so far (logs), for failure messages. */
  stderr(): string;
  /** POSTs a GraphQL operation with `key`. */
  gql(key: string, query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: { data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } }>;
  stop(): Promise<void>;
}

export function startReplica(snapshot: string, env: Record<string, string>, args: readonly string[] = []): Promise<ReplicaProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--replica', '--db', snapshot, '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica did not start within 60 s: ${err}`)), 60_000);
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`replica exited with ${code} before listening: ${err}`));
    };
    child.once('exit', early);
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.off('exit', early);
      const url = m[1];
      resolve({
        url,
        child,
        stderr: () => err,
        async gql(key, query, variables) {
          const res = await fetch(`${url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${key}` },
            body: JSON.stringify({ query, variables }),
          });
          return { status: res.status, body: (await res.json()) as never };
        },
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

/** Polls `check` until it holds or `ms` pass. */
export async function waitUntil(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
