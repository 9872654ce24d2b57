/**
 * Training an NBA policy: logged decisions with known outcomes → time split (the most recent
 * `evalShare` is held out) → outcome model fitted on the older part → greedy policy with
 * exploration and control group → off-policy evaluation on the held-out decisions against the
 * logging policy → registered version. It is activated only when the gate passes (the DR lower
 * bound beats the logging policy's value), or with an override, which is logged and recorded in
 * the version's meta.json.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Warehouse } from '../../warehouse/warehouse.js';
import type { Logger } from '../../log.js';
import { ShipcastError } from '../../errors.js';
import { initTf, type TfBackendChoice } from '../backend.js';
import { createFileModelStore, type ModelMeta } from '../registry/file-model-store.js';
import { readLoggedDecisions, type NbaExample } from './data.js';
import { fitNbaModel, type FitNbaOptions } from './fit.js';
import { actionValues, rewardModel, type Scorer } from './score.js';
import { actionProbabilities, checkPolicySettings, DEFAULT_POLICY, type PolicySettings } from './policy.js';
import { activationDecision, offPolicyEvaluate, type OpeReport } from './ope.js';
import { DEFAULT_NBA_REWARD, type NbaRewardConfig } from './reward.js';
import { loadNbaBundle, writeNbaBundle } from './bundle.js';

export interface TrainNbaDeps {
  warehouse: Warehouse;
  modelsDir: string;
  log: Logger;
  tfBackend?: TfBackendChoice;
  onEpoch?: FitNbaOptions['onEpoch'];
}

export interface TrainNbaOptions {
  /** Only decisions before this instant are used. */
  until?: Date;
  seed?: number;
  epochs?: number;
  /** Most recent share of the decisions held out for the off-policy evaluation (default 0.3). */
  evalShare?: number;
  policy?: Partial<PolicySettings>;
  /** Bootstrap resamples of the evaluation (default 1000). */
  bootstrap?: number;
  /** Activate even when the gate refuses (logged, recorded in meta.json). */
  override?: boolean;
  /** Register only, never activate. */
  noActivate?: boolean;
  /** What outcomes are worth and actions cost (default DEFAULT_NBA_REWARD); logged rewards are re-valued with it. */
  reward?: NbaRewardConfig;
}

/** The evaluation stored with a version (`evaluation.json`, and `metrics.json.ope`). */
export interface NbaEvaluation {
  report: OpeReport;
  /** The held-out decisions evaluated on. */
  decisions: { n: number; from: string; to: string };
  policy: PolicySettings;
  evaluatedAt: string;
}

export interface TrainNbaResult {
  version: string;
  evaluation: NbaEvaluation;
  gate: { activate: boolean; reason: string; overridden: boolean };
  activated: boolean;
  metrics: Record<string, unknown>;
  scorer: Scorer;
}

/** What off-policy evaluation needs from a scorer and policy over logged decisions. */
export function opeInput(s: Scorer, policy: PolicySettings, decisions: readonly NbaExample[]) {
  const contexts = decisions.map((d) => d.context);
  const values = actionValues(s, contexts);
  return {
    rewards: Float64Array.from(decisions.map((d) => d.reward)),
    loggedActions: Int32Array.from(decisions.map((d) => d.action)),
    propensities: Float64Array.from(decisions.map((d) => d.propensity)),
    targetProbs: values.map((v) => actionProbabilities(v, policy)),
    rewardModel: rewardModel(s, contexts),
  };
}

/** Off-policy evaluation of a scorer's policy on logged decisions. */
export function evaluatePolicy(s: Scorer, policy: PolicySettings, decisions: readonly NbaExample[], opts: { bootstrap?: number; seed?: number } = {}): NbaEvaluation {
  if (decisions.length === 0) throw new ShipcastError('BAD_INPUT', 'nba_decisions: no logged decisions with known outcomes to evaluate on', { field: 'nba_decisions' });
  const report = offPolicyEvaluate(opeInput(s, policy, decisions), { bootstrap: opts.bootstrap ?? 1000, seed: opts.seed ?? 1 });
  return {
    report,
    decisions: { n: decisions.length, from: decisions[0].decidedAt.toISOString(), to: decisions.at(-1)!.decidedAt.toISOString() },
    policy,
    evaluatedAt: new Date().toISOString(),
  };
}

function fingerprint(examples: readonly NbaExample[]): string {
  const h = crypto.createHash('sha256');
  for (const e of examples) h.update(`${e.decisionId}|${e.action}|${e.reward}\n`);
  return h.digest('hex');
}

/** Trains, evaluates and registers an NBA policy; activates it only if the gate (or `override`) allows. */
export async function trainNba(deps: TrainNbaDeps, opts: TrainNbaOptions = {}): Promise<TrainNbaResult> {
  const backend = await initTf(deps.tfBackend ?? 'auto', deps.log);
  const t0 = performance.now();
  const policy = checkPolicySettings({ ...DEFAULT_POLICY, ...opts.policy });
  const reward = opts.reward ?? DEFAULT_NBA_REWARD;
  const examples = await readLoggedDecisions(deps.warehouse, { until: opts.until, reward });
  const nEval = Math.floor(examples.length * (opts.evalShare ?? 0.3));
  const train = examples.slice(0, examples.length - nEval);
  const held = examples.slice(examples.length - nEval);
  if (held.length < 20) throw new ShipcastError('BAD_INPUT', `nba_decisions: ${examples.length} logged decisions with known outcomes; too few to train and evaluate a policy (need about 100)`, { field: 'nba_decisions' });
  const fit = await fitNbaModel(train, { seed: opts.seed, epochs: opts.epochs, onEpoch: deps.onEpoch });
  const scorer: Scorer = { model: fit.model, spec: fit.spec, reward };
  const evaluation = evaluatePolicy(scorer, policy, held, { bootstrap: opts.bootstrap, seed: opts.seed });
  const gate = activationDecision(evaluation.report, { override: opts.override });
  const activate = gate.activate && !opts.noActivate;
  const print = fingerprint(examples);
  const store = createFileModelStore(deps.modelsDir);
  let version = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${print.slice(0, 8)}`;
  if (await store.get('nba', version)) version = `${version}-${crypto.randomBytes(2).toString('hex')}`;
  const metrics = {
    ope: evaluation.report,
    rows: { train: fit.rows.train, validation: fit.rows.validation, evaluation: held.length },
    loss: { train: fit.trainLoss, validation: fit.valLoss, bestEpoch: fit.bestEpoch, epochs: fit.epochs },
    gate: { passed: gate.activate && !gate.overridden, reason: gate.reason },
    backend,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    fitSeconds: Math.round(fit.seconds * 10) / 10,
  };
  const meta: ModelMeta = {
    kind: 'nba', version, createdAt: new Date().toISOString(), dataFingerprint: print,
    until: opts.until?.toISOString() ?? null, seed: opts.seed ?? 42, policy,
    trainedThrough: train.at(-1)?.decidedAt.toISOString() ?? null,
    ...(activate && gate.overridden ? { activation: overrideRecord(gate.reason) } : {}),
  };
  await store.register(meta, metrics, async (dir) => {
    await writeNbaBundle(dir, { model: fit.model, spec: fit.spec, reward, policy });
    await fs.writeFile(path.join(dir, 'evaluation.json'), JSON.stringify(evaluation, null, 2));
  });
  if (activate) {
    if (gate.overridden) deps.log.warn({ version, reason: gate.reason }, 'NBA policy activated by override although the off-policy gate refused it');
    await store.activate('nba', version);
  }
  deps.log.info({ version, activated: activate, gate: gate.reason }, 'NBA policy registered');
  return { version, evaluation, gate, activated: activate, metrics, scorer };
}

function overrideRecord(reason: string, by?: string) {
  return { overridden: true, reason, at: new Date().toISOString(), ...(by ? { by } : {}) };
}

/** The evaluation stored with a version; NOT_FOUND when the version does not exist. */
export async function readEvaluation(modelsDir: string, version: string): Promise<NbaEvaluation> {
  const store = createFileModelStore(modelsDir);
  if (!(await store.get('nba', version))) throw new ShipcastError('NOT_FOUND', `version: no nba policy version "${version}"`, { field: 'version' });
  return JSON.parse(await fs.readFile(path.join(store.versionDir('nba', version), 'evaluation.json'), 'utf8')) as NbaEvaluation;
}

/**
 * Re-evaluates a version (default: the newest) on the logged decisions after its training data,
 * stores the result as its evaluation and returns it.
 */
export async function evaluateNbaVersion(deps: Omit<TrainNbaDeps, 'onEpoch'>, opts: { version?: string; bootstrap?: number; seed?: number } = {}): Promise<{ version: string; evaluation: NbaEvaluation }> {
  await initTf(deps.tfBackend ?? 'auto', deps.log);
  const store = createFileModelStore(deps.modelsDir);
  const version = opts.version ?? (await store.list('nba'))[0]?.version;
  if (!version) throw new ShipcastError('NOT_FOUND', 'version: no nba policy registered; run `shipcast train nba` first', { field: 'version' });
  if (!(await store.get('nba', version))) throw new ShipcastError('NOT_FOUND', `version: no nba policy version "${version}"`, { field: 'version' });
  const meta = JSON.parse(await fs.readFile(path.join(store.versionDir('nba', version), 'meta.json'), 'utf8')) as ModelMeta & { trainedThrough?: string | null };
  const bundle = await loadNbaBundle(store, version);
  try {
    const since = meta.trainedThrough ? new Date(meta.trainedThrough).getTime() : -Infinity;
    // Re-valued with the weights the policy was trained with, which its reward model also uses.
    const decisions = (await readLoggedDecisions(deps.warehouse, { reward: bundle.reward })).filter((d) => d.decidedAt.getTime() > since);
    const evaluation = evaluatePolicy(bundle, bundle.policy, decisions, opts);
    await fs.writeFile(path.join(store.versionDir('nba', version), 'evaluation.json'), JSON.stringify(evaluation, null, 2));
    return { version, evaluation };
  } finally {
    bundle.model.dispose();
  }
}

/**
 * Activates a registered version if its stored evaluation passes the gate; with `override`
 * anyway, logged as a warning and recorded in its meta.json (with `by`, who asked: an API key id).
 * Throws CONFLICT when refused.
 */
export async function activateNba(deps: { modelsDir: string; log: Logger }, version: string, opts: { override?: boolean; by?: string } = {}): Promise<{ reason: string; overridden: boolean }> {
  const store = createFileModelStore(deps.modelsDir);
  const evaluation = await readEvaluation(deps.modelsDir, version);
  const gate = activationDecision(evaluation.report, { override: opts.override });
  if (!gate.activate) throw new ShipcastError('CONFLICT', `activation of nba policy ${version} ${gate.reason}; override it (--override, or override: true over GraphQL) to activate anyway`, { field: 'version', details: { reason: gate.reason } });
  if (gate.overridden) {
    const file = path.join(store.versionDir('nba', version), 'meta.json');
    const meta = JSON.parse(await fs.readFile(file, 'utf8')) as ModelMeta;
    await fs.writeFile(file, JSON.stringify({ ...meta, activation: overrideRecord(gate.reason, opts.by) }, null, 2));
    deps.log.warn({ version, reason: gate.reason, by: opts.by }, 'NBA policy activated by override although the off-policy gate refused it');
  }
  await store.activate('nba', version);
  return { reason: gate.reason, overridden: gate.overridden };
}
