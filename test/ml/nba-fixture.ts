import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { generateSample } from '../../src/synth/generate.js';

/** The synthetic history the NBA tests share: small, fixed seed and end. */
export const NBA_AS_OF = new Date('2026-11-27T12:00:00Z');

/** A fresh in-memory warehouse with a generated history of `shipments` shipments. */
export async function nbaWarehouse(shipments = 20_000, seed = 7): Promise<Warehouse> {
  const wh = await openWarehouse(':memory:');
  await generateSample(wh, { seed, shipments, asOf: NBA_AS_OF });
  return wh;
}
