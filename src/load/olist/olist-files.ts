/**
 * The files of an Olist extract (Kaggle `olistbr/brazilian-ecommerce`) and how to find them. An
 * extract may lack any file but the orders; dimension files may come from a second folder.
 */
import fs from 'node:fs';
import path from 'node:path';

export const OLIST_FILES = {
  orders: 'olist_orders_dataset.csv',
  items: 'olist_order_items_dataset.csv',
  reviews: 'olist_order_reviews_dataset.csv',
  customers: 'olist_customers_dataset.csv',
  sellers: 'olist_sellers_dataset.csv',
  products: 'olist_products_dataset.csv',
  payments: 'olist_order_payments_dataset.csv',
  geolocation: 'olist_geolocation_dataset.csv',
  categories: 'product_category_name_translation.csv',
} as const;

export type OlistFileKind = keyof typeof OLIST_FILES;

/** Dimension files that `olist-dimensions-full` (or any `dimensionsDir`) may supply. */
export const DIMENSION_KINDS = ['sellers', 'products', 'categories'] as const satisfies readonly OlistFileKind[];

/** Absolute path of `kind` in `dir`, or null when the extract lacks it. */
export function findOlistFile(dir: string, kind: OlistFileKind): string | null {
  const p = path.resolve(dir, OLIST_FILES[kind]);
  return fs.existsSync(p) ? p : null;
}
