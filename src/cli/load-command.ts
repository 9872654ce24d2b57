import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { withWarehouse, type CliRuntime } from './runtime.js';
import { ENTITY_NAMES, isEntityName } from '../load/entities.js';
import { loadEntity, type LoadProgress } from '../load/load-entity.js';
import { loadOlist, type OlistProgress } from '../load/olist/load-olist.js';
import { ValidationError } from '../errors.js';

interface LoadOpts {
  db?: string;
  dimensions?: string;
  json?: boolean;
}

function printReasons(rt: CliRuntime, reasons: Record<string, number>): void {
  for (const [reason, count] of Object.entries(reasons)) rt.out(`  rejected ${count.toLocaleString('en-US')} × ${reason}`);
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/**
 * A progress sink: a redrawing bar on a terminal, one line per step otherwise. `note` only
 * relabels the bar (how far the current step is), so logs get no line per poll.
 */
function progressSink(rt: CliRuntime): { update(done: number, total: number, label: string): void; note(label: string): void; stop(): void } {
  if (!rt.interactive) return { update: (done, total, label) => rt.err(`[${done + 1}/${total}] ${label}`), note: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar({ format: '{bar} {value}/{total} {label}', stream: process.stderr }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update(done, total, label) {
      if (!started) bar.start(total, done, { label });
      started = true;
      bar.update(done, { label });
    },
    note(label) {
      if (started) bar.update({ label });
    },
    stop: () => started && bar.stop(),
  };
}

export function registerLoadCommand(program: Command, rt: CliRuntime): void {
  program
    .command('load')
    .description(`load files into a canonical table (${ENTITY_NAMES.join(', ')}), or an Olist extract with "load olist <dir>"`)
    .argument('<entity>', 'canonical table name, or "olist"')
    .argument('[path]', 'file or glob (CSV, Parquet, JSON/NDJSON); for olist the extract folder (default $SHIPCAST_OLIST_DIR)')
    .option('--db <file>', 'DuckDB file (default $SHIPCAST_DB or data/shipcast.duckdb)')
    .option('--dimensions <dir>', 'olist only: folder with complete sellers/products/category files')
    .option('--json', 'print the summary as JSON')
    .action(async (entity: string, target: string | undefined, opts: LoadOpts) => {
      if (entity !== 'olist' && !isEntityName(entity)) {
        throw new ValidationError('entity', `unknown entity ${entity}; expected olist or one of ${ENTITY_NAMES.join(', ')}`);
      }
      if (entity !== 'olist' && !target) throw new ValidationError('path', 'a file or glob is required');
      await withWarehouse(rt, { db: opts.db, olist: entity === 'olist' ? target : undefined }, async ({ warehouse, config }) => {
        const progress = opts.json ? undefined : progressSink(rt);
        try {
          if (entity === 'olist') {
            const s = await loadOlist(warehouse, config.olistDir, {
              dimensionsDir: opts.dimensions,
              onProgress: (p: OlistProgress) => progress?.update(p.stepIndex, p.stepCount, p.step),
            });
            progress?.stop();
            if (opts.json) return rt.out(JSON.stringify(s));
            rt.out(`olist ${s.dir}: read ${fmt(s.read)}, loaded ${fmt(s.loaded)}, rejected ${fmt(s.rejected)}`);
            if (s.missing.length > 0) rt.out(`  absent files (resolved from the warehouse): ${s.missing.join(', ')}`);
            for (const [table, t] of Object.entries(s.tables)) {
              rt.out(`${table}: read ${fmt(t.read)}, loaded ${fmt(t.loaded)} (${fmt(t.inserted)} new, ${fmt(t.updated)} updated), rejected ${fmt(t.rejected)}`);
              printReasons(rt, t.rejectsByReason);
            }
            rt.out(`orders ${fmt(s.orders)}, with a delivered shipment ${fmt(s.deliveredShipments)}, with CSAT ${fmt(s.ordersWithCsat)}`);
            return;
          }
          if (!isEntityName(entity) || !target) return;
          const s = await loadEntity(warehouse, entity, target, {
            onProgress: (p: LoadProgress) => {
              if (p.phase === 'hashing' && !p.percent) progress?.update(p.fileIndex, p.fileCount, p.file);
              else if (p.percent !== undefined) progress?.note(`${p.file} · ${p.phase} ${Math.floor(p.percent)}%`);
            },
          });
          progress?.stop();
          if (opts.json) return rt.out(JSON.stringify(s));
          rt.out(`${entity}: read ${fmt(s.read)}, loaded ${fmt(s.loaded)} (${fmt(s.inserted)} new, ${fmt(s.updated)} updated), rejected ${fmt(s.rejected)} from ${s.files.length} file(s)`);
          printReasons(rt, s.rejectsByReason);
          for (const f of s.skippedAsDuplicateFile ?? []) rt.out(`  skipped ${f}: these exact bytes were loaded before`);
          for (const f of s.perFile) if (f.ignoredColumns.length > 0) rt.out(`  ${f.file}: ignored columns ${f.ignoredColumns.join(', ')}`);
        } finally {
          progress?.stop();
        }
      }, { trackProgress: rt.interactive && !opts.json });
    });
}
