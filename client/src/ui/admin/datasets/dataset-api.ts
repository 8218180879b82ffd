/**
 * The dataset registry over its HTTP API (/api/datasets): list datasets and versions, read one
 * version with its lineage, delete a version, and upload a file as a new version. The upload
 * goes through XMLHttpRequest rather than fetch because only XHR reports upload progress
 * (fetch has no upload progress event in browsers), and a dataset file can be large.
 */
import type {
  DatasetFormat,
  DatasetLineage,
  DatasetVersionView,
  DatasetView,
  ErrorBody,
  MissingPolicy,
  TaskKind,
} from '@gridtab/shared';
import { call } from '../token-api.ts';

export type DatasetVersionDetail = DatasetVersionView & { lineage: DatasetLineage };

const seg = encodeURIComponent;
const versionPath = (name: string, version: number) => `/api/datasets/${seg(name)}/versions/${version}`;

/** The API answers lists as arrays; an envelope (`{ datasets }`, `{ versions }`) is read too. */
const listOf = <T>(body: T[] | Record<string, T[]>, key: string): T[] =>
  Array.isArray(body) ? body : (body[key] ?? []);

export const datasetApi = (baseUrl: string, bearer: () => string) => ({
  list: async () =>
    listOf(
      await call<DatasetView[] | Record<string, DatasetView[]>>(baseUrl, bearer(), 'GET', '/api/datasets'),
      'datasets',
    ),
  versions: async (name: string) =>
    listOf(
      await call<DatasetVersionView[] | Record<string, DatasetVersionView[]>>(
        baseUrl,
        bearer(),
        'GET',
        `/api/datasets/${seg(name)}/versions`,
      ),
      'versions',
    ),
  version: (name: string, version: number) =>
    call<DatasetVersionDetail>(baseUrl, bearer(), 'GET', versionPath(name, version)),
  /** true once deleted (a 204 has no body to return). */
  remove: (name: string, version: number) =>
    call<unknown>(baseUrl, bearer(), 'DELETE', versionPath(name, version)).then(() => true),
});

export interface UploadRequest {
  name: string;
  file: Blob;
  format: DatasetFormat;
  /** Tabular formats: the label column; empty for the importer's default. */
  label: string;
  /** Empty: the importer infers it from the label column. */
  task: TaskKind | '';
  /** Tabular: what to do with a missing feature value (empty: the importer's default, refuse). */
  missing?: MissingPolicy | '';
  /** Recorded as the version's source file name. */
  fileName?: string;
}

export interface UploadResult {
  version: DatasetVersionView;
  /** false: the same content was already a version (200), nothing new was stored. */
  created: boolean;
}

/** The query of an upload: format always, label and task when given. */
export function uploadPath(req: Omit<UploadRequest, 'file'>): string {
  const q = new URLSearchParams({ format: req.format });
  if (req.label.trim()) q.set('label', req.label.trim());
  if (req.task) q.set('task', req.task);
  if (req.missing) q.set('missing', req.missing);
  if (req.fileName) q.set('fileName', req.fileName);
  return `/api/datasets/${seg(req.name.trim())}/versions?${q}`;
}

/** Error text of an answer: `CODE: message` from the error body, else the status line. */
export function errorText(status: number, statusText: string, body: string): string {
  try {
    const json = JSON.parse(body) as { error?: ErrorBody };
    if (json.error) return `${json.error.code}: ${json.error.message}`;
  } catch {
    // not JSON (a proxy's page): the status says enough
  }
  return `HTTP ${status} ${statusText}`.trim();
}

/**
 * Sends the file as the request body; `progress` hears the fraction sent (0 to 1). Resolves
 * with the version the coordinator made (or already had), rejects with `CODE: message`.
 */
export function uploadDataset(
  baseUrl: string,
  bearer: string,
  req: UploadRequest,
  progress: (fraction: number) => void,
): { done: Promise<UploadResult>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const done = new Promise<UploadResult>((resolve, reject) => {
    xhr.open('POST', new URL(uploadPath(req), baseUrl));
    xhr.setRequestHeader('authorization', `Bearer ${bearer}`);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) progress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status === 200 || xhr.status === 201) {
        progress(1);
        resolve({ version: JSON.parse(xhr.responseText) as DatasetVersionView, created: xhr.status === 201 });
      } else reject(new Error(errorText(xhr.status, xhr.statusText, xhr.responseText)));
    };
    xhr.onerror = () => reject(new Error('NETWORK: the coordinator could not be reached'));
    xhr.onabort = () => reject(new Error('ABORTED: the upload was cancelled'));
    xhr.send(req.file);
  });
  return { done, abort: () => xhr.abort() };
}
