/**
 * Asynchronous model training behind `trainModel`: each request becomes a row in
 * `model_training_jobs`, and one in-process worker runs them one at a time (training saturates the
 * CPU, so running two at once would only make both slower).
 */
import crypto from 'node:crypto';
import type { Logger } from '../log.js';
import type { ModelKind } from '../domain/models.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { ShipcastError } from '../errors.js';
import type { TrainingJobRecord, TrainingJobStatusValue } from './records.js';

/**
 * Trains a model of `kind` and registers it; resolves to the new version, and `notActivated` (why)
 * when the version was registered but not activated (an NBA policy the off-policy gate refused).
 */
export type TrainFn = (kind: ModelKind) => Promise<{ version: string; notActivated?: string }>;

export interface TrainingJobs {
  /** Queues a run; while one of the same kind is queued or running, returns that one instead. */
  submit(kind: ModelKind, requestedBy?: string): Promise<TrainingJobRecord>;
  get(jobId: string): Promise<TrainingJobRecord | undefined>;
  /** Resolves once every queued job has finished. */
  idle(): Promise<void>;
  /** Refuses new jobs and waits for the queued ones. */
  close(): Promise<void>;
}

interface JobRow {
  job_id: string; kind: string; status: TrainingJobStatusValue; created_at: Date; started_at: Date | null;
  finished_at: Date | null; model_version: string | null; error: string | null;
}

const COLUMNS = 'job_id, kind, status, created_at, started_at, finished_at, model_version, error';

function toRecord(r: JobRow): TrainingJobRecord {
  return { jobId: r.job_id, kind: r.kind, status: r.status, createdAt: r.created_at, startedAt: r.started_at, finishedAt: r.finished_at, modelVersion: r.model_version, error: r.error };
}

/**
 * Opens the job runner. Jobs left queued or running by a previous process can never finish, so
 * they are marked failed first. `onSucceeded` runs after a successful training (e.g. to reload the
 * predictor); a version registered without activation ends the job FAILED with the version and why.
 */
export async function createTrainingJobs(deps: {
  warehouse: Warehouse;
  train: TrainFn;
  log: Logger;
  onSucceeded?: (kind: ModelKind, version: string) => Promise<void>;
  /** An API replica's runner: jobs can be read, none submitted (READ_ONLY_REPLICA), nothing marked at start. */
  readOnly?: boolean;
}): Promise<TrainingJobs> {
  const { warehouse, train, log } = deps;
  if (!deps.readOnly) {
    await warehouse.run(
      `UPDATE model_training_jobs SET status = 'failed', finished_at = current_timestamp, error = 'interrupted: the server stopped before the job finished'
       WHERE status IN ('queued', 'running')`,
    );
  }
  let queue: Promise<void> = Promise.resolve();
  let closed = false;

  const get = async (jobId: string) => {
    const row = await warehouse.one<JobRow>(`SELECT ${COLUMNS} FROM model_training_jobs WHERE job_id = $1`, [jobId]);
    return row ? toRecord(row) : undefined;
  };

  async function runJob(jobId: string, kind: ModelKind): Promise<void> {
    await warehouse.run(`UPDATE model_training_jobs SET status = 'running', started_at = $2 WHERE job_id = $1`, [jobId, new Date()]);
    try {
      const { version, notActivated } = await train(kind);
      if (notActivated !== undefined) {
        // SUCCEEDED means "the new version serves"; a registered but inactive one is reported as such, its version kept.
        const error = `registered ${kind} version ${version} but did not activate it: ${notActivated}`;
        await warehouse.run(`UPDATE model_training_jobs SET status = 'failed', finished_at = $2, model_version = $3, error = $4 WHERE job_id = $1`, [jobId, new Date(), version, error]);
        log.warn({ jobId, kind, version, reason: notActivated }, 'training job registered a version without activating it');
        return;
      }
      await warehouse.run(`UPDATE model_training_jobs SET status = 'succeeded', finished_at = $2, model_version = $3 WHERE job_id = $1`, [jobId, new Date(), version]);
      log.info({ jobId, kind, version }, 'training job succeeded');
      if (deps.onSucceeded) await deps.onSucceeded(kind, version);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log.error({ err: e, jobId, kind }, 'training job failed');
      await warehouse.run(`UPDATE model_training_jobs SET status = 'failed', finished_at = $2, error = $3 WHERE job_id = $1`, [jobId, new Date(), message]);
    }
  }

  return {
    async submit(kind, requestedBy) {
      if (deps.readOnly) throw new ShipcastError('READ_ONLY_REPLICA', 'kind: training runs on the writer; this server is a read-only API replica', { field: 'kind' });
      if (closed) throw new ShipcastError('CONFLICT', 'the server is shutting down; training is not accepting jobs');
      const pending = await warehouse.one<JobRow>(
        `SELECT ${COLUMNS} FROM model_training_jobs WHERE kind = $1 AND status IN ('queued', 'running') ORDER BY created_at LIMIT 1`,
        [kind],
      );
      if (pending) return toRecord(pending);
      const jobId = crypto.randomUUID();
      const createdAt = new Date();
      await warehouse.run(
        `INSERT INTO model_training_jobs (job_id, kind, status, requested_by, created_at) VALUES ($1, $2, 'queued', $3, $4)`,
        [jobId, kind, requestedBy ?? null, createdAt],
      );
      queue = queue.then(() => runJob(jobId, kind));
      return { jobId, kind, status: 'queued', createdAt, startedAt: null, finishedAt: null, modelVersion: null, error: null };
    },
    get,
    idle: () => queue,
    async close() {
      closed = true;
      await queue;
    },
  };
}
