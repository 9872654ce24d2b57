/** Read/activate side of the model registry, as the API and the serving path need it. */
export type ModelKind = 'eta' | 'returns' | 'nba';

export interface ModelInfo {
  kind: ModelKind;
  version: string;
  createdAt: Date;
  /** Evaluation figures recorded at training time (MAE, coverage, …). */
  metrics: Record<string, unknown>;
  /** Fingerprint of the training data (hash of the rows used). */
  dataFingerprint: string;
  active: boolean;
}

export interface ModelStore {
  list(kind?: ModelKind): Promise<ModelInfo[]>;
  get(kind: ModelKind, version: string): Promise<ModelInfo | undefined>;
  /** The active version of `kind`, if any. */
  activeVersion(kind: ModelKind): Promise<string | undefined>;
  /** Points `active` at `version`; throws NOT_FOUND if it does not exist. */
  activate(kind: ModelKind, version: string): Promise<void>;
}
