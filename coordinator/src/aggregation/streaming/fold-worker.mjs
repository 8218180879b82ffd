/**
 * An aggregation worker (see pool.ts). Replies { seq, result } or { seq, error } to every
 * message, in the order received. Numbers are byte offsets into the shared buffers the messages
 * carry; the arithmetic matches the batch rules in ../ expression for expression, so the
 * streaming results are bit-identical to them (see streaming.case.ts).
 */
import { parentPort } from 'node:worker_threads';

/** A mean ring's control fields (mean.ts). */
const HEAD = 0;
const TAIL = 1;
const PARKED = 2;
const WANT = 3;
/** How long an empty ring is waited on before parking (ms): long enough to bridge the loop's gaps between updates, short enough not to hold other rounds' messages. */
const LINGER_MS = 1;

/** Mean accumulators attached to this worker: id -> { buffer, folds }. */
const attached = new Map();

const ops = {
  attach({ id, memory, module }) {
    const { exports } = new WebAssembly.Instance(module, { env: { memory } });
    const folds = [];
    for (let k = 1; exports[`fold${k}`]; k++) folds.push(exports[`fold${k}`]);
    attached.set(id, { buffer: memory.buffer, folds });
  },
  detach({ id }) {
    attached.delete(id);
  },
  /**
   * Drains this worker's ring of the mean accumulator `id` (mean.ts): folds the pieces the event
   * loop published, in order, acc[i] += weight * piece[i]; consecutive pieces over the same
   * coordinates go through one wasm call (the sum read and written once for up to 8). When the
   * ring is empty it waits LINGER_MS for more, then parks (PARKED = 1) and returns to the
   * message loop; the event loop's next piece wakes it with another `fold` message.
   */
  fold({ id, control, meta: metaAt, ring, slots, piece }) {
    const { buffer, folds } = attached.get(id);
    const ctl = new Int32Array(buffer, control, 4);
    const meta = new Float64Array(buffer, metaAt, slots * 3);
    let t = Atomics.load(ctl, TAIL);
    for (;;) {
      const h = Atomics.load(ctl, HEAD);
      if (t === h) {
        if (Atomics.wait(ctl, HEAD, h, LINGER_MS) !== 'timed-out') continue;
        Atomics.store(ctl, PARKED, 1);
        // Published meanwhile: take the wake back, unless the loop already claimed it (its
        // message is then on the way, and this call returns to receive it).
        if (Atomics.load(ctl, HEAD) === h || Atomics.compareExchange(ctl, PARKED, 1, 0) !== 1) return;
        continue;
      }
      const first = (t % slots) * 3;
      const acc = meta[first];
      const count = meta[first + 1];
      let k = 1;
      while (k < folds.length && t + k < h) {
        const m = ((t + k) % slots) * 3;
        if (meta[m] !== acc || meta[m + 1] !== count) break;
        k++;
      }
      const simd = count & ~7;
      const at = (j) => ring + ((t + j) % slots) * piece * 4;
      if (simd > 0) {
        const args = [acc, simd];
        for (let j = 0; j < k; j++) args.push(at(j), meta[((t + j) % slots) * 3 + 2]);
        folds[k - 1](...args);
      }
      if (simd < count) {
        const a = new Float64Array(buffer, acc, count);
        for (let j = 0; j < k; j++) {
          const d = new Float32Array(buffer, at(j), count);
          const w = meta[((t + j) % slots) * 3 + 2];
          for (let i = simd; i < count; i++) a[i] += w * d[i];
        }
      }
      t += k;
      Atomics.store(ctl, TAIL, t);
      if (t >= Atomics.load(ctl, WANT)) Atomics.notify(ctl, TAIL);
    }
  },
  /** In place: out[i] = base[i] + acc[i] / total, as fedavg.ts writes it. */
  meanFinish({ id, acc, base, count, total }) {
    const { buffer } = attached.get(id);
    const a = new Float64Array(buffer, acc, count);
    const b = new Float32Array(buffer, base, count);
    for (let i = 0; i < count; i++) b[i] = b[i] + a[i] / total;
  },
};

/** Fills `col` with block-local coordinate `c` of every row, in fold order (see spill.ts). */
function gather({ c0, W, n, segments }, view, c, col) {
  const k = Math.floor(c / W);
  const j = c - k * W;
  const wk = Math.min(W, n - c0 - k * W);
  let u = 0;
  for (let s = 0; s < segments.length; s += 2) {
    const rows = segments[s];
    const at = segments[s + 1] + k * rows * W + j;
    for (let r = 0; r < rows; r++) col[u++] = view[at + r * wk];
  }
}

const rowsOf = ({ segments }) => {
  let rows = 0;
  for (let s = 0; s < segments.length; s += 2) rows += segments[s];
  return rows;
};

/** As median() in ../coordinate-wise.ts. */
function median(sorted) {
  const n = sorted.length;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** As TrimmedMean's reduce in ../trimmed-mean.ts. */
function trimmed(sorted, cut) {
  let sum = 0;
  for (let i = cut; i < sorted.length - cut; i++) sum += sorted[i];
  return sum / (sorted.length - 2 * cut);
}

Object.assign(ops, {
  /** Coordinate-wise rule on block coordinates [from, to): out[i] = out[i] (the base) + reduce. */
  columns({ block, from, to, out, rule, cut }) {
    const view = new Float32Array(block.data);
    const result = new Float32Array(out);
    const col = new Float64Array(rowsOf(block));
    for (let c = from; c < to; c++) {
      gather(block, view, c, col);
      col.sort();
      const i = block.c0 + c;
      result[i] = result[i] + (rule === 'median' ? median(col) : trimmed(col, cut));
    }
  },
  /** Centered clipping's first-round start: center[i] = float32(0 + median), as Median gives it. */
  clipMedian({ block, from, to, center }) {
    const view = new Float32Array(block.data);
    const v = new Float64Array(center);
    const col = new Float64Array(rowsOf(block));
    for (let c = from; c < to; c++) {
      gather(block, view, c, col);
      col.sort();
      v[block.c0 + c] = Math.fround(0 + median(col));
    }
  },
  /** sumsq[u] += (x - center)^2 over the block, for rows [u0, u1), coordinates ascending. */
  clipDistance({ block, u0, u1, center, sumsq }) {
    const { c0, W, n, width, segments } = block;
    const view = new Float32Array(block.data);
    const v = new Float64Array(center);
    const sums = new Float64Array(sumsq);
    let first = 0;
    for (let s = 0; s < segments.length; s += 2) {
      const rows = segments[s];
      for (let r = Math.max(0, u0 - first); r < rows && first + r < u1; r++) {
        let sum = sums[first + r];
        for (let k = 0; k * W < width; k++) {
          const wk = Math.min(W, n - c0 - k * W);
          const at = segments[s + 1] + k * rows * W + r * wk;
          const g = c0 + k * W;
          for (let j = 0; j < wk; j++) sum += (view[at + j] - v[g + j]) ** 2;
        }
        sums[first + r] = sum;
      }
      first += rows;
    }
  },
  /** One centered-clipping step on block coordinates [from, to): center += mean(scale * (x - center)). */
  clipStep({ block, from, to, center, scales }) {
    const view = new Float32Array(block.data);
    const v = new Float64Array(center);
    const scale = new Float64Array(scales);
    const col = new Float64Array(rowsOf(block));
    for (let c = from; c < to; c++) {
      gather(block, view, c, col);
      const i = block.c0 + c;
      let step = 0;
      for (let u = 0; u < col.length; u++) step += scale[u] * (col[u] - v[i]);
      v[i] += step / col.length;
    }
  },
  /** out[i] = out[i] (the base) + center[i], for i in [from, to). */
  addCenter({ out, center, from, to }) {
    const result = new Float32Array(out);
    const v = new Float64Array(center);
    for (let i = from; i < to; i++) result[i] = result[i] + v[i];
  },
});

parentPort.on('message', (message) => {
  try {
    const result = ops[message.op](message);
    parentPort.postMessage({ seq: message.seq, result });
  } catch (e) {
    parentPort.postMessage({ seq: message.seq, error: String(e?.stack ?? e) });
  }
});
