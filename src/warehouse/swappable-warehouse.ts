/**
 * A warehouse whose underlying connection can be replaced while requests run: an API replica
 * reopens its snapshot file this way. Each call runs on the warehouse that was current when it
 * started; a replaced one is closed once its calls have finished.
 */
import type { Warehouse } from './warehouse.js';

export interface SwappableWarehouse extends Warehouse {
  /** Makes `next` current; resolves once the previous one is drained and closed. */
  swap(next: Warehouse): Promise<void>;
}

export function createSwappableWarehouse(initial: Warehouse): SwappableWarehouse {
  let current = initial;
  const inflight = new Map<Warehouse, { n: number; drained?: () => void }>([[initial, { n: 0 }]]);

  async function use<T>(fn: (wh: Warehouse) => Promise<T>): Promise<T> {
    const wh = current;
    const state = inflight.get(wh)!;
    state.n++;
    try {
      return await fn(wh);
    } finally {
      state.n--;
      if (state.n === 0) state.drained?.();
    }
  }

  return {
    get path() {
      return current.path;
    },
    run: (sql, params) => use((wh) => wh.run(sql, params)),
    all: (sql, params) => use((wh) => wh.all(sql, params)),
    one: (sql, params) => use((wh) => wh.one(sql, params)),
    columns: (sql, params) => use((wh) => wh.columns(sql, params)),
    transaction: (fn) => use((wh) => wh.transaction(fn)),
    append: (table, rows) => use((wh) => wh.append(table, rows)),
    checkpoint: (whileFolded) => use((wh) => wh.checkpoint(whileFolded)),
    progress: () => current.progress(),
    async swap(next) {
      const old = current;
      if (next === old) return;
      inflight.set(next, { n: 0 });
      current = next;
      const state = inflight.get(old)!;
      if (state.n > 0) await new Promise<void>((resolve) => (state.drained = resolve));
      inflight.delete(old);
      await old.close();
    },
    async close() {
      await current.close();
    },
  };
}
