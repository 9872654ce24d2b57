import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { openWarehouse } from '../warehouse/duckdb-warehouse.js';
import { generateSample } from '../synth/generate.js';
import { epochLabel, trainEta } from '../ml/eta/train.js';
import { trainReturns } from '../ml/returns/train.js';
import { createFileModelStore } from '../ml/registry/file-model-store.js';
import { trainNba } from '../ml/nba/train.js';
import { fillOutcomes } from '../ml/nba/outcomes.js';
import { createApiKeyStore } from '../auth/api-keys.js';
import { createApp } from '../app.js';
import { listen } from '../http/router.js';
import { writeReports } from '../reports/build-reports.js';
import { runUntilSignal, type CliRuntime } from './runtime.js';
import { isShipcastError } from '../errors.js';

export interface StartOptions {
  db?: string;
  port?: string;
  host?: string;
  /** Prepare data, models and key, then exit without serving (used by tests and CI warm-up). */
  serve?: boolean;
}

/** What `start` did in each step; every step is skipped when its result already exists. */
export interface StartReport {
  generated: boolean;
  trained: boolean;
  etaVersion: string;
  trainedReturns: boolean;
  /** Undefined when the warehouse had too few orders with a closed return window to train on. */
  returnsVersion?: string;
  adminKeyFile: string;
  createdAdminKey: boolean;
  /** The leadership report page, rewritten on every start so it reflects the current data. */
  reportPage: string;
}

async function ensureSample(rt: CliRuntime, config: Config, wh: Warehouse): Promise<boolean> {
  const n = (await wh.one<{ n: number }>('SELECT count(*) AS n FROM shipments'))?.n ?? 0;
  if (n > 0) {
    rt.err(`[1/5] warehouse ${config.dbPath} already holds ${n.toLocaleString('en-US')} shipments; reusing it`);
    return false;
  }
  rt.err(`[1/5] generating a synthetic sample: ${config.sampleShipments.toLocaleString('en-US')} shipments, seed ${config.seed} …`);
  let lastPct = -1;
  const s = await generateSample(wh, {
    seed: config.seed,
    shipments: config.sampleShipments,
    onProgress: (done, total) => {
      const pct = Math.floor((100 * done) / total / 25) * 25;
      if (pct !== lastPct) rt.err(`      ${pct}%`);
      lastPct = pct;
    },
  });
  await wh.checkpoint();
  rt.err(`      ${s.counts.shipments?.toLocaleString('en-US')} shipments, ${s.counts.tracking_events?.toLocaleString('en-US')} tracking events in ${s.seconds.toFixed(1)} s`);
  return true;
}

async function ensureEtaModel(rt: CliRuntime, config: Config, wh: Warehouse, log: Logger): Promise<{ version: string; trained: boolean }> {
  const active = await createFileModelStore(config.modelsDir).activeVersion('eta');
  if (active) {
    rt.err(`[2/5] ETA model ${active} is active in ${config.modelsDir}; reusing it`);
    return { version: active, trained: false };
  }
  rt.err('[2/5] training the ETA model …');
  const r = await trainEta(
    {
      warehouse: wh, modelsDir: config.modelsDir, log, tfBackend: config.tfBackend,
      onEpoch: (e) => rt.err(`      ${epochLabel(e)}  validation pinball ${e.valLoss.toFixed(4)}`),
    },
    { seed: config.seed, epochs: config.etaEpochs },
  );
  const v = r.metrics.validation;
  rt.err(`      ${r.version}: P50 MAE ${v.mae.toFixed(2)} d, P10–P90 coverage ${(v.coverage * 100).toFixed(1)} %, width ${v.meanWidth.toFixed(2)} d (${r.metrics.seconds} s on ${r.metrics.backend})`);
  r.model.dispose();
  return { version: r.version, trained: true };
}

async function ensureReturnsModel(rt: CliRuntime, config: Config, wh: Warehouse, log: Logger): Promise<{ version?: string; trained: boolean }> {
  const active = await createFileModelStore(config.modelsDir).activeVersion('returns');
  if (active) {
    rt.err(`[3/5] returns model ${active} is active in ${config.modelsDir}; reusing it`);
    return { version: active, trained: false };
  }
  rt.err('[3/5] training the return-propensity model …');
  let r: Awaited<ReturnType<typeof trainReturns>>;
  try {
    r = await trainReturns({ warehouse: wh, modelsDir: config.modelsDir, log, tfBackend: config.tfBackend }, { seed: config.seed });
  } catch (e) {
    // Too few orders with a closed return window (a young warehouse) is not a reason to stop the service.
    if (!(isShipcastError(e) && e.code === 'BAD_INPUT' && e.field === 'until')) throw e;
    rt.err(`      skipped: ${e.message}; returnRisk answers MODEL_NOT_READY until \`shipcast train returns\` succeeds`);
    return { trained: false };
  }
  const v = r.metrics.validation.model;
  rt.err(`      ${r.version}: AUC ${v.auc.toFixed(3)}, Brier ${v.brier.toFixed(4)}, ECE ${v.ece.toFixed(4)} on the latest ${v.n.toLocaleString('en-US')} orders (${r.metrics.seconds} s)`);
  r.fitted.model.dispose();
  return { version: r.version, trained: true };
}

/** The next-best-action policy: trained once (its gate decides whether it goes live); logged outcomes are filled on every start. */
async function ensureNbaPolicy(rt: CliRuntime, config: Config, wh: Warehouse, log: Logger): Promise<void> {
  const filled = await fillOutcomes(wh, { reward: config.nba.reward });
  const versions = await createFileModelStore(config.modelsDir).list('nba');
  if (versions.length > 0) {
    rt.err(`      next-best-action policy ${versions[0].version} is registered${versions[0].active ? ' and active' : ''}; reusing it${filled ? ` (${filled} decision outcomes filled in)` : ''}`);
    return;
  }
  rt.err('      training the next-best-action policy …');
  try {
    const r = await trainNba({ warehouse: wh, modelsDir: config.modelsDir, log, tfBackend: config.tfBackend }, { seed: config.seed, reward: config.nba.reward });
    r.scorer.model.dispose();
    rt.err(`      ${r.version}: ${r.activated ? 'activated' : 'registered, not activated'}; ${r.gate.reason}`);
  } catch (e) {
    // Too few logged decisions with outcomes (a young warehouse) is not a reason to stop the service.
    if (!(isShipcastError(e) && e.code === 'BAD_INPUT' && e.field === 'nba_decisions')) throw e;
    rt.err(`      skipped: ${e.message}; nextBestAction answers MODEL_NOT_READY until \`shipcast train nba\` succeeds`);
  }
}

/** An admin key for GraphiQL, created once and kept (mode 0600) beside the data. */
async function ensureAdminKey(config: Config, wh: Warehouse): Promise<{ file: string; key: string; created: boolean }> {
  const file = path.join(config.dataDir, 'admin-key');
  const keys = createApiKeyStore(wh);
  if (fs.existsSync(file)) {
    const key = fs.readFileSync(file, 'utf8').trim();
    if (await keys.authenticate(key)) return { file, key, created: false };
  }
  const { key } = await keys.create({ role: 'admin', label: 'created by npm start for GraphiQL' });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { file, key, created: true };
}

/**
 * The main job (`npm start`): sample data, then the ETA and return-propensity models, then the leadership reports and the API. Idempotent: a second
 * run reuses the warehouse, the active model and the admin key.
 */
export async function start(rt: CliRuntime, opts: StartOptions): Promise<{ report: StartReport; url?: string; stop: () => Promise<void> }> {
  const config = loadConfig(rt.env, { db: opts.db, host: opts.host, port: opts.port === undefined ? undefined : Number(opts.port) });
  const wh = await openWarehouse(config.dbPath);
  try {
    const generated = await ensureSample(rt, config, wh);
    const eta = await ensureEtaModel(rt, config, wh, rt.log);
    const returns = await ensureReturnsModel(rt, config, wh, rt.log);
    await ensureNbaPolicy(rt, config, wh, rt.log);
    const admin = await ensureAdminKey(config, wh);
    const reportsDir = path.join(config.dataDir, 'reports');
    rt.err(`[4/5] writing the leadership reports to ${reportsDir} …`);
    await writeReports(wh, reportsDir);
    const reportPage = path.join(reportsDir, 'index.html');
    const report: StartReport = {
      generated, trained: eta.trained, etaVersion: eta.version, trainedReturns: returns.trained, returnsVersion: returns.version, adminKeyFile: admin.file, createdAdminKey: admin.created, reportPage,
    };
    if (opts.serve === false) {
      await wh.close();
      return { report, stop: async () => undefined };
    }
    rt.err('[5/5] starting the API …');
    const app = await createApp(config, { log: rt.log, warehouse: wh });
    const server = await listen(app.handler, { host: config.http.host, port: config.http.port });
    rt.out(`shipcast listening on ${server.url}`);
    rt.out(`  GraphQL + GraphiQL: ${server.url}/graphql   (header  Authorization: Bearer <key in ${admin.file}>)`);
    rt.out(`  leadership reports: ${reportPage} (JSON at ${server.url}/reports/<name>.json)`);
    rt.out(`  health: ${server.url}/healthz   readiness: ${server.url}/readyz   metrics: ${server.url}/metrics`);
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        await server.close();
        await app.close();
        await wh.checkpoint().catch(() => undefined);
        await wh.close();
      })());
    return { report, url: server.url, stop };
  } catch (e) {
    await wh.close();
    throw e;
  }
}

export function registerStartCommand(program: Command, rt: CliRuntime): void {
  program
    .command('start')
    .description('the main job: generate sample data if the warehouse is empty, train the ETA and returns models if none is active, write the reports, then serve the API')
    .option('--db <file>', 'DuckDB file (default $SHIPCAST_DB or data/shipcast.duckdb)')
    .option('--port <port>', 'port (default 4000)')
    .option('--host <host>', 'host (default 127.0.0.1)')
    .option('--no-serve', 'prepare data, model and admin key, then exit')
    .action(async (opts: StartOptions) => {
      const { stop, url } = await start(rt, opts);
      if (!url) return;
      await runUntilSignal(rt, stop);
    });
}
