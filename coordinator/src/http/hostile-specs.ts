/**
 * Hostile model specs, one table shared by every route that takes a model (job creation, sweep
 * creation, model import): each must be refused with INVALID_MODEL_SPEC before TF.js allocates
 * anything. `raw` replaces the string "__RAW__" in the JSON body by a token JSON.stringify cannot
 * write (1e309 parses to Infinity).
 */
import { MODEL_PRESETS } from '@gridtab/shared';

export interface HostileSpec {
  name: string;
  model: Record<string, unknown>;
  raw?: string;
  /** A piece of the message: the layer or field the refusal names. */
  names: RegExp;
}

type Layer = { class_name: string; config: Record<string, unknown> };
const mlp = () =>
  structuredClone(MODEL_PRESETS['fashion-mlp']) as unknown as {
    class_name: string;
    config: { layers: Layer[] };
  };

/** The MLP preset with its hidden Dense layer's config changed. */
function hidden(change: Record<string, unknown>) {
  const m = mlp();
  Object.assign(m.config.layers[1].config, change);
  return m;
}

const nested = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

export const HOSTILE_SPECS: HostileSpec[] = [
  {
    name: 'dense of 1,000,000 units',
    model: hidden({ units: 1_000_000 }),
    names: /Dense 'hidden'.*parameters/,
  },
  { name: 'dense of 100,000 units (78M parameters)', model: hidden({ units: 100_000 }), names: /parameters/ },
  {
    name: 'embedding of 1e8 rows',
    model: {
      class_name: 'Sequential',
      config: {
        layers: [
          {
            class_name: 'Embedding',
            config: { input_dim: 1e8, output_dim: 64, batch_input_shape: [null, 784] },
          },
          { class_name: 'Flatten', config: {} },
          { class_name: 'Dense', config: { units: 10 } },
        ],
      },
    },
    names: /Embedding.*input_dim/,
  },
  {
    name: 'constant initializer 1e309',
    model: hidden({ kernel_initializer: { class_name: 'Constant', config: { value: '__RAW__' } } }),
    raw: '1e309',
    names: /kernel_initializer\.config\.value: Infinity/,
  },
  {
    name: 'constant initializer 1e38',
    model: hidden({ kernel_initializer: { class_name: 'Constant', config: { value: 1e38 } } }),
    names: /kernel_initializer\.config\.value/,
  },
  { name: 'NaN units', model: hidden({ units: 'NaN' }), names: /units/ },
  { name: 'negative units', model: hidden({ units: -5 }), names: /units/ },
  { name: 'fractional units', model: hidden({ units: 1.5 }), names: /units/ },
  { name: 'empty layers', model: { class_name: 'Sequential', config: { layers: [] } }, names: /empty/ },
  {
    name: 'layers not a list',
    model: { class_name: 'Sequential', config: { layers: 'dense' } },
    names: /layers/,
  },
  {
    name: 'layer without config',
    model: { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense' }] } },
    names: /config is missing/,
  },
  {
    name: 'unknown layer',
    model: {
      ...mlp(),
      config: { layers: [...mlp().config.layers.slice(0, 1), { class_name: 'Lambda', config: {} }] },
    },
    names: /unknown layer class Lambda/,
  },
  { name: 'deeply nested junk', model: hidden({ junk: nested(2000) }), names: /nested deeper/ },
  {
    name: '10,000 layers',
    model: {
      class_name: 'Sequential',
      config: {
        layers: [
          { class_name: 'Flatten', config: { batch_input_shape: [null, 28, 28, 1] } },
          ...Array.from({ length: 10_000 }, () => ({ class_name: 'Dense', config: { units: 10 } })),
        ],
      },
    },
    names: /10001 layers/,
  },
  {
    name: 'huge dropout rate',
    model: {
      ...mlp(),
      config: {
        layers: [
          ...mlp().config.layers.slice(0, 2),
          { class_name: 'Dropout', config: { rate: 5 } },
          mlp().config.layers[2],
        ],
      },
    },
    names: /Dropout.*rate/,
  },
  {
    name: 'kernel of a million',
    model: {
      class_name: 'Sequential',
      config: {
        layers: [
          {
            class_name: 'Conv2D',
            config: { filters: 4, kernel_size: [1e6, 1e6], batch_input_shape: [null, 28, 28, 1] },
          },
          { class_name: 'Flatten', config: {} },
          { class_name: 'Dense', config: { units: 10 } },
        ],
      },
    },
    names: /Conv2D.*kernel_size/,
  },
  {
    name: 'input of 1e9 values',
    model: {
      ...mlp(),
      config: {
        layers: [
          { class_name: 'Flatten', config: { batch_input_shape: [null, 1e5, 1e4] } },
          mlp().config.layers[2],
        ],
      },
    },
    names: /values per sample|input shape/,
  },
];

/** The JSON body with the spec put at `place`, raw tokens written in. */
export function hostileBody(spec: HostileSpec, place: (model: Record<string, unknown>) => unknown): string {
  const text = JSON.stringify(place(spec.model));
  return spec.raw ? text.replace('"__RAW__"', spec.raw) : text;
}
