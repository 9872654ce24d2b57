/**
 * A file-based model registry: `models/<kind>/<version>/{model.json, weights.bin,
 * feature-spec.json, metrics.json, meta.json}` and `models/<kind>/active` holding the version in
 * use. Serving reads it without retraining.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ModelInfo, ModelKind, ModelStore } from '../../domain/models.js';
import { ShipcastError } from '../../errors.js';

const KINDS: readonly ModelKind[] = ['eta', 'returns', 'nba'];
const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** What `meta.json` holds. */
export interface ModelMeta {
  kind: ModelKind;
  version: string;
  createdAt: string;
  dataFingerprint: string;
  [extra: string]: unknown;
}

export interface FileModelStore extends ModelStore {
  readonly root: string;
  /** Folder of one version (it may not exist yet). */
  versionDir(kind: ModelKind, version: string): string;
  /**
   * Registers a version whose artifacts `write(dir)` puts into a staging folder; the folder is
   * renamed into place only once complete, then `meta.json` and `metrics.json` are written.
   */
  register(meta: ModelMeta, metrics: Record<string, unknown>, write: (dir: string) => Promise<void>): Promise<ModelInfo>;
}

function checkVersion(version: string): void {
  if (!VERSION_RE.test(version)) throw new ShipcastError('BAD_INPUT', `version: "${version}" is not a valid model version`, { field: 'version' });
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (e) {
    // ENOTDIR: a file such as `active` sits where a version folder would be.
    if (['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw e;
  }
}

/** Opens (lazily; nothing is created until a model is registered) the registry rooted at `modelsDir`. */
export function createFileModelStore(modelsDir: string): FileModelStore {
  const root = path.resolve(modelsDir);
  const versionDir = (kind: ModelKind, version: string) => path.join(root, kind, version);

  async function activeVersion(kind: ModelKind): Promise<string | undefined> {
    try {
      const v = (await fs.readFile(path.join(root, kind, 'active'), 'utf8')).trim();
      return v || undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async function get(kind: ModelKind, version: string): Promise<ModelInfo | undefined> {
    if (!VERSION_RE.test(version)) return undefined;
    const dir = versionDir(kind, version);
    const meta = await readJson<ModelMeta>(path.join(dir, 'meta.json'));
    if (!meta) return undefined;
    const metrics = (await readJson<Record<string, unknown>>(path.join(dir, 'metrics.json'))) ?? {};
    return { kind, version, createdAt: new Date(meta.createdAt), metrics, dataFingerprint: meta.dataFingerprint, active: (await activeVersion(kind)) === version };
  }

  async function list(kind?: ModelKind): Promise<ModelInfo[]> {
    const out: ModelInfo[] = [];
    for (const k of kind ? [kind] : KINDS) {
      let entries: string[] = [];
      try {
        entries = await fs.readdir(path.join(root, k));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      for (const v of entries) {
        const info = await get(k, v);
        if (info) out.push(info);
      }
    }
    return out.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.version.localeCompare(b.version));
  }

  async function activate(kind: ModelKind, version: string): Promise<void> {
    checkVersion(version);
    if (!(await get(kind, version))) throw new ShipcastError('NOT_FOUND', `version: no ${kind} model version "${version}"`, { field: 'version' });
    const file = path.join(root, kind, 'active');
    // Write-then-rename so readers never see a half-written pointer.
    await fs.writeFile(`${file}.tmp`, `${version}\n`);
    await fs.rename(`${file}.tmp`, file);
  }

  async function register(meta: ModelMeta, metrics: Record<string, unknown>, write: (dir: string) => Promise<void>): Promise<ModelInfo> {
    checkVersion(meta.version);
    const dir = versionDir(meta.kind, meta.version);
    if (await readJson(path.join(dir, 'meta.json'))) throw new ShipcastError('CONFLICT', `version: ${meta.kind} model "${meta.version}" already exists`, { field: 'version' });
    const staging = path.join(root, meta.kind, `.staging-${meta.version}-${process.pid}`);
    await fs.rm(staging, { recursive: true, force: true });
    await fs.mkdir(staging, { recursive: true });
    try {
      await write(staging);
      await fs.writeFile(path.join(staging, 'metrics.json'), JSON.stringify(metrics, null, 2));
      await fs.writeFile(path.join(staging, 'meta.json'), JSON.stringify(meta, null, 2));
      await fs.rm(dir, { recursive: true, force: true });
      await fs.rename(staging, dir);
    } catch (e) {
      await fs.rm(staging, { recursive: true, force: true });
      throw e;
    }
    return (await get(meta.kind, meta.version))!;
  }

  return { root, versionDir, list, get, activeVersion, activate, register };
}
