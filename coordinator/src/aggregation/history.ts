/**
 * The aggregation history a rule may read (AggregationContext), rebuilt from stored versions
 * rather than kept in memory: the previous step is the base version's weights minus its
 * parent's, both already in the BlobStore. A coordinator restarted mid-job therefore hands the
 * rule the same context it would have had.
 */
import { bytesToFloat32 } from '@gridtab/shared/tf';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Store } from '../storage/store.ts';
import type { AggregationContext } from './aggregator.ts';

export async function aggregationContext(
  store: Pick<Store, 'getVersion'>,
  blobs: Pick<BlobStore, 'get'>,
  baseVersionId: string,
): Promise<AggregationContext> {
  const base = await store.getVersion(baseVersionId);
  const parent = base?.parentId ? await store.getVersion(base.parentId) : null;
  if (!base || !parent) return {};
  const [b, p] = await Promise.all([blobs.get(base.hash), blobs.get(parent.hash)]);
  if (!b || !p || b.byteLength !== p.byteLength) return {};
  const bw = bytesToFloat32(b);
  const pw = bytesToFloat32(p);
  const previousStep = new Float32Array(bw.length);
  for (let i = 0; i < bw.length; i++) previousStep[i] = bw[i] - pw[i];
  return { previousStep };
}
