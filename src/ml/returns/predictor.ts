/**
 * Serving: the `ReturnsPredictor` backed by the registry's active returns model. One `predict`
 * builds the features of every requested order in one query and runs one batched model call.
 *
 * Top factors are gradient × (input − reference) on the network's logit, where the reference is
 * the mean encoded training row, summed over each feature's columns (a categorical's one-hot
 * block, a numeric and its missing indicator) and scaled by the calibration's slope, so they are
 * in calibrated log-odds relative to an average order. For the wide (linear) part they are exact.
 */
import type { ReturnFactor, ReturnRisk, ReturnsPredictor } from '../../domain/returns.js';
import type { Warehouse } from '../../warehouse/warehouse.js';
import type { Logger } from '../../log.js';
import { queryReturnsFeatures, type RawReturnsRow } from '../../features/returns/feature-sql.js';
import { returnsFrameFromRows } from '../../features/returns/returns-frame.js';
import { encodeReturns, featureColumns } from '../../features/returns/encode.js';
import { inputContributions, predictLogits } from './model.js';
import { calibrate } from './calibration.js';
import { loadReturnsBundle, type ReturnsBundle } from './bundle.js';
import { createFileModelStore } from '../registry/file-model-store.js';
import { initTf, type TfBackendChoice } from '../backend.js';
import { ShipcastError } from '../../errors.js';

/** Factors returned per order. */
export const TOP_FACTORS = 5;

/** Scores rows with a bundle: calibrated probabilities and each row's factors, largest |contribution| first. */
export function scoreReturnRows(bundle: ReturnsBundle, rows: readonly RawReturnsRow[], top = TOP_FACTORS): { probability: number; factors: ReturnFactor[] }[] {
  const enc = encodeReturns(returnsFrameFromRows(rows), bundle.spec);
  const z = predictLogits(bundle.model, enc);
  const contrib = inputContributions(bundle.model, enc, bundle.reference);
  const groups = featureColumns(bundle.spec);
  return rows.map((_, r) => {
    const factors = groups.map((g) => ({
      name: g.name,
      contribution: bundle.calibration.a * g.columns.reduce((s, c) => s + contrib[r * enc.width + c], 0),
    }));
    factors.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.name.localeCompare(b.name));
    return { probability: calibrate(bundle.calibration, z[r]), factors: factors.slice(0, top) };
  });
}

/**
 * Creates the predictor and loads the active model if there is one. Without an active model,
 * `activeVersion()` is undefined and `predict` throws MODEL_NOT_READY until `reload()` finds one.
 */
export async function createReturnsPredictor(deps: { warehouse: Warehouse; modelsDir: string; log: Logger; tfBackend?: TfBackendChoice }): Promise<ReturnsPredictor> {
  await initTf(deps.tfBackend ?? 'auto', deps.log);
  const store = createFileModelStore(deps.modelsDir);
  let bundle: ReturnsBundle | undefined;

  async function reload(): Promise<void> {
    const version = await store.activeVersion('returns');
    if (!version) {
      bundle?.model.dispose();
      bundle = undefined;
      return;
    }
    if (bundle?.version === version) return;
    const next = await loadReturnsBundle(store, version);
    bundle?.model.dispose();
    bundle = next;
    deps.log.info({ version }, 'returns model loaded');
  }
  await reload();

  return {
    activeVersion: () => bundle?.version,
    reload,
    async predict(orderIds, now = new Date()) {
      const out = new Map<string, ReturnRisk>();
      if (orderIds.length === 0) return out;
      const b = bundle;
      if (!b) throw new ShipcastError('MODEL_NOT_READY', 'no active returns model: run `shipcast train returns` first');
      const rows = await queryReturnsFeatures(deps.warehouse, { kind: 'orders', orderIds, now });
      if (rows.length === 0) return out;
      const scored = scoreReturnRows(b, rows);
      rows.forEach((row, i) =>
        out.set(row.order_id, {
          orderId: row.order_id,
          probability: scored[i].probability,
          modelVersion: b.version,
          windowDays: b.windowDays,
          predictedAt: new Date(row.instant),
          delivered: Boolean(row.delivered),
          topFactors: scored[i].factors,
        }),
      );
      return out;
    },
  };
}
