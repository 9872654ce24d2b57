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
});
