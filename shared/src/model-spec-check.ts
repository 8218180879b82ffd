/**
 * Checks a TF.js layers topology before any tensor exists. TF.js allocates every weight while it
 * builds a model, so a spec with a dense layer of a million units or an embedding of 1e8 rows
 * costs seconds and gigabytes before a parameter cap can look at it. Here the parameter count
 * and every layer's output shape come from the layer configs alone, with plain arithmetic; only
 * a spec that passes is handed to TF.js (which still decides whether the layers fit together).
 *
 * Unknown layer classes are refused: a layer we cannot count could hide any cost. Every number
 * anywhere in the spec must be finite and of a sane size, so a Constant initializer of 1e309
 * (Infinity after JSON.parse) or 1e38 never reaches the weights.
 */
import { GridTabError } from './errors.ts';

export interface SpecLimits {
  /** Most parameters (trainable or not) the model may hold. */
  maxParams: number;
  /** Most layers. */
  maxLayers: number;
  /** Most values in one layer's output, per sample: bounds activation memory. */
  maxActivations: number;
}

export const DEFAULT_SPEC_LIMITS: SpecLimits = {
  maxParams: 4_000_000,
  maxLayers: 500,
  maxActivations: 1 << 22,
};

/** Deepest nesting of objects and arrays in a spec; TF.js topologies need about 8. */
const MAX_DEPTH = 24;
/** Most JSON values (numbers, strings, keys...) in a spec. */
const MAX_NODES = 200_000;
/** Any number anywhere: larger is no sane layer size, rate or seed. */
const MAX_ABS_NUMBER = 2 ** 32;
/** Numbers inside initializers, regularizers and constraints (weights are small numbers). */
const MAX_ABS_WEIGHT_PARAM = 1e4;
const MAX_DIM = 1_000_000;
const MAX_KERNEL = 1024;

export interface SpecSummary {
  params: number;
  /** Per-sample input shape (without the batch dimension). */
  inputShape: number[];
  outputShape: number[];
  layers: number;
}

type Shape = number[];
type Cfg = Record<string, unknown>;

const bad = (message: string) => new GridTabError('INVALID_MODEL_SPEC', message);

/** Walks every value: depth, size, finiteness and magnitude. Iterative, so junk cannot overflow the stack. */
function checkValues(spec: unknown): void {
  const stack: { value: unknown; path: string; depth: number; weightParam: boolean }[] = [
    { value: spec, path: 'model', depth: 0, weightParam: false },
  ];
  let nodes = 0;
  while (stack.length) {
    const { value, path, depth, weightParam } = stack.pop()!;
    if (++nodes > MAX_NODES) throw bad(`the spec holds more than ${MAX_NODES} values`);
    if (depth > MAX_DEPTH) throw bad(`${path}: nested deeper than ${MAX_DEPTH} levels`);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw bad(`${path}: ${value} is not a finite number`);
      const seed = path.endsWith('.seed');
      const limit = weightParam && !seed ? MAX_ABS_WEIGHT_PARAM : MAX_ABS_NUMBER;
      if (Math.abs(value) > limit) throw bad(`${path}: ${value} is out of range (|x| <= ${limit})`);
    } else if (typeof value === 'string') {
      if (value.length > 1000) throw bad(`${path}: a string of ${value.length} characters`);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => {
        stack.push({ value: v, path: `${path}[${i}]`, depth: depth + 1, weightParam });
      });
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const w = weightParam || /(initializer|regularizer|constraint)$/.test(k);
        stack.push({ value: v, path: `${path}.${k}`, depth: depth + 1, weightParam: w });
      }
    } else if (typeof value !== 'boolean' && value !== null) {
      throw bad(`${path}: a ${typeof value} is not JSON`);
    }
  }
}

/** A config field in TF.js's snake_case, or camelCase as a hand-written spec may have it. */
function field(cfg: Cfg, snake: string): unknown {
  if (cfg[snake] !== undefined) return cfg[snake];
  return cfg[snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())];
}

function int(where: string, cfg: Cfg, key: string, min: number, max: number, fallback?: number): number {
  const v = field(cfg, key) ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw bad(`${where}: ${key} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

/** kernel_size, strides, pool_size...: one integer or a tuple of `rank` integers. */
function tuple(
  where: string,
  cfg: Cfg,
  key: string,
  rank: number,
  max: number,
  fallback?: number[],
): number[] {
  let v = field(cfg, key) ?? fallback;
  if (typeof v === 'number') v = Array(rank).fill(v);
  if (!Array.isArray(v) || v.length !== rank || v.some((x) => !Number.isInteger(x) || x < 1 || x > max))
    throw bad(`${where}: ${key} must be ${rank} integer(s) in [1, ${max}], got ${JSON.stringify(v)}`);
  return v as number[];
}

function rankOf(where: string, shape: Shape, rank: number): void {
  if (shape.length !== rank)
    throw bad(`${where}: takes inputs of rank ${rank} (without the batch), got ${JSON.stringify(shape)}`);
}

function channelsLast(where: string, cfg: Cfg): void {
  const f = field(cfg, 'data_format');
  if (f !== undefined && f !== null && f !== 'channels_last')
    throw bad(`${where}: data_format ${JSON.stringify(f)} is not supported (channels_last only)`);
}

/** Output length of a windowed axis (convolution or pooling). */
function windowed(
  where: string,
  size: number,
  kernel: number,
  stride: number,
  padding: unknown,
  dilation = 1,
): number {
  const span = (kernel - 1) * dilation + 1;
  if (padding === 'same') return Math.ceil(size / stride);
  if (padding !== 'valid' && padding !== undefined) throw bad(`${where}: padding ${JSON.stringify(padding)}`);
  const out = Math.floor((size - span) / stride) + 1;
  if (out < 1) throw bad(`${where}: a window of ${span} does not fit an axis of ${size}`);
  return out;
}

function useBias(cfg: Cfg): boolean {
  return field(cfg, 'use_bias') !== false;
}

function conv(where: string, cfg: Cfg, input: Shape, rank: 1 | 2, kind: 'plain' | 'depthwise' | 'separable') {
  rankOf(where, input, rank + 1);
  channelsLast(where, cfg);
  const k = tuple(where, cfg, 'kernel_size', rank, MAX_KERNEL);
  const s = tuple(where, cfg, 'strides', rank, MAX_KERNEL, Array(rank).fill(1));
  const d = tuple(where, cfg, 'dilation_rate', rank, MAX_KERNEL, Array(rank).fill(1));
  const c = input[rank];
  const area = k.reduce((a, b) => a * b, 1);
  const spatial = input
    .slice(0, rank)
    .map((n, i) => windowed(where, n, k[i], s[i], field(cfg, 'padding'), d[i]));
  if (kind === 'depthwise') {
    const m = int(where, cfg, 'depth_multiplier', 1, MAX_DIM, 1);
    return { params: area * c * m + (useBias(cfg) ? c * m : 0), shape: [...spatial, c * m] };
  }
  const filters = int(where, cfg, 'filters', 1, MAX_DIM);
  if (kind === 'separable') {
    const m = int(where, cfg, 'depth_multiplier', 1, MAX_DIM, 1);
    return {
      params: area * c * m + c * m * filters + (useBias(cfg) ? filters : 0),
      shape: [...spatial, filters],
    };
  }
  return { params: area * c * filters + (useBias(cfg) ? filters : 0), shape: [...spatial, filters] };
}

function pool(where: string, cfg: Cfg, input: Shape, rank: 1 | 2) {
  rankOf(where, input, rank + 1);
  channelsLast(where, cfg);
  const p = tuple(where, cfg, 'pool_size', rank, MAX_KERNEL, Array(rank).fill(2));
  const stridesSet = field(cfg, 'strides') !== undefined && field(cfg, 'strides') !== null;
  const s = stridesSet ? tuple(where, cfg, 'strides', rank, MAX_KERNEL) : p;
  const spatial = input.slice(0, rank).map((n, i) => windowed(where, n, p[i], s[i], field(cfg, 'padding')));
  return { params: 0, shape: [...spatial, input[rank]] };
}

/** Normalization over the channels: -1, or the last axis counted with the batch, alone or in a list. */
function lastAxis(where: string, cfg: Cfg, input: Shape): void {
  let axis = field(cfg, 'axis') ?? -1;
  if (Array.isArray(axis) && axis.length === 1) axis = axis[0];
  if (axis !== -1 && axis !== input.length)
    throw bad(`${where}: axis ${JSON.stringify(axis)} (the last axis only)`);
}

const last = (s: Shape) => s[s.length - 1];
const size = (s: Shape) => s.reduce((a, b) => a * b, 1);

/** Parameters and output shape of one layer, from its config and its input shape. */
type LayerRule = (where: string, cfg: Cfg, input: Shape) => { params: number; shape: Shape };

const same: LayerRule = (_w, _c, input) => ({ params: 0, shape: input });

const globalPool =
  (rank: 1 | 2): LayerRule =>
  (w, _c, input) => {
    rankOf(w, input, rank + 1);
    return { params: 0, shape: [input[rank]] };
  };

const dropout: LayerRule = (w, cfg, input) => {
  const r = field(cfg, 'rate');
  if (typeof r !== 'number' || !(r >= 0 && r < 1))
    throw bad(`${w}: rate must be in [0, 1), got ${JSON.stringify(r)}`);
  return { params: 0, shape: input };
};

export const LAYER_RULES: Record<string, LayerRule> = {
  InputLayer: same,
  Dense: (w, cfg, input) => {
    if (input.length < 1) throw bad(`${w}: needs an input of rank 1 or more`);
    const units = int(w, cfg, 'units', 1, MAX_DIM);
    return {
      params: last(input) * units + (useBias(cfg) ? units : 0),
      shape: [...input.slice(0, -1), units],
    };
  },
  Conv1D: (w, cfg, input) => conv(w, cfg, input, 1, 'plain'),
  Conv2D: (w, cfg, input) => conv(w, cfg, input, 2, 'plain'),
  DepthwiseConv2D: (w, cfg, input) => conv(w, cfg, input, 2, 'depthwise'),
  SeparableConv2D: (w, cfg, input) => conv(w, cfg, input, 2, 'separable'),
  MaxPooling1D: (w, cfg, input) => pool(w, cfg, input, 1),
  AveragePooling1D: (w, cfg, input) => pool(w, cfg, input, 1),
  MaxPooling2D: (w, cfg, input) => pool(w, cfg, input, 2),
  AveragePooling2D: (w, cfg, input) => pool(w, cfg, input, 2),
  GlobalMaxPooling1D: globalPool(1),
  GlobalAveragePooling1D: globalPool(1),
  GlobalMaxPooling2D: globalPool(2),
  GlobalAveragePooling2D: globalPool(2),
  Flatten: (_w, _c, input) => ({ params: 0, shape: [size(input)] }),
  Dropout: dropout,
  SpatialDropout1D: dropout,
  Activation: same,
  ReLU: same,
  LeakyReLU: same,
  ELU: same,
  Softmax: same,
  BatchNormalization: (w, cfg, input) => {
    lastAxis(w, cfg, input);
    const vectors = 2 + (field(cfg, 'center') === false ? 0 : 1) + (field(cfg, 'scale') === false ? 0 : 1);
    return { params: vectors * last(input), shape: input };
  },
  LayerNormalization: (w, cfg, input) => {
    lastAxis(w, cfg, input);
    const vectors = (field(cfg, 'center') === false ? 0 : 1) + (field(cfg, 'scale') === false ? 0 : 1);
    return { params: vectors * last(input), shape: input };
  },
  Embedding: (w, cfg, input) => {
    const inputDim = int(w, cfg, 'input_dim', 1, MAX_DIM);
    const outputDim = int(w, cfg, 'output_dim', 1, MAX_DIM);
    return { params: inputDim * outputDim, shape: [...input, outputDim] };
  },
  Reshape: (w, cfg, input) => {
    const raw = field(cfg, 'target_shape');
    if (!Array.isArray(raw) || raw.length < 1 || raw.length > 8)
      throw bad(`${w}: target_shape must be a list of 1 to 8 sizes`);
    // TF.js writes the free size (-1) as null.
    const target = raw.map((x) => (x === null ? -1 : x));
    const free = target.filter((x) => x === -1).length;
    if (free > 1 || target.some((x) => x !== -1 && (!Number.isInteger(x) || x < 1)))
      throw bad(`${w}: target_shape ${JSON.stringify(target)} is not a shape`);
    const known = size((target as number[]).filter((x) => x !== -1));
    const total = size(input);
    if (free === 0 ? known !== total : total % known !== 0)
      throw bad(`${w}: target_shape ${JSON.stringify(target)} does not hold ${total} values`);
    return { params: 0, shape: (target as number[]).map((x) => (x === -1 ? total / known : x)) };
  },
};

function inputShapeOf(where: string, cfg: Cfg): Shape | null {
  const batch = field(cfg, 'batch_input_shape') ?? field(cfg, 'batch_shape');
  const plain = field(cfg, 'input_shape');
  let shape: unknown;
  if (Array.isArray(batch)) shape = batch.slice(1);
  else if (Array.isArray(plain)) shape = plain;
  else if (batch !== undefined || plain !== undefined) throw bad(`${where}: the input shape is not a list`);
  else return null;
  const dims = shape as unknown[];
  if (
    dims.length < 1 ||
    dims.length > 8 ||
    dims.some((d) => !Number.isInteger(d) || (d as number) < 1 || (d as number) > MAX_DIM)
  )
    throw bad(`${where}: input shape ${JSON.stringify(shape)} needs 1 to 8 positive integer sizes`);
  return dims as Shape;
}

interface LayerEntry {
  className: string;
  config: Cfg;
  /** Functional models: the name of the one layer feeding this one. */
  inbound: string | null;
}

function layersOf(spec: Cfg, limits: SpecLimits): { layers: LayerEntry[]; functional: boolean } {
  const cfg = spec.config;
  if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg))
    throw bad('model.config is missing or not an object');
  const list = (cfg as Cfg).layers;
  if (!Array.isArray(list)) throw bad('model.config.layers must be a list of layers');
  if (list.length === 0) throw bad('model.config.layers is empty: a model needs at least one layer');
  if (list.length > limits.maxLayers)
    throw bad(`the model has ${list.length} layers; the limit is ${limits.maxLayers}`);
  const functional = spec.class_name !== 'Sequential';
  const layers = list.map((raw, i): LayerEntry => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad(`layer ${i} is not an object`);
    const { class_name: className, config } = raw as Cfg;
    if (typeof className !== 'string') throw bad(`layer ${i}: class_name is missing`);
    if (!config || typeof config !== 'object' || Array.isArray(config))
      throw bad(`layer ${i} (${className}): config is missing`);
    let inbound: string | null = null;
    if (functional && className !== 'InputLayer') {
      const nodes = (raw as Cfg).inbound_nodes;
      const first = Array.isArray(nodes) && nodes.length === 1 && Array.isArray(nodes[0]) ? nodes[0] : null;
      if (first?.length !== 1 || !Array.isArray(first[0]) || typeof first[0][0] !== 'string')
        throw bad(`layer ${i} (${className}): only chains of layers with one input each are accepted`);
      inbound = first[0][0];
    }
    return { className, config: config as Cfg, inbound };
  });
  return { layers, functional };
}

/**
 * Throws INVALID_MODEL_SPEC (naming the layer and field) unless the spec is a chain of known
 * layers of sane sizes within the limits; returns its parameter count and shapes.
 */
export function checkModelSpec(spec: unknown, limits: SpecLimits = DEFAULT_SPEC_LIMITS): SpecSummary {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw bad('the model spec is not an object');
  checkValues(spec);
  const s = spec as Cfg;
  if (!['Sequential', 'Model', 'Functional'].includes(s.class_name as string))
    throw bad(`model.class_name ${JSON.stringify(s.class_name)}: Sequential, Model or Functional`);
  const { layers, functional } = layersOf(s, limits);
  const shapes = new Map<string, Shape>();
  let params = 0;
  let inputShape: Shape | null = null;
  let shape: Shape | null = null;
  layers.forEach((layer, i) => {
    const name = typeof layer.config.name === 'string' ? layer.config.name : `#${i}`;
    const where = `layer ${i} (${layer.className} '${name}')`;
    const rule = LAYER_RULES[layer.className];
    if (!rule)
      throw bad(
        `${where}: unknown layer class ${layer.className}; known: ${Object.keys(LAYER_RULES).join(', ')}`,
      );
    let input: Shape | null = functional
      ? layer.inbound === null
        ? null
        : (shapes.get(layer.inbound) ?? null)
      : shape;
    if (functional && layer.inbound !== null && !input)
      throw bad(`${where}: its input '${layer.inbound}' comes later or does not exist`);
    const declared = inputShapeOf(where, layer.config);
    if (!input) {
      if (!declared) throw bad(`${where}: the first layer needs batch_input_shape (or input_shape)`);
      input = declared;
      inputShape ??= declared;
    }
    const out = rule(where, layer.config, input);
    if (out.shape.some((d) => !Number.isInteger(d) || d < 1))
      throw bad(`${where}: output shape ${JSON.stringify(out.shape)}`);
    if (size(out.shape) > limits.maxActivations)
      throw bad(
        `${where}: outputs ${size(out.shape)} values per sample; the limit is ${limits.maxActivations}`,
      );
    params += out.params;
    if (params > limits.maxParams)
      throw bad(`${where}: the model reaches ${params} parameters here; the limit is ${limits.maxParams}`);
    shapes.set(name, out.shape);
    shape = out.shape;
  });
  if (params === 0) throw bad('the model has no parameters to train');
  return { params, inputShape: inputShape!, outputShape: shape!, layers: layers.length };
}
