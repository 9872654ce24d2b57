/**
 * Serving: the `EtaPredictor` backed by the registry's active ETA model. One `predict` call builds
 * features for all requested shipments in one query and runs one batched model call.
 */
import type { EtaPrediction, EtaPredictor } from '../../domain/eta.js';
import type { Warehouse } from '../../warehouse/warehouse.js';
import type { Logger } from '../../log.js';
import { queryEtaFeatures, type RawEtaRow } from '../../features/eta/feature-sql.js';
import { frameFromRows, type EtaFrame } from '../../features/eta/eta-frame.js';
import { encodeFrame } from '../../features/eta/encode-columns.js';
import { predictDays } from './model.js';
import { applyCalibration, type TailAdjustment } from './calibration.js';
import { replayStream } from './adaptive-scoring.js';
import { loadEtaBundle, type EtaBundle } from './bundle.js';
import { createFileModelStore } from '../registry/file-model-store.js';
import { initTf, type TfBackendChoice } from '../backend.js';
import { ShipcastError } from '../../errors.js';
import { conditionOnUndelivered } from './survival.js';

const DAY_MS = 86_400_000;

/** Feature-query columns batch scoring (`predict eta`) never reads; not fetching them saves their decoding. */
export const BATCH_SCORING_UNUSED_COLUMNS = ['promised_at', 'delivered_at', 'as_of', 'event_id', 'event_source', 'total_days'];

/**
 * Scored examples: calibrated P10/P50/P90 in days since purchase, row-major [n,3]. `atPurchase`
 * replaces the saved at-purchase adjustment (serving passes the online-updated one).
 */
export function scoreFrame(bundle: EtaBundle, frame: EtaFrame, atPurchase?: TailAdjustment): Float32Array {
  const enc = encodeFrame(frame, bundle.spec);
  const pred = predictDays(bundle.model, enc, bundle.spec);
  const calibration = atPurchase ? { ...bundle.calibration, atPurchase } : bundle.calibration;
  applyCalibration(pred, enc.elapsed, frame.text('stage').map((s) => s ?? ''), calibration);
  return pred;
}

/** `scoreFrame` for row objects (serving, where rows are few and needed whole). */
export function scoreRows(bundle: EtaBundle, rows: readonly RawEtaRow[], atPurchase?: TailAdjustment): Float32Array {
  return scoreFrame(bundle, frameFromRows(rows), atPurchase);
}

/** How long serving reuses a replay of the online updates before replaying the newer outcomes. */
export const ADAPTIVE_REFRESH_MS = 3_600_000;

/** Turns a scored row into the domain prediction. */
export function toPrediction(row: RawEtaRow, days: ArrayLike<number>, offset: number, bundle: EtaBundle, predictedAt: Date): EtaPrediction {
  const at = (d: number) => row.purchased_at.getTime() + d * DAY_MS;
  // The shipment is still open at predictedAt, so the window is conditioned on "not delivered yet".
  const [p10, p50, p90] = conditionOnUndelivered([at(days[offset]), at(days[offset + 1]), at(days[offset + 2])], predictedAt.getTime());
  const p: EtaPrediction = {
    shipmentId: row.shipment_id,
    p10: new Date(p10),
    p50: new Date(p50),
    p90: new Date(p90),
    confidence: bundle.calibration.coverage,
    modelVersion: bundle.version,
    basis: row.stage === 'none' ? 'AT_PURCHASE' : 'IN_FLIGHT',
    predictedAt,
  };
  if (row.stage !== 'none' && row.event_id) {
    p.latestEvent = { eventId: row.event_id, source: row.event_source ?? '', status: row.stage, occurredAt: row.as_of };
  }
  return p;
}

/**
 * Creates the predictor and loads the active model if there is one. Without an active model,
 * `activeVersion()` is undefined and `predict` throws MODEL_NOT_READY until `reload()` finds one.
 */
export async function createEtaPredictor(deps: { warehouse: Warehouse; modelsDir: string; log: Logger; tfBackend?: TfBackendChoice }): Promise<EtaPredictor> {
  await initTf(deps.tfBackend ?? 'auto', deps.log);
  const store = createFileModelStore(deps.modelsDir);
  let bundle: EtaBundle | undefined;
  // The online-updated at-purchase adjustment, per model version and hour of `now`.
  let adaptive: { version: string; bucket: number; adjustment: Promise<TailAdjustment | undefined> } | undefined;

  function atPurchaseAdjustment(b: EtaBundle, now: Date): Promise<TailAdjustment | undefined> {
    if (!b.calibration.adaptive) return Promise.resolve(undefined);
    const bucket = Math.floor(now.getTime() / ADAPTIVE_REFRESH_MS);
    if (adaptive?.version !== b.version || adaptive.bucket !== bucket) {
      // Outcomes known at the first request of the hour; later requests in that hour reuse them.
      const adjustment = replayStream(deps.warehouse, b, { until: now }).then((r) => r?.adjustment);
      // A failed replay is not cached: the next request tries again.
      adjustment.catch(() => {
        if (adaptive?.adjustment === adjustment) adaptive = undefined;
      });
      adaptive = { version: b.version, bucket, adjustment };
    }
    return adaptive.adjustment;
  }

  async function reload(): Promise<void> {
    // The replay reads outcomes from the warehouse, which a replica may just have reopened on newer data.
    adaptive = undefined;
    const version = await store.activeVersion('eta');
    if (!version) {
      bundle?.model.dispose();
      bundle = undefined;
      return;
    }
    if (bundle?.version === version) return;
    const next = await loadEtaBundle(store, version);
    bundle?.model.dispose();
    bundle = next;
    deps.log.info({ version }, 'ETA model loaded');
  }
  await reload();

  return {
    activeVersion: () => bundle?.version,
    reload,
    async predict(shipmentIds, now = new Date()) {
      const out = new Map<string, EtaPrediction>();
      if (shipmentIds.length === 0) return out;
      const b = bundle;
      if (!b) throw new ShipcastError('MODEL_NOT_READY', 'no active ETA model: run `shipcast train eta` first');
      const rows = await queryEtaFeatures(deps.warehouse, { kind: 'current', shipmentIds, now });
      if (rows.length === 0) return out;
      const days = scoreRows(b, rows, rows.some((r) => r.stage === 'none') ? await atPurchaseAdjustment(b, now) : undefined);
      rows.forEach((r, i) => out.set(r.shipment_id, toPrediction(r, days, i * 3, b, now)));
      return out;
    },
  };
}
