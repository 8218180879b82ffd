/**
 * The model registry over its HTTP API (/api/models). The console reads versions, alias
 * histories and lineage with it, and promotes and rolls back with its own token as the bearer:
 * the registry's routes are the one implementation of alias moves, with their role check.
 */
import type { VersionMetrics } from '@gridtab/shared';
import { call } from './token-api.ts';

export interface RegistryVersion {
  id: string;
  hash: string;
  parentId: string | null;
  jobId: string | null;
  createdAt: string;
  metrics: VersionMetrics;
  /** The dataset version it was trained on (absent from coordinators before datasets had versions). */
  dataset?: { name: string; version: number; hash: string } | null;
  /** True when retention pruned its weights: the record and lineage stay, it cannot be loaded or aliased. */
  pruned?: boolean;
}

export interface AliasMove {
  seq: number;
  alias: string;
  versionId: string;
  canary: { versionId: string; fraction: number } | null;
  actor: string;
  updatedAt: string;
}

export interface Lineage {
  version: RegistryVersion & { round: number | null };
  contributors: string[];
  shards: string[];
  numSamples: number;
  updates: { unitId: string; contributorId: string; numSamples: number; loss: number }[];
}

const seg = encodeURIComponent;

export const registryApi = (baseUrl: string, bearer: () => string) => ({
  versions: (name: string) =>
    call<RegistryVersion[]>(baseUrl, bearer(), 'GET', `/api/models/${seg(name)}/versions`),
  history: (name: string, alias: string) =>
    call<AliasMove[]>(baseUrl, bearer(), 'GET', `/api/models/${seg(name)}/aliases/${seg(alias)}/history`),
  lineage: (name: string, id: string) =>
    call<Lineage>(baseUrl, bearer(), 'GET', `/api/models/${seg(name)}/versions/${seg(id)}/lineage`),
  promote: (name: string, alias: string, versionId: string) =>
    call<AliasMove>(baseUrl, bearer(), 'POST', `/api/models/${seg(name)}/aliases/${seg(alias)}`, {
      versionId,
    }),
  rollback: (name: string, alias: string) =>
    call<AliasMove>(baseUrl, bearer(), 'POST', `/api/models/${seg(name)}/aliases/${seg(alias)}/rollback`),
});
