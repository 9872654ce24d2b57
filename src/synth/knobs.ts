/**
 * The realism knobs of the synthetic generator, with their defaults. Every knob is documented in
 * docs/SYNTHETIC.md and recorded in `truth_parameters` for each run.
 */
export interface SynthKnobs {
  /** Days of order history before `asOf`. */
  historyDays: number;
  /** Distinct customers per shipment (repeat buyers make it < 1). */
  customersPerShipment: number;
  /** Probability an order ships from its nearest fulfilment centre (else any of them). */
  nearestOriginProb: number;
  /** Parcels ready after this local hour (or on a non-business day) are handed off the next business day. */
  cutoffHourLocal: number;
  /** Order → ready-to-ship processing time: lognormal median (hours) and log-sd. */
  processingMedianHours: number;
  processingSigma: number;
  /** The planted strongly slow lane and its transit multiplier. */
  slowLane: string;
  slowLaneMult: number;
  /** A second, milder planted lane effect. */
  mildLane: string;
  mildLaneMult: number;
  /** Log-sd of the random multiplier of every other lane. */
  laneSigma: number;
  /** Regional weather disruptions and customs holds per 30 days. */
  weatherEventsPer30Days: number;
  customsHoldsPer30Days: number;
  /** Shipments that are never delivered (exception, then return to sender). */
  returnToSenderRate: number;
  /** Delivered shipments with a cosmetic mid-transit exception scan. */
  exceptionScanRate: number;
  /** Delivered shipments with a failed first delivery attempt (the day before). */
  failedAttemptRate: number;
  /** Tracking events re-sent by the carrier under a new event id. */
  duplicateEventRate: number;
  /** Tracking events that reach shipcast hours late (batch uploads), arriving out of order. */
  lateArrivalRate: number;
  /** Planted invoice errors. */
  wrongAccessorialRate: number;
  duplicateInvoiceRate: number;
  /** Share of late guaranteed shipments billed in full instead of refunded. */
  guaranteedLateBilledFullRate: number;
  /** The logging policy decides for shipments whose risk signal exceeds this. */
  nbaRiskThreshold: number;
  /** Quantile points used to integrate mean and E|Y − median| of each transit distribution. */
  quadraturePoints: number;
}

export const DEFAULT_KNOBS: SynthKnobs = {
  historyDays: 180,
  customersPerShipment: 0.62,
  nearestOriginProb: 0.7,
  cutoffHourLocal: 15,
  processingMedianHours: 12,
  processingSigma: 0.7,
  slowLane: 'CMH>MIA',
  slowLaneMult: 1.8,
  mildLane: 'RNO>SEA',
  mildLaneMult: 1.3,
  laneSigma: 0.07,
  weatherEventsPer30Days: 4,
  customsHoldsPer30Days: 1.5,
  returnToSenderRate: 0.004,
  exceptionScanRate: 0.015,
  failedAttemptRate: 0.05,
  duplicateEventRate: 0.04,
  lateArrivalRate: 0.06,
  wrongAccessorialRate: 0.025,
  duplicateInvoiceRate: 0.012,
  guaranteedLateBilledFullRate: 0.75,
  nbaRiskThreshold: 0.35,
  quadraturePoints: 16,
};
