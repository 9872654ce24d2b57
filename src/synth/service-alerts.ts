/**
 * The carrier service alerts of the synthetic world (`service_alerts`, migration 009): one per
 * planted disruption, as a carrier would post it, so models can see a disruption as data, not only
 * through other parcels' delay scans.
 */
import type { Disruption } from './dimensions.js';
import { lit } from './sql-literals.js';

/** A service alert row, in `service_alerts` column order. */
export interface SyntheticAlert {
  alertId: string;
  country: string;
  region: string;
  kind: Disruption['kind'];
  /** Epoch seconds. */
  announcedS: number;
  startsS: number;
  endsS: number;
  expectedDelayDays: number;
  message: string;
}

/**
 * One alert per disruption, published when its affected hand-off window opens: a weather advisory
 * is a forecast posted `lead` days before the event, which is exactly when parcels start being held.
 * The window is the held hand-offs' window; the delay is the planted one rounded to the nearest
 * half day, since carriers only give approximate estimates. Alerts published after `asOfS` do not
 * exist yet at the end of history and are left out.
 */
export function syntheticAlerts(disruptions: readonly Disruption[], asOfS: number): SyntheticAlert[] {
  return disruptions
    .filter((d) => d.fromS <= asOfS)
    .map((d) => {
      const expectedDelayDays = Math.round(d.extraDays * 2) / 2;
      const what = d.kind === 'weather' ? `Severe weather expected in ${d.region}, ${d.country}` : `Customs backlog for ${d.region}, ${d.country}`;
      return {
        alertId: `generator-${d.id}`, country: d.country, region: d.region, kind: d.kind, announcedS: d.fromS, startsS: d.fromS, endsS: d.toS,
        expectedDelayDays, message: `${what}: parcels to ${d.region} may arrive about ${expectedDelayDays} days late.`,
      };
    });
}

/** `INSERT` of the synthetic alerts (every carrier: `carrier` NULL; `source` generator). */
export function serviceAlertsSql(disruptions: readonly Disruption[], asOfS: number): string {
  const rows = syntheticAlerts(disruptions, asOfS).map((a) =>
    `(${lit(a.alertId)}, NULL, ${lit(a.country)}, ${lit(a.region)}, ${lit(a.kind)}, to_timestamp(${a.announcedS}), to_timestamp(${a.startsS}), to_timestamp(${a.endsS}), ${lit(a.expectedDelayDays)}, 'generator', ${lit(a.message)})`,
  );
  return rows.length === 0 ? '' : `INSERT INTO service_alerts VALUES ${rows.join(', ')};`;
}
