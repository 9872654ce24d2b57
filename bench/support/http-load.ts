/**
 * The HTTP side of the service benchmarks (graphql, nba, replicas, ingest): a real `shipcast serve`
 * child process on an ephemeral loopback port, autocannon against its GraphQL endpoint, and the
 * median/percentile summaries their JSON reports. Not a `*.bench.ts` file: bench/run.ts runs those.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The part of autocannon's API used here (the package ships no types). */
interface CannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (opts: { url: string; method: string; connections: number; duration: number; body: string; headers: Record<string, string> }) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** How {@link startServer} runs `shipcast serve`. */
export interface ServeOptions {
  /** Added to the bench's environment; SHIPCAST_ENV=production and SHIPCAST_LOG_LEVEL=warn always win. */
  env?: Record<string, string>;
  /** `shipcast serve --replica` (read-only over a published snapshot). */
  replica?: boolean;
  /** Node flags before `--import tsx`, e.g. `--cpu-prof`. */
  nodeArgs?: readonly string[];
  /**
   * `inherit` passes the server's stderr through; `capture` keeps its last 4,000 characters for the
   * error when the server exits early (for benches whose own output must stay clean).
   */
  stderr?: 'inherit' | 'capture';
}

/** A started server: the child process, its port and its GraphQL endpoint. */
export interface Served {
  child: ChildProcess;
  port: number;
  /** `http://host:port/graphql`, as the server announced it. */
  url: string;
}

/**
 * Spawns `shipcast serve --db <db> --port 0` from the repository root and resolves once it prints
 * "listening on"; rejects if it exits first. Stopping it is the caller's (benches differ in how
 * long they wait for the warehouse to close).
 */
export function startServer(db: string, opts: ServeOptions = {}): Promise<Served> {
  const { env = {}, replica = false, nodeArgs = [], stderr = 'inherit' } = opts;
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts', 'serve', ...(replica ? ['--replica'] : []), '--db', db, '--port', '0'], {
    cwd: root,
    env: { ...process.env, ...env, SHIPCAST_ENV: 'production', SHIPCAST_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', stderr === 'capture' ? 'pipe' : 'inherit'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      // The trailing white space: a chunk may end inside the port number.
      const m = /listening on (http:\/\/\S+?:(\d+))\s/.exec(out);
      if (m) resolve({ child, port: Number(m[2]), url: `${m[1]}/graphql` });
    });
    child.once('exit', (code) => reject(new Error(`shipcast serve${replica ? ' --replica' : ''} exited with ${code}${err ? `: ${err}` : ''}`)));
  });
}

/** One autocannon run, as the benches report it. */
export interface CannonFigures {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/** POSTs one GraphQL body to `url` for `seconds` and returns the figures. */
export type Cannon = (url: string, body: string, seconds: number) => Promise<CannonFigures>;

/** An autocannon runner with a fixed bearer key and number of keep-alive connections. */
export function graphqlCannon(key: string, connections: number): Cannon {
  return async (url, body, seconds) => {
    const r = await autocannon({
      url, method: 'POST', connections, duration: seconds, body,
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${key}` },
    });
    return { reqPerSec: Math.round(r.requests.average), p50Ms: r.latency.p50, p99Ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
  };
}

/** One sequential GraphQL POST with a bearer key, answered as parsed JSON. */
export async function postGraphql<T = { data?: Record<string, unknown> }>(url: string, key: string, body: string): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
  return (await res.json()) as T;
}

/** Round length and count for the autocannon comparisons: BENCH_SECONDS / BENCH_ROUNDS, default 4 / 3. */
export function roundSettings(): { seconds: number; rounds: number } {
  return { seconds: Number(process.env.BENCH_SECONDS ?? 4), rounds: Number(process.env.BENCH_ROUNDS ?? 3) };
}

/**
 * Runs each target once for 2 s (JIT, caches, upstream connections count against none of them),
 * then `rounds` rounds of every target in turn: alternating short rounds, because the machine is
 * shared and load drifts. The runs come back per target, in the targets' order.
 */
export async function alternatingRounds<K extends string>(
  cannon: Cannon,
  targets: Record<K, { url: string; body: string }>,
  opts: { seconds: number; rounds: number },
): Promise<Record<K, CannonFigures[]>> {
  const entries = Object.entries(targets) as Array<[K, { url: string; body: string }]>;
  for (const [, t] of entries) await cannon(t.url, t.body, 2);
  const runs = Object.fromEntries(entries.map(([k]) => [k, [] as CannonFigures[]])) as Record<K, CannonFigures[]>;
  for (let i = 0; i < opts.rounds; i++) for (const [k, t] of entries) runs[k].push(await cannon(t.url, t.body, opts.seconds));
  return runs;
}

/**
 * Which sample stands for the p-th percentile of n: `nearest` is the nearest rank, index
 * ⌈p·n/100⌉−1 (for a median of an even count, the lower middle); `above` is index ⌊p·n/100⌋ (the
 * upper middle). Both conventions predate this module; each bench keeps its own so that its
 * figures stay comparable with its earlier runs.
 */
export type Rank = 'nearest' | 'above';

/** The p-th percentile of `xs` (not modified) under `rank`. */
export function percentile(xs: readonly number[], p: number, rank: Rank = 'nearest'): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const i = rank === 'nearest' ? Math.ceil((p / 100) * sorted.length) - 1 : Math.floor((p / 100) * sorted.length);
  return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
}

/**
 * The median of each figure over `runs`, the summed failures, and one entry per round (by default
 * its req/s).
 */
export function medianOf<R = number>(runs: readonly CannonFigures[], opts: { perRound?: (r: CannonFigures) => R; rank?: Rank } = {}) {
  const perRound = opts.perRound ?? ((r: CannonFigures) => r.reqPerSec as R);
  const med = (f: (r: CannonFigures) => number) => percentile(runs.map(f), 50, opts.rank);
  return {
    reqPerSec: med((r) => r.reqPerSec), p50Ms: med((r) => r.p50Ms), p99Ms: med((r) => r.p99Ms),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0), errors: runs.reduce((n, r) => n + r.errors, 0),
    rounds: runs.map(perRound),
  };
}
