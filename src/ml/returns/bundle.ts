/**
 * A return-propensity model as stored in the registry: the tfjs network (`model.json` +
 * `weights.bin`) and `feature-spec.json` with what scoring needs (feature spec, calibration,
 * contribution reference, label window).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { ReturnsFeatureSpec } from '../../features/returns/encode.js';
import { RETURN_WINDOW_DAYS } from '../../features/returns/feature-sql.js';
import type { PlattCalibration } from './calibration.js';
import { loadModelVersion, saveLayersModel } from '../registry/artifacts.js';
import type { FileModelStore } from '../registry/file-model-store.js';

export interface ReturnsBundle {
  version: string;
  model: tf.LayersModel;
  spec: ReturnsFeatureSpec;
  calibration: PlattCalibration;
  reference: Float32Array;
  windowDays: number;
}

interface FeatureSpecFile {
  spec: ReturnsFeatureSpec;
  calibration: PlattCalibration;
  reference: number[];
  windowDays: number;
  head: { definition: string };
}

/** Writes the bundle's files (everything but meta/metrics) into `dir`. */
export async function writeReturnsBundle(dir: string, b: Pick<ReturnsBundle, 'model' | 'spec' | 'calibration' | 'reference'>): Promise<void> {
  await saveLayersModel(b.model, dir);
  const file: FeatureSpecFile = {
    spec: b.spec,
    calibration: b.calibration,
    reference: Array.from(b.reference),
    windowDays: RETURN_WINDOW_DAYS,
    head: { definition: `output z is a logit; P(return requested within windowDays of delivery) = sigmoid(calibration.a * z + calibration.b)` },
  };
  await fs.writeFile(path.join(dir, 'feature-spec.json'), JSON.stringify(file));
}

/** Loads the active (or a given) returns version; MODEL_NOT_READY when there is none. */
export async function loadReturnsBundle(store: FileModelStore, version?: string): Promise<ReturnsBundle> {
  const { version: v, file, model } = await loadModelVersion<FeatureSpecFile>(store, 'returns', version, {
    label: 'returns model', notReady: 'no active returns model: run `shipcast train returns` first',
  });
  return { version: v, model, spec: file.spec, calibration: file.calibration, reference: Float32Array.from(file.reference), windowDays: file.windowDays };
}
