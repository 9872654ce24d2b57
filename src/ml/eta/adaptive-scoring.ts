/**
 * The warehouse side of the online (adaptive conformal) updates: scores every shipment purchased
 * since the model's training cutoff at its purchase, and replays their outcomes
 * (adaptive-calibration.ts). Batch scoring and backtests use the replayed windows; serving uses the
 * levels reached by `now`.
 */
import type { SqlRunner } from '../../warehouse/warehouse.js';
import { queryEtaFeatureFrame } from '../../features/eta/eta-frame.js';
import { encodeFrame } from '../../features/eta/encode-columns.js';
import { predictDays } from './model.js';
import { adjustmentAt, replayAdaptive, type AciLevels, type AciStreamRow } from './adaptive-calibration.js';
import type { TailAdjustment } from './calibration.js';
import type { EtaBundle } from './bundle.js';

/** Columns the stream never reads. */
const STREAM_UNUSED_COLUMNS = ['promised_at', 'as_of', 'event_id', 'event_source', 'total_days'];

export interface AdaptiveReplay {
  /** Calibrated at-purchase window per shipment in the stream, days since purchase. */
  windows: Map<string, [number, number, number]>;
  /** Levels after every outcome known at the end of the stream (or at `until`). */
  levels: AciLevels;
  /** The at-purchase adjustment those levels give. */
  adjustment: TailAdjustment;
  /** Shipments replayed. */
  n: number;
}

/**
 * Replays the stream of `bundle` (undefined when the model has no online updates): every delivered
 * or open shipment purchased from the training cutoff until `until` (exclusive), limited to
 * `orderIds` when given (one Olist extract).
 */
export async function replayStream(
  db: SqlRunner,
  bundle: Pick<EtaBundle, 'model' | 'spec' | 'calibration'>,
  opts: { until?: Date; orderIds?: readonly string[] } = {},
): Promise<AdaptiveReplay | undefined> {
  const a = bundle.calibration.adaptive;
  if (!a) return undefined;
  const since = new Date(a.since);
  const frame = await queryEtaFeatureFrame(
    db,
    { kind: 'purchase', from: since, until: opts.until, openOrDelivered: true, orderIds: opts.orderIds },
    STREAM_UNUSED_COLUMNS,
  );
  const rows: AciStreamRow[] = [];
  const ids = frame.text('shipment_id');
  if (frame.n > 0) {
    const raw = predictDays(bundle.model, encodeFrame(frame, bundle.spec), bundle.spec);
    const [purchased, delivered] = [frame.number('purchased_at'), frame.number('delivered_at')];
    for (let i = 0; i < frame.n; i++) {
      rows.push({ purchasedAt: purchased[i], deliveredAt: delivered[i], p10: raw[i * 3], p50: raw[i * 3 + 1], p90: raw[i * 3 + 2] });
    }
  }
  const { windows, levels } = replayAdaptive(a, bundle.calibration.coverage, rows, opts.until?.getTime() ?? Infinity);
  const byId = new Map<string, [number, number, number]>();
  ids.forEach((id, i) => {
    if (id !== null) byId.set(id, [windows[i * 3], windows[i * 3 + 1], windows[i * 3 + 2]]);
  });
  return { windows: byId, levels, adjustment: adjustmentAt(a, levels), n: rows.length };
}
