/**
 * Saving and loading tfjs LayersModels as the standard `model.json` + `weights.bin` pair without
 * tfjs-node (which is what provides `file://` handlers). The files are byte-compatible with
 * `tf.loadLayersModel('file://…/model.json')` under tfjs-node and with browsers.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelKind } from '../../domain/models.js';
import { ShipcastError } from '../../errors.js';
import type { FileModelStore } from './file-model-store.js';

/** Writes `model.json` and `weights.bin` into `dir` (created if needed). */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      await fs.writeFile(path.join(dir, 'weights.bin'), Buffer.from(weightData));
      await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ modelTopology: artifacts.modelTopology, weightSpecs: artifacts.weightSpecs, weightData }) };
    }),
  );
}

interface ModelJson {
  modelTopology: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Loads a model saved by `saveLayersModel` (or any single- or multi-shard tfjs layers model). */
export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as ModelJson;
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) buffers.push(await fs.readFile(path.join(dir, p)));
  }
  const joined = Buffer.concat(buffers);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength);
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData, format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy ?? undefined }),
  );
}

/**
 * Reads a registered version's `feature-spec.json` (parsed as `F`) and its model: the given
 * version, else the active one. MODEL_NOT_READY with `notReady` when none is active, and naming
 * the version (`label`, e.g. "ETA model") when its files are incomplete.
 */
export async function loadModelVersion<F>(
  store: FileModelStore,
  kind: ModelKind,
  version: string | undefined,
  o: { label: string; notReady: string },
): Promise<{ version: string; file: F; model: tf.LayersModel }> {
  const v = version ?? (await store.activeVersion(kind));
  if (!v) throw new ShipcastError('MODEL_NOT_READY', o.notReady);
  const dir = store.versionDir(kind, v);
  let file: F;
  try {
    file = JSON.parse(await fs.readFile(path.join(dir, 'feature-spec.json'), 'utf8')) as F;
  } catch (e) {
    throw new ShipcastError('MODEL_NOT_READY', `${o.label} ${v} is incomplete: ${(e as Error).message}`, { cause: e });
  }
  return { version: v, file, model: await loadLayersModel(dir) };
}
