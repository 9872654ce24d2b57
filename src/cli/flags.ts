/** Parsing of the flags several commands share, and the subcommand groups they add to. */
import type { Command } from 'commander';
import { ValidationError } from '../errors.js';
import type { CommandContext } from './runtime.js';

/** Subcommand group `name` (`train`, `eval`, …), reused if another capability created it first. */
export function group(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

/** A non-negative integer flag; BAD_INPUT naming the flag otherwise. */
export function parseIntFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ValidationError(flag, `expected a non-negative integer, got "${v}"`);
  return n;
}

/** A `YYYY-MM-DD` flag, returned as given; BAD_INPUT naming the flag otherwise. */
export function parseDay(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw new ValidationError(flag, `expected YYYY-MM-DD, got "${v}"`);
  return v;
}

/**
 * Midnight of `day` in the data's own time zone (`--tz`, else the customers' most common zone,
 * else UTC): Olist days are São Paulo days, so `--until 2018-06-01` means 03:00 UTC.
 */
export async function dayStart(ctx: CommandContext, day: string | undefined, tz: string | undefined, orderIds?: readonly string[]): Promise<Date | undefined> {
  if (day === undefined) return undefined;
  // With --olist, the extract's own customers decide (the warehouse may also hold other data).
  const zone =
    tz ??
    (orderIds
      ? await ctx.warehouse.one<{ z: string }>(
          `SELECT c.time_zone AS z FROM orders o JOIN customers c USING (customer_id)
           WHERE o.order_id IN (SELECT unnest(from_json($1, '["VARCHAR"]'))) GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
          [JSON.stringify(orderIds)],
        )
      : await ctx.warehouse.one<{ z: string }>('SELECT time_zone AS z FROM customers GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1'))?.z ??
    'UTC';
  try {
    const r = await ctx.warehouse.one<{ t: Date }>('SELECT timezone($1, CAST($2 AS TIMESTAMP)) AS t', [zone, day]);
    return new Date(r!.t);
  } catch (e) {
    throw new ValidationError('tz', `unknown time zone "${zone}"`, { cause: String(e) });
  }
}
