import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initTf } from '../../src/ml/backend.js';
import { silentLogger } from '../../src/log.js';

/** Plain JS product of row-major [m,k]·[k,n]. */
function reference(a: Float32Array, b: Float32Array, m: number, k: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
    out.push(s);
  }
  return out;
}

describe('wasm kernels registered by initTf', () => {
  it('BatchMatMul with transposed inputs gives the product of the transposes, without leaking tensors', async () => {
    expect(await initTf('wasm', silentLogger())).toBe('wasm');
    const [m, k, n] = [37, 19, 11];
    const a = tf.randomNormal([m, k], 0, 1, 'float32', 1);
    const b = tf.randomNormal([k, n], 0, 1, 'float32', 2);
    const want = reference(a.dataSync() as Float32Array, b.dataSync() as Float32Array, m, k, n);
    const aT = tf.transpose(a);
    const bT = tf.transpose(b);
    // Backend buffers, not tensors: the wrapper's transposed temporaries never become tensors.
    const before = tf.backend().numDataIds();
    for (const [x, y, ta, tb] of [[a, b, false, false], [aT, b, true, false], [a, bT, false, true], [aT, bT, true, true]] as const) {
      const r = tf.matMul(x, y, ta, tb);
      const got = Array.from(r.dataSync());
      r.dispose();
      expect(got).toHaveLength(m * n);
      got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-4));
    }
    // Batched (rank 3) inputs transpose their last two axes only.
    const batched = tf.tidy(() => tf.matMul(tf.stack([aT, aT]), tf.stack([b, b]), true, false));
    expect(batched.shape).toEqual([2, m, n]);
    Array.from(batched.dataSync()).forEach((v, i) => expect(Math.abs(v - want[i % (m * n)])).toBeLessThan(1e-4));
    batched.dispose();
    expect(tf.backend().numDataIds()).toBe(before);
    tf.dispose([a, b, aT, bT]);
  });

  it('Concat along any axis and GatherV2 of rows give the plain JS results, and bad indices are refused', async () => {
    await initTf('wasm', silentLogger());
    const a = tf.tensor3d(Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i), [2, 3, 4]);
    const b = tf.tensor3d(Float32Array.from({ length: 2 * 3 * 1 }, (_, i) => 100 + i), [2, 3, 1]);
    const c = tf.tensor3d(Float32Array.from({ length: 2 * 1 * 4 }, (_, i) => 200 + i), [2, 1, 4]);
    const la = a.arraySync();
    const lb = b.arraySync();
    const lc = c.arraySync();
    const last = tf.concat([a, b], 2);
    expect(last.arraySync()).toEqual(la.map((m, i) => m.map((row, j) => [...row, ...lb[i][j]])));
    const middle = tf.concat([a, c], 1);
    expect(middle.arraySync()).toEqual(la.map((m, i) => [...m, ...lc[i]]));
    const ints = tf.concat([tf.tensor2d([[1], [2]], [2, 1], 'int32'), tf.tensor2d([[3, 4], [5, 6]], [2, 2], 'int32')], 1);
    expect(ints.arraySync()).toEqual([[1, 3, 4], [2, 5, 6]]);
    const table = tf.tensor2d(Float32Array.from({ length: 5 * 3 }, (_, i) => i / 2), [5, 3]);
    const rows = tf.gather(table, tf.tensor2d([[4], [0], [4], [2]], [4, 1], 'int32'));
    expect(rows.shape).toEqual([4, 1, 3]);
    const lt = table.arraySync();
    expect(rows.arraySync()).toEqual([4, 0, 4, 2].map((r) => [lt[r]]));
    const bad = tf.tensor1d([1, 5], 'int32');
    const before = tf.backend().numDataIds();
    expect(() => tf.gather(table, bad)).toThrow(/index value 5 is not in \[0, 4\]/);
    expect(tf.backend().numDataIds()).toBe(before);
    tf.dispose([a, b, c, table, bad, last, middle, ints, rows]);
  });
});
