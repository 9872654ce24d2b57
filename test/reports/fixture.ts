import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { generateSample } from '../../src/synth/generate.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';

/** The instant the sample history ends; reports are judged as of it. */
export const AS_OF = new Date('2026-06-01T00:00:00Z');

/** A generated sample in `:memory:` (about 3 s for 3,000 shipments). */
export async function sampleWarehouse(shipments = 3000, path = ':memory:'): Promise<Warehouse> {
  const wh = await openWarehouse(path);
  await generateSample(wh, { seed: 11, shipments, asOf: AS_OF });
  return wh;
}
