/**
 * API replicas behind a load balancer (docs/SCALE.md, section 4), on loopback: the graphql bench's
 * warehouse (synthetic sample, a fleet re-opened in flight, the real ETA model), published with
 * `shipcast snapshot`, served by two `shipcast serve --replica` child processes over that one file.
 * autocannon runs `predictedEta` in alternating rounds against the writer (`shipcast serve` on the
 * writer's file: the baseline), one replica directly, one replica behind nginx, and two replicas
 * behind nginx (round-robin upstream, keepalive), so the ratio of the last two is the gain of the
 * second replica on this machine, measured in the same run. nginx comes
 * from Debian (`apt-get install nginx-light`); without it the bench says so and measures one replica only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { alternatingRounds, graphqlCannon, medianOf, postGraphql, roundSettings, startServer } from './support/http-load.js';
import { prepareFleetWarehouse } from './support/warehouse-fixture.js';

const SHIPMENTS = 10_000;
const OPEN = 1_000;
const CONNECTIONS = 20;

async function prepare(dir: string, env: Record<string, string>): Promise<{ db: string; snapshot: string; key: string; open: string[] }> {
  const db = path.join(dir, 'writer.duckdb');
  const { cli, key, open } = await prepareFleetWarehouse(db, env, { shipments: SHIPMENTS, open: OPEN });
  const snapshot = path.join(dir, 'published', 'shipcast.duckdb');
  await cli(['snapshot', '--db', db, '--out', snapshot]);
  return { db, snapshot, key, open };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function hasNginx(): boolean {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** nginx in the foreground with its own prefix: the upstream block of docs/SCALE.md over `ports`. */
async function startNginx(dir: string, ports: number[]): Promise<{ child: ChildProcess; url: string }> {
  const prefix = fs.mkdtempSync(path.join(dir, 'nginx-'));
  const port = await freePort();
  const conf = `worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;
  upstream shipcast_replicas {
${ports.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://shipcast_replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  const child = spawn('nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}/graphql`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`);
      return { child, url };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill('SIGTERM');
  throw new Error(`nginx did not start: ${fs.readFileSync(path.join(prefix, 'error.log'), 'utf8')}`);
}

export default async function bench(): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-replicas-bench-'));
  const env = { SHIPCAST_MODELS_DIR: path.join(dir, 'models'), SHIPCAST_DATA_DIR: path.join(dir, 'data'), SHIPCAST_LOG_LEVEL: 'warn', SHIPCAST_LINK_SECRET: 'bench-link-secret' };
  const children: ChildProcess[] = [];
  try {
    const { db, snapshot, key, open } = await prepare(dir, env);
    const [writer, ...replicas] = await Promise.all([startServer(db, { env }), startServer(snapshot, { env, replica: true }), startServer(snapshot, { env, replica: true })]);
    children.push(writer.child, ...replicas.map((r) => r.child));
    const direct = replicas[0].url;
    const post = (url: string, payload: string) => postGraphql<{ data?: Record<string, any> }>(url, key, payload);
    // A shipment whose window lies ahead: an overdue one's window starts "now", so two answers a few ms apart differ.
    const all = await post(direct, JSON.stringify({ query: 'query($t: [String!]!) { predictedEtas(trackingNumbers: $t) { trackingNumber p10 } }', variables: { t: open } }));
    const ahead = (all.data?.predictedEtas as Array<{ trackingNumber: string; p10: string } | null>).find((e) => e && Date.parse(e.p10) > Date.now() + 86_400_000);
    if (!ahead) throw new Error('no shipment in flight has its window ahead');
    const body = JSON.stringify({
      query: 'query($t: String!) { predictedEta(trackingNumber: $t) { p10 p50 p90 confidence modelVersion basis } }',
      variables: { t: ahead.trackingNumber },
    });
    // Both replicas must give the same answer before their speed means anything.
    const answers = await Promise.all([writer, ...replicas].map(async (r) => JSON.stringify((await post(r.url, body)).data?.predictedEta ?? null)));
    if (answers[0] === 'null' || answers.some((a) => a !== answers[0])) throw new Error(`writer and replicas disagree or predict nothing: ${answers.join(' vs ')}`);

    const targets: Record<string, string> = { writerDirect: writer.url, oneReplicaDirect: direct };
    const nginx = hasNginx();
    if (nginx) {
      const one = await startNginx(dir, [replicas[0].port]);
      const two = await startNginx(dir, replicas.map((r) => r.port));
      children.push(one.child, two.child);
      targets.oneReplicaBehindNginx = one.url;
      targets.twoReplicasBehindNginx = two.url;
    }
    const { seconds, rounds } = roundSettings();
    // Warm-up also fills both replicas' prediction caches and nginx's upstream connections.
    const runs = await alternatingRounds(graphqlCannon(key, CONNECTIONS), Object.fromEntries(Object.entries(targets).map(([k, url]) => [k, { url, body }])), { seconds, rounds });
    const figures = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, medianOf(v)]));
    const ratio = (a: string, b: string) => (figures[a] && figures[b] ? Number((figures[a].reqPerSec / figures[b].reqPerSec).toFixed(3)) : undefined);
    return {
      setup: `real ETA model, ${SHIPMENTS.toLocaleString('en-US')} shipments (${OPEN} in flight); the writer (shipcast serve) on its file, and one snapshot file shared read-only by two shipcast serve --replica processes; autocannon ${CONNECTIONS} connections from the bench process`,
      cpus: os.cpus().length,
      seconds,
      rounds,
      loadBalancer: nginx ? 'nginx (Debian nginx-light), 1 worker, round-robin upstream, keepalive 32' : 'nginx not installed (apt-get install nginx-light): only one replica measured',
      predictedEta: figures,
      ratios: {
        oneReplicaVsWriter: ratio('oneReplicaDirect', 'writerDirect'),
        twoReplicasVsOneBehindNginx: ratio('twoReplicasBehindNginx', 'oneReplicaBehindNginx'),
        twoReplicasBehindNginxVsOneDirect: ratio('twoReplicasBehindNginx', 'oneReplicaDirect'),
        nginxHopCost: ratio('oneReplicaBehindNginx', 'oneReplicaDirect'),
      },
      note: 'steady-state answers come from each server\'s own prediction cache; on this 2-core machine the load generator, nginx and the servers share the same two cores (the idle ones cost little)',
      loadAverage1m: Number(os.loadavg()[0].toFixed(1)),
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
