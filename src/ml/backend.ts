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
  /** A view of a tensor's data on the wasm heap (invalidated when the heap grows, so take it after allocating). */
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
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

/** Marks the kernels registered here, so registering them twice is a no-op. */
const REPLACED = 'shipcastReplaced';

/**
 * The wasm backend's `BatchMatMul` only takes XNNPACK's fast path when neither input is transposed;
 * with `transposeA` or `transposeB` (every dense layer's gradients) it runs a plain loop about 10×
 * slower ([4096×100]ᵀ·[4096×64]: 23 ms against 2.2 ms plus a 2 ms transpose). This wrapper
 * transposes such inputs explicitly first, which roughly halves the cost of a training step.
 */
function registerWasmTransposeFreeMatMul(): void {
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!matMul || !transpose || (matMul as unknown as Record<string, unknown>)[REPLACED]) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    ...matMul,
    [REPLACED]: true,
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

type HeapArray = Float32Array | Int32Array | Uint8Array;

/** Copies `outer` blocks of `width` elements from `src` into rows of `stride` elements of `dst`, at column `start`. */
function copyBlocks(dst: HeapArray, src: HeapArray, outer: number, width: number, stride: number, start: number): void {
  for (let r = 0; r < outer; r++) {
    const o = r * stride + start;
    const s0 = r * width;
    for (let k = 0; k < width; k++) dst[o + k] = src[s0 + k];
  }
}

/** Copies row `idx[i]` (of `width` elements) of `src` to row i of `dst`. */
function gatherRows(dst: HeapArray, src: HeapArray, idx: Int32Array, width: number): void {
  for (let i = 0; i < idx.length; i++) {
    const s0 = idx[i] * width;
    const o = i * width;
    for (let k = 0; k < width; k++) dst[o + k] = src[s0 + k];
  }
}

/**
 * Replaces two wasm kernels whose JS loops dominate the ETA model's forward pass: `Concat` along
 * an inner axis (a `subarray` + `set` per row and input) and `GatherV2` (a closure and an assert
 * per index), each as slow as the dense layers themselves on 16k-row batches. The replacements
 * copy with plain loops; other cases (strings, batched or non-leading-axis gathers) keep the
 * original kernels.
 */
function registerWasmCopyKernels(): void {
  const concat = tf.getKernel('Concat', 'wasm');
  const gather = tf.getKernel('GatherV2', 'wasm');
  if (!concat || !gather || (concat as unknown as Record<string, unknown>)[REPLACED]) return;
  tf.unregisterKernel('Concat', 'wasm');
  tf.registerKernel({
    ...concat,
    [REPLACED]: true,
    kernelFunc: (args) => {
      const inputs = (args.inputs as unknown as tf.TensorInfo[]).filter((t) => t.shape.every((d) => d > 0));
      const rank = (args.inputs as unknown as tf.TensorInfo[])[0].shape.length;
      const axisAttr = (args.attrs as { axis: number | number[] }).axis;
      const axis = ((Array.isArray(axisAttr) ? axisAttr[0] : axisAttr) + rank) % rank;
      if (inputs.length < 2 || inputs.some((t) => t.dtype !== inputs[0].dtype || t.dtype === 'string')) return concat.kernelFunc(args);
      const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
      const outShape = [...inputs[0].shape];
      outShape[axis] = inputs.reduce((sum, t) => sum + t.shape[axis], 0);
      const backend = args.backend as unknown as WasmBackendLike & { makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo };
      const out = backend.makeOutput(outShape, inputs[0].dtype);
      const outer = size(inputs[0].shape.slice(0, axis));
      const inner = inputs.map((t) => size(t.shape.slice(axis)));
      const total = inner.reduce((a, b) => a + b, 0);
      const dst = backend.typedArrayFromHeap(out);
      let start = 0;
      inputs.forEach((t, i) => {
        copyBlocks(dst, backend.typedArrayFromHeap(t), outer, inner[i], total, start);
        start += inner[i];
      });
      return out;
    },
  } as tf.KernelConfig);
  tf.unregisterKernel('GatherV2', 'wasm');
  tf.registerKernel({
    ...gather,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const indices = args.inputs.indices as tf.TensorInfo;
      const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
      if (axis !== 0 || batchDims || x.dtype === 'string' || indices.dtype !== 'int32') return gather.kernelFunc(args);
      const backend = args.backend as unknown as WasmBackendLike & { makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo };
      const rows = x.shape[0];
      const width = x.shape.slice(1).reduce((p, d) => p * d, 1);
      const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
      const idx = backend.typedArrayFromHeap(indices);
      const src = backend.typedArrayFromHeap(x);
      const dst = backend.typedArrayFromHeap(out);
      const bad = idx.findIndex((r) => !(r >= 0 && r < rows));
      if (bad >= 0) {
        backend.disposeData(out.dataId);
        throw new Error(`GatherV2: the index value ${idx[bad]} is not in [0, ${rows - 1}]`);
      }
      gatherRows(dst, src, idx as Int32Array, width);
      return out;
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
      registerWasmCopyKernels();
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
