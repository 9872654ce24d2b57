/** The API as `shipcast serve` runs it: real socket, keys from the CLI, the app's composition. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { serve } from '../../src/cli/serve-command.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-gql-app-'));
const env = { SHIPCAST_ENV: 'test', SHIPCAST_MODELS_DIR: path.join(dir, 'models'), SHIPCAST_DATA_DIR: path.join(dir, 'data'), SHIPCAST_LOG_LEVEL: 'silent' };
const db = path.join(dir, 'app.duckdb');
let key: string;
let running: { url: string; stop: () => Promise<void> };

beforeAll(async () => {
  const rt = captureRuntime(env);
  expect(await runCli(['keys', 'create', '--role', 'email-system', '--db', db], rt)).toBe(0);
  key = rt.stdout.at(-1)!;
  const wh = await openWarehouse(db);
  await wh.run(`INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level, status) VALUES ('S1', 'O1', 'TN1', 'ups', 'ground', 'in_transit')`);
  await wh.close();
  running = await serve(captureRuntime(env), { db, port: '0' });
});
afterAll(async () => {
  await running?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const post = (query: string, auth = `Bearer ${key}`) =>
  fetch(`${running.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify({ query }) });

describe('shipcast serve /graphql', () => {
  it('authenticates a CLI-created key and answers', async () => {
    const res = await post('{ shipment(trackingNumber: "none") { id } }');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { shipment: null } });
    expect((await post('{ __typename }', 'Bearer nope')).status).toBe(401);
  });

  it('reports MODEL_NOT_READY for ETAs while no predictor is available, and FORBIDDEN for training', async () => {
    const eta = (await (await post('{ shipment(trackingNumber: "TN1") { status eta { p50 } } }')).json()) as any;
    expect(eta.data.shipment).toEqual({ status: 'IN_TRANSIT', eta: null });
    expect(eta.errors.map((e: any) => e.extensions.code)).toEqual(['MODEL_NOT_READY']);
    const train = (await (await post('mutation { trainModel(kind: ETA) { id } }')).json()) as any;
    expect(train.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('serves no GraphiQL outside development', async () => {
    const res = await fetch(`${running.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(401);
  });
});
