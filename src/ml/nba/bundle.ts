/**
 * An NBA policy as stored in the registry (`models/nba/<version>/`): the outcome network
 * (`model.json` + `weights.bin`), and in `feature-spec.json` the context encoding, the reward
 * weights and the policy settings (exploration, control share). `evaluation.json` holds the
 * off-policy evaluation made at training time.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { NbaFeatureSpec } from './data.js';
import type { NbaRewardConfig } from './reward.js';
import type { PolicySettings } from './policy.js';
import { loadModelVersion, saveLayersModel } from '../registry/artifacts.js';
import type { FileModelStore } from '../registry/file-model-store.js';
import { HEAD, HEAD_WIDTH } from './model.js';
import { NBA_ACTION_NAMES } from '../../domain/nba.js';

export interface NbaBundle {
  version: string;
  model: tf.LayersModel;
  spec: NbaFeatureSpec;
  reward: NbaRewardConfig;
  policy: PolicySettings;
}

interface FeatureSpecFile {
  spec: NbaFeatureSpec;
  reward: NbaRewardConfig;
  policy: PolicySettings;
  heads: { actions: readonly string[]; width: number; columns: typeof HEAD; definition: string };
}

/** Writes the bundle's files (everything but meta/metrics) into `dir`. */
export async function writeNbaBundle(dir: string, b: Omit<NbaBundle, 'version'>): Promise<void> {
  await saveLayersModel(b.model, dir);
  const file: FeatureSpecFile = {
    spec: b.spec,
    reward: b.reward,
    policy: b.policy,
    heads: {
      actions: NBA_ACTION_NAMES,
      width: HEAD_WIDTH,
      columns: HEAD,
      definition: 'per action: sigmoid(repeat) = P(repeat purchase in 90 d), sigmoid(answer) = P(survey answer), 3 + csat = E[score | answer], sigmoid(contact) = P(support contact)',
    },
  };
  await fs.writeFile(path.join(dir, 'feature-spec.json'), JSON.stringify(file));
}

/** Loads the active (or a given) NBA version; MODEL_NOT_READY when there is none. */
export async function loadNbaBundle(store: FileModelStore, version?: string): Promise<NbaBundle> {
  const { version: v, file, model } = await loadModelVersion<FeatureSpecFile>(store, 'nba', version, {
    label: 'NBA policy', notReady: 'no active NBA policy: run `shipcast train nba` (and pass its gate or `shipcast activate nba <version>`) first',
  });
  return { version: v, model, spec: file.spec, reward: file.reward, policy: file.policy };
}
