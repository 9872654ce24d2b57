/**
 * An ETA model as stored in the registry: the tfjs network plus what serving needs to use it
 * (feature spec, calibration). `feature-spec.json` holds both, with the head's definition.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { EtaFeatureSpec } from '../../features/eta/feature-spec.js';
import type { EtaCalibration } from './calibration.js';
import { loadModelVersion, saveLayersModel } from '../registry/artifacts.js';
import type { FileModelStore } from '../registry/file-model-store.js';
import { QUANTILES } from './model.js';

export interface EtaBundle {
  version: string;
  model: tf.LayersModel;
  spec: EtaFeatureSpec;
  calibration: EtaCalibration;
}

interface FeatureSpecFile {
  spec: EtaFeatureSpec;
  calibration: EtaCalibration;
  head: { quantiles: readonly number[]; definition: string };
}

/** Writes the bundle's files (everything but meta/metrics) into `dir`. */
export async function writeEtaBundle(dir: string, b: Omit<EtaBundle, 'version'>): Promise<void> {
  await saveLayersModel(b.model, dir);
  const file: FeatureSpecFile = {
    spec: b.spec,
    calibration: b.calibration,
    head: {
      quantiles: QUANTILES,
      definition: 'raw outputs r: P50 = r0, P10 = r0 - softplus(r1), P90 = r0 + softplus(r2); days = expm1(log1p(baseline) + targetScale * quantile), then the calibration tails',
    },
  };
  await fs.writeFile(path.join(dir, 'feature-spec.json'), JSON.stringify(file));
}

/** Loads the active (or a given) ETA version from the registry; MODEL_NOT_READY when there is none. */
export async function loadEtaBundle(store: FileModelStore, version?: string): Promise<EtaBundle> {
  const { version: v, file, model } = await loadModelVersion<FeatureSpecFile>(store, 'eta', version, {
    label: 'ETA model', notReady: 'no active ETA model: run `shipcast train eta` first',
  });
  return { version: v, model, spec: file.spec, calibration: file.calibration };
}
