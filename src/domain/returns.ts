/**
 * The return-propensity contract shared by the model (ml/returns) and the API (graphql): the
 * probability that a return is requested within the label window of the order's delivery, and
 * the inputs that moved it most.
 */

/** One input's signed share of the prediction, in log-odds (positive: raises the risk). */
export interface ReturnFactor {
  /** The feature name, e.g. `category`, `late_days`, `discount_share`. */
  name: string;
  contribution: number;
}

export interface ReturnRisk {
  orderId: string;
  /** Calibrated P(return requested within `windowDays` of delivery). */
  probability: number;
  modelVersion: string;
  windowDays: number;
  /**
   * The prediction instant: the order's delivery when it is delivered by the time of the request,
   * else the time of the request (scored as if delivered then).
   */
  predictedAt: Date;
  delivered: boolean;
  /** The largest contributions by absolute value, largest first. */
  topFactors: ReturnFactor[];
}

/**
 * Scores orders with the active returns model. One call for many orders is one feature query and
 * one model call; unknown orders (or orders without shipments) are absent from the result.
 */
export interface ReturnsPredictor {
  predict(orderIds: readonly string[], now?: Date): Promise<Map<string, ReturnRisk>>;
  /** Version of the model in use, or undefined when none is active. */
  activeVersion(): string | undefined;
  /** Re-reads the registry's active pointer (after training or activation). */
  reload(): Promise<void>;
}
