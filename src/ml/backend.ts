/**
 * TensorFlow.js backend selection. Fastest first: `tensorflow` (the optional @tensorflow/tfjs-node
 * native binding), then `wasm` (SIMD, single-threaded under Node), then the pure-JS `cpu`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Logger } from '../log.js';
import { ShipcastError } from '../errors.js';

export type TfBackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export type TfBackendName = 'tensorflow' | 'wasm' | 'cpu';

// The tfjs engine is process-global, so the backend choice is too: remember it once.
let initialized: Promise<TfBackendName> | undefined;

interface WasmBackendLike {
  readSync(dataId: unknown): unknown;
  disposeData(dataId: unknown): void;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Float32Array): tf.TensorInfo;
}

/**
 * The wasm backend has no `UnsortedSegmentSum` kernel, which is the gradient of `gather` and hence
 * of `tf.layers.embedding`. Training only needs it on [rows, dim] gradients, so a plain JS
 * scatter-add is enough (the work is O(batch × dim), tiny next to the dense layers).
 */
function registerWasmSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const b = backend as unknown as WasmBackendLike;
      const x = inputs.x as tf.TensorInfo;
      const segmentIds = inputs.segmentIds as tf.TensorInfo;
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const xs = b.readSync(x.dataId) as Float32Array;
      const ids = b.readSync(segmentIds.dataId) as Int32Array;
      const inner = segmentIds.shape.length === 0 ? xs.length : xs.length / Math.max(1, ids.length);
      const out = new Float32Array(numSegments * inner);
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i];
        if (s < 0 || s >= numSegments) continue;
        const o = s * inner;
        const xo = i * inner;
        for (let j = 0; j < inner; j++) out[o + j] += xs[xo + j];
      }
      return b.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], 'float32', undefined, out);
    },
  });
}

/** Marks our BatchMatMul wrapper, so registering it twice is a no-op. */
const TRANSPOSE_FREE = 'shipcastTransposeFree';

/**
 * The wasm backend's `BatchMatMul` only takes XNNPACK's fast path when neither input is transposed;
 * with `transposeA` or `transposeB` (every dense layer's gradients) it runs a plain loop about 10×
 * slower ([4096×100]ᵀ·[4096×64]: 23 ms against 2.2 ms plus a 2 ms transpose). This wrapper
 * transposes such inputs explicitly first, which roughly halves the cost of a training step.
 */
function registerWasmTransposeFreeMatMul(): void {
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!matMul || !transpose || (matMul as unknown as Record<string, unknown>)[TRANSPOSE_FREE]) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    ...matMul,
    [TRANSPOSE_FREE]: true,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return matMul.kernelFunc({ inputs, backend, attrs });
      const swapLast = (x: tf.TensorInfo) => {
        const perm = x.shape.map((_, i) => i);
        [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
        return transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
      };
      const a = transposeA ? swapLast(inputs.a as tf.TensorInfo) : (inputs.a as tf.TensorInfo);
      const b = transposeB ? swapLast(inputs.b as tf.TensorInfo) : (inputs.b as tf.TensorInfo);
      try {
        return matMul.kernelFunc({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
      } finally {
        const wasm = backend as unknown as WasmBackendLike;
        if (transposeA) wasm.disposeData(a.dataId);
        if (transposeB) wasm.disposeData(b.dataId);
      }
    },
  } as tf.KernelConfig);
}

async function tryTensorflow(): Promise<boolean> {
  try {
    // A string specifier keeps TypeScript from requiring the optional package's typings.
    const name = '@tensorflow/tfjs-node';
    await import(name);
    return tf.findBackend('tensorflow') !== null || tf.engine().registryFactory.tensorflow !== undefined;
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    return true;
  } catch {
    return false;
  }
}

async function select(choice: TfBackendChoice, log: Logger): Promise<TfBackendName> {
  // The cpu backend prints a "use tfjs-node" banner through console.warn on first use; silence it
  // during the switch so logs stay clean.
  const order: TfBackendName[] = choice === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [choice];
  for (const name of order) {
    const available = name === 'tensorflow' ? await tryTensorflow() : name === 'wasm' ? await tryWasm() : true;
    if (!available) continue;
    const warn = console.warn;
    console.warn = () => undefined;
    let ok = false;
    try {
      ok = await tf.setBackend(name);
      await tf.ready();
      // The banner fires on the backend's first tensor write, so make that write happen now.
      if (ok) tf.tidy(() => tf.scalar(0));
    } finally {
      console.warn = warn;
    }
    if (!ok || tf.getBackend() !== name) continue;
    if (name === 'wasm') {
      registerWasmSegmentSum();
      registerWasmTransposeFreeMatMul();
    }
    log.info({ backend: name, requested: choice }, 'tensorflow.js backend selected');
    return name;
  }
  throw new ShipcastError('BAD_CONFIG', `tfBackend: backend "${choice}" is not available`, { field: 'tfBackend' });
}

/**
 * Selects and initializes the TensorFlow.js backend once per process (`config.tfBackend`;
 * `auto` picks the fastest available) and logs the choice once. The tfjs engine is itself
 * process-global, so later calls return the first choice.
 */
export function initTf(choice: TfBackendChoice, log: Logger): Promise<TfBackendName> {
  initialized ??= select(choice, log).catch((e) => {
    initialized = undefined;
    throw e;
  });
  return initialized;
}
