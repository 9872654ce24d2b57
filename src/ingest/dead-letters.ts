/**
 * `shipcast replay dead-letters`: re-runs each pending dead letter through the parser of its
 * source (after a mapping or code fix). What now parses is stored and marked replayed; what still
 * fails keeps its row with the new reason and one more attempt counted.
 */
import type { Warehouse } from '../warehouse/warehouse.js';
import { parseTrackingPayload } from './aggregator-adapters.js';
import type { TrackingEventStore } from './event-store.js';
import { MAILGUN_SOURCE, parseMailgunEvent, storeMailgunEvent } from './mailgun-events.js';

export interface ReplaySummary {
  replayed: number;
  stillFailing: number;
  /** Events the replay stored (duplicates of events already stored are not counted). */
  eventsAccepted: number;
}

interface DeadLetterRow {
  dead_letter_id: number;
  source: string;
  payload: string;
}

type Attempt = { ok: true; accepted: number } | { ok: false; field: string; reason: string };

async function replayOne(wh: Warehouse, store: TrackingEventStore, row: DeadLetterRow, now: Date): Promise<Attempt> {
  let json: unknown;
  try {
    json = JSON.parse(row.payload);
  } catch (e) {
    return { ok: false, field: 'body', reason: `body: not valid JSON (${(e as Error).message})` };
  }
  if (row.source === MAILGUN_SOURCE) {
    const p = parseMailgunEvent(json);
    if (!p.ok) return { ok: false, field: p.rejected.field, reason: p.rejected.reason };
    const stored = await wh.transaction((tx) => storeMailgunEvent(tx, p.event, now));
    return { ok: true, accepted: stored ? 1 : 0 };
  }
  const parsed = parseTrackingPayload(row.source, json);
  if (parsed.kind === 'ignored') return { ok: true, accepted: 0 };
  const bad = parsed.outcomes.find((o) => !o.ok);
  if (bad && !bad.ok) return { ok: false, field: bad.rejected.field, reason: bad.rejected.reason };
  const r = await store.submit(parsed.outcomes.flatMap((o) => (o.ok ? [o.event] : [])));
  return { ok: true, accepted: r.accepted };
}

/** Replays every dead letter not yet replayed (optionally of one source), oldest first. */
export async function replayDeadLetters(wh: Warehouse, store: TrackingEventStore, opts: { source?: string; now?: Date } = {}): Promise<ReplaySummary> {
  const now = opts.now ?? new Date();
  const rows = await wh.all<DeadLetterRow>(
    `SELECT dead_letter_id, source, payload FROM ingest_dead_letters
     WHERE replayed_at IS NULL AND ($1::VARCHAR IS NULL OR source = $1) ORDER BY dead_letter_id`,
    [opts.source ?? null],
  );
  const summary: ReplaySummary = { replayed: 0, stillFailing: 0, eventsAccepted: 0 };
  for (const row of rows) {
    const a = await replayOne(wh, store, row, now);
    if (a.ok) {
      await wh.run('UPDATE ingest_dead_letters SET replayed_at = $2, replay_attempts = replay_attempts + 1 WHERE dead_letter_id = $1', [row.dead_letter_id, now]);
      summary.replayed++;
      summary.eventsAccepted += a.accepted;
    } else {
      await wh.run('UPDATE ingest_dead_letters SET field = $2, reason = $3, replay_attempts = replay_attempts + 1 WHERE dead_letter_id = $1', [row.dead_letter_id, a.field, a.reason]);
      summary.stillFailing++;
    }
  }
  return summary;
}
