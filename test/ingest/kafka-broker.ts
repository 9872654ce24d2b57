/**
 * A real Kafka-protocol broker for the tests: Mokapi (npm `go-mokapi`, a Go binary shipped inside
 * the npm package @go-mokapi/linux-x64) speaking the Kafka wire protocol on 127.0.0.1, with
 * consumer groups, offset commits and rebalances. It is not Apache Kafka (in-memory, one broker);
 * docs/SCALE.md says what was and was not tested against it. `.ci/run` installs it outside the
 * project's dependencies and points SHIPCAST_TEST_MOKAPI at it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

/** The mokapi binary: SHIPCAST_TEST_MOKAPI, else one installed in node_modules. */
export function mokapiBin(): string | undefined {
  const candidates = [process.env.SHIPCAST_TEST_MOKAPI, path.join(root, 'node_modules/.bin/mokapi')];
  return candidates.find((c): c is string => c !== undefined && c !== '' && fs.existsSync(c));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mokapi exited with ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`mokapi did not listen on ${port}: ${log()}`);
}

export interface Broker {
  brokers: string;
  stop(): Promise<void>;
}

/** Starts a broker with these topics (payloads are not validated: bad records must reach the consumer). */
export async function startBroker(bin: string, topics: Array<{ name: string; partitions: number }>): Promise<Broker> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-mokapi-'));
  const port = await freePort();
  const apiPort = await freePort();
  const message = '        contentType: application/octet-stream\n        payload: {}';
  const spec = [
    "asyncapi: '2.6.0'",
    'info:', '  title: shipcast-test', "  version: '1.0'",
    'servers:', '  broker:', `    url: 127.0.0.1:${port}`, '    protocol: kafka',
    'channels:',
    ...topics.flatMap((t) => [
      `  ${t.name}:`, '    bindings:', '      kafka:', `        partitions: ${t.partitions}`,
      '    publish:', '      message:', message, '    subscribe:', '      message:', message,
    ]),
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'spec.yaml'), `${spec}\n`);
  // npm's `mokapi` is a Node wrapper that runs the Go binary as its child: the broker gets its own
  // process group so stopping it stops both.
  const child = spawn(bin, [`--api-port=${apiPort}`, '--log-level=error', path.join(dir, 'spec.yaml')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  try {
    await waitForPort(port, child, () => out);
  } catch (e) {
    kill('SIGKILL');
    throw e;
  }
  return {
    brokers: `127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        kill('SIGTERM');
        await gone;
      }
      kill('SIGKILL'); // the Go process, should it outlive the wrapper
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
