/**
 * SQL that maps raw Olist CSV columns (read as text) onto shipcast's canonical columns. Pure string
 * builders; the values stay text where the loader's validator should cast and check them, so a bad
 * Olist cell becomes a reject with its reason, not a silent NULL.
 */
import type { SourceColumn } from '../validation-sql.js';

/** Olist never names the carrier that moved a parcel; its shipments are attributed to this constant. */
export const OLIST_CARRIER = 'olist_logistics';
export const OLIST_SERVICE_LEVEL = 'standard';
/** Olist timestamps are wall-clock times in Brazil (the dataset spans São Paulo's DST changes). */
export const OLIST_TIME_ZONE = 'America/Sao_Paulo';
export const OLIST_COUNTRY = 'BR';
export const OLIST_CURRENCY = 'BRL';
export const OLIST_LOCALE = 'pt-BR';
/** Generous box around Brazil; Olist's geolocation file has a few points elsewhere in the world. */
export const BRAZIL_BOUNDS = { latMin: -34.8, latMax: 5.3, lngMin: -74.0, lngMax: -34.7 } as const;

/** A CEP prefix as five digits: pandas-rewritten extracts drop leading zeros and may add `.0`. */
export function zipSql(col: string): string {
  return `lpad(regexp_replace(trim(${col}), '\\.0+$', ''), 5, '0')`;
}

/** A local Olist timestamp as text carrying its zone, so the validator's TIMESTAMPTZ cast converts it to an instant. */
export function localTsSql(col: string): string {
  return `CASE WHEN NULLIF(trim(${col}), '') IS NOT NULL THEN trim(${col}) || ' ${OLIST_TIME_ZONE}' END`;
}

/** A text-valued source column. */
export function text(expr: string): SourceColumn {
  return { expr, type: 'VARCHAR' };
}

/** A source column of a given DuckDB type. */
export function typed(expr: string, type: string): SourceColumn {
  return { expr, type };
}

/** Builds the column map from target column → SourceColumn entries. */
export function columnsOf(entries: Record<string, SourceColumn>): Map<string, SourceColumn> {
  return new Map(Object.entries(entries));
}
