import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { createApiKeyStore } from '../../src/auth/api-keys.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-keys-'));
const db = path.join(dir, 'k.duckdb');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('shipcast keys', () => {
  it('creates (key on the last line), lists and revokes keys', async () => {
    const rt = captureRuntime({});
    expect(await runCli(['keys', 'create', '--role', 'email-system', '--label', 'esp', '--db', db], rt)).toBe(0);
    const key = rt.stdout.at(-1)!;
    expect(key).toMatch(/^sck_[0-9a-f]{12}_/);
    const keyId = key.split('_')[1];

    const list = captureRuntime({});
    expect(await runCli(['keys', 'list', '--json', '--db', db], list)).toBe(0);
    const keys = JSON.parse(list.stdout[0]);
    expect(keys).toMatchObject([{ keyId, role: 'email-system', label: 'esp', revokedAt: null }]);
    expect(list.stdout.join('\n')).not.toContain(key);

    const wh = await openWarehouse(db);
    try {
      expect(await createApiKeyStore(wh).authenticate(key)).toMatchObject({ keyId, role: 'email-system' });
    } finally {
      await wh.close();
    }
    const rev = captureRuntime({});
    expect(await runCli(['keys', 'revoke', keyId, '--db', db], rev)).toBe(0);
    const wh2 = await openWarehouse(db);
    try {
      expect(await createApiKeyStore(wh2).authenticate(key)).toBeUndefined();
    } finally {
      await wh2.close();
    }
  });

  it('rejects an unknown role and an unknown id with the field named', async () => {
    const rt = captureRuntime({});
    expect(await runCli(['keys', 'create', '--role', 'root', '--db', db], rt)).toBe(1);
    expect(rt.stderr.join('\n')).toMatch(/BAD_INPUT.*role/);
    const rev = captureRuntime({});
    expect(await runCli(['keys', 'revoke', 'nope', '--db', db], rev)).toBe(1);
    expect(rev.stderr.join('\n')).toMatch(/NOT_FOUND/);
  });
});
