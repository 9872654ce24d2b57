/**
 * The ETA contract shared by the model (ml/eta), the API (graphql) and email. A prediction is a
 * delivery window: P10/P50/P90 instants, plus how it was made.
 */
export type EtaBasis = 'AT_PURCHASE' | 'IN_FLIGHT';

export interface EtaPrediction {
  shipmentId: string;
  p10: Date;
  p50: Date;
  p90: Date;
  /** Nominal coverage of the P10–P90 window after calibration (e.g. 0.8). */
  confidence: number;
  modelVersion: string;
  basis: EtaBasis;
  /** The tracking event the in-flight prediction was conditioned on. */
  latestEvent?: { eventId: string; source: string; status: string; occurredAt: Date };
  predictedAt: Date;
}

/**
 * Predicts delivery windows with the active model. Implementations batch: one call for many
 * shipments is one model invocation. Delivered or unknown shipments are absent from the result.
 */
export interface EtaPredictor {
  predict(shipmentIds: readonly string[], now?: Date): Promise<Map<string, EtaPrediction>>;
  /** Version of the model currently used, or undefined when none is active. */
  activeVersion(): string | undefined;
  /** Re-reads the registry's active pointer (after training or activation). */
  reload(): Promise<void>;
}
