/**
 * From a model name to a ready TF.js model: resolve the alias (the coordinator picks the
 * canary side for this client), fetch the version's model.json, get its weights by content
 * hash from the cache or the coordinator, refuse bytes whose size or sha256 is wrong, and build
 * the model in memory. When the coordinator cannot be reached, the last version this alias gave
 * is loaded from the cache, so a reload works offline.
 */
import { type Normalization, sha256Hex, type TaskSpec } from '@gridtab/shared';
import * as tf from '@tensorflow/tfjs';
import { fromResponse, InferenceError } from './errors.ts';
import type { ModelCache } from './store.ts';

export interface VersionInfo {
  model: string;
  alias: string | null;
  versionId: string;
  hash: string;
  canary: boolean;
}

/** What the registry's model.json carries in userDefinedMetadata.gridtab. */
export interface GridTabMeta {
  model: string;
  versionId: string;
  hash: string;
  weightBytes: number;
  inputShape: (number | null)[];
  labels: string[] | null;
  /**
   * From models trained on a versioned dataset (absent in older exports, whose inputs are used
   * as given and whose outputs are class probabilities): the dataset version `name@version`,
   * its task, the normalization applied to inputs (and undone on regression outputs), and the
   * regression targets' names.
   */
  dataset?: string;
  task?: TaskSpec;
  normalization?: Normalization;
  targetNames?: string[] | null;
}

export interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata: { gridtab: GridTabMeta };
}

export interface LoadContext {
  /** The coordinator asked now. */
  readonly coordinator: string;
  /** With several coordinators: how many there are, and a move to the next one. */
  coordinators?: number;
  nextCoordinator?: () => void;
  cache: ModelCache;
  clientKey: string;
  fetch: typeof fetch;
}

export interface Loaded {
  info: VersionInfo;
  meta: GridTabMeta;
  model: tf.LayersModel;
  /** Whether the weights came from the network (false: from the cache). */
  downloaded: boolean;
}

async function get(ctx: LoadContext, path: string, what: string): Promise<Response> {
  let res: Response | null = null;
  let failure: Error | null = null;
  // A coordinator that cannot be reached: try the others before giving up.
  for (let i = 0; i < (ctx.coordinators ?? 1) && !res; i++) {
    try {
      res = await ctx.fetch(`${ctx.coordinator}${path}`);
    } catch (e) {
      failure = e as Error;
      ctx.nextCoordinator?.();
    }
  }
  if (!res) throw new InferenceError('NETWORK', `${what}: ${failure?.message}`);
  if (!res.ok) throw await fromResponse(res, what);
  return res;
}

const aliasKey = (name: string, alias: string) => `alias:${name}/${alias}`;
const jsonKey = (name: string, versionId: string) => `model.json:${name}/${versionId}`;
const enc = encodeURIComponent;

/** The version an alias gives this client; offline, the one it gave last time. */
export async function resolveAlias(ctx: LoadContext, name: string, alias: string): Promise<VersionInfo> {
  try {
    const res = await get(
      ctx,
      `/api/models/${enc(name)}/aliases/${enc(alias)}?client=${enc(ctx.clientKey)}`,
      `model ${name} alias ${alias}`,
    );
    const body = (await res.json()) as { resolved: { versionId: string; hash: string; canary: boolean } };
    const info = { model: name, alias, ...body.resolved };
    await ctx.cache.putJson(aliasKey(name, alias), info);
    return info;
  } catch (e) {
    const last =
      e instanceof InferenceError && e.code === 'NETWORK'
        ? await ctx.cache.getJson<VersionInfo>(aliasKey(name, alias))
        : null;
    if (last) return last;
    throw e;
  }
}

async function modelJson(ctx: LoadContext, name: string, versionId: string): Promise<ModelJson> {
  const cached = await ctx.cache.getJson<ModelJson>(jsonKey(name, versionId));
  if (cached) return cached; // a version's model.json never changes
  const res = await get(
    ctx,
    `/api/models/${enc(name)}/versions/${enc(versionId)}/model.json`,
    `model ${name} version ${versionId}`,
  );
  const json = (await res.json()) as ModelJson;
  if (!json.userDefinedMetadata?.gridtab?.hash)
    throw new InferenceError('BAD_REQUEST', `model.json of ${versionId} has no GridTab metadata`);
  await ctx.cache.putJson(jsonKey(name, versionId), json);
  return json;
}

/** Weights by content hash: cached bytes were verified when stored; new ones are verified now. */
async function weights(
  ctx: LoadContext,
  meta: GridTabMeta,
): Promise<{ bytes: Uint8Array; downloaded: boolean }> {
  const cached = await ctx.cache.getWeights(meta.hash);
  if (cached) return { bytes: cached, downloaded: false };
  const res = await get(ctx, `/models/weights/${meta.hash}`, `weights of ${meta.versionId}`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new InferenceError('NETWORK', `weights of ${meta.versionId}: ${(e as Error).message}`);
  }
  if (bytes.byteLength !== meta.weightBytes)
    throw new InferenceError(
      'WEIGHTS_MISMATCH',
      `weights of ${meta.versionId} are ${bytes.byteLength} bytes, expected ${meta.weightBytes} (truncated); refused`,
    );
  const actual = await sha256Hex(bytes);
  if (actual !== meta.hash)
    throw new InferenceError(
      'WEIGHTS_MISMATCH',
      `weights of ${meta.versionId} hash to ${actual}, not ${meta.hash} (tampered); refused`,
    );
  await ctx.cache.putWeights(meta.hash, bytes);
  return { bytes, downloaded: true };
}

export async function loadVersion(ctx: LoadContext, info: VersionInfo): Promise<Loaded> {
  const json = await modelJson(ctx, info.model, info.versionId);
  const meta = json.userDefinedMetadata.gridtab;
  if (meta.hash !== info.hash)
    throw new InferenceError(
      'WEIGHTS_MISMATCH',
      `version ${info.versionId} names weights ${meta.hash}, the alias ${info.hash}`,
    );
  const { bytes, downloaded } = await weights(ctx, meta);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: bytes.slice().buffer,
      }),
    );
  } catch (e) {
    throw new InferenceError(
      'INPUT_MISMATCH',
      `version ${info.versionId} does not build: ${(e as Error).message}`,
    );
  }
  return { info, meta, model, downloaded };
}
