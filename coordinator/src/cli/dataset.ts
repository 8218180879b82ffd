/**
 * `gridtab dataset push|list|show`: uploads a file as a dataset version (streamed, with a
 * progress bar of bytes sent) and reads the registry, through the coordinator's HTTP API.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DATASET_FORMATS,
  type DatasetFormat,
  type DatasetVersionView,
  type DatasetView,
  TASK_KINDS,
} from '@gridtab/shared';
import cliProgress from 'cli-progress';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Where the progress bar draws (a TTY shows it; anything else shows nothing). */
  progress: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/** Exit codes: 0 done, 1 the coordinator refused or could not be reached, 2 bad usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export class UsageError extends Error {}

export const DATASET_HELP = `Usage:
  gridtab dataset push FILE --name NAME [options]   upload FILE as the next version of NAME
  gridtab dataset list                              dataset names and their latest version
  gridtab dataset show NAME[@VERSION]               one version (default: the latest) and its lineage

push options:
  --name NAME          dataset name: a-z, 0-9, '.', '_', '-' (required)
  --format F           ${DATASET_FORMATS.join('|')} (default: from the file's extension)
  --label COLUMN       label column (CSV, TSV, Parquet; default: the last column)
  --task T             ${TASK_KINDS.join('|')} (default: inferred from the labels)
  --missing P          refuse|drop|impute: missing feature values
  --categorical A,B    columns to one-hot encode beside non-numeric ones
  --split-column C     column whose value 'test' marks test rows
  --test-fraction F    hash split: share of rows for test (0..1)
  --seed N             hash split seed
  --shard-size N       rows per training shard
  --width N --height N --channels 1|3   image archives: the size images are resized to

common options:
  --coordinator URL    coordinator address (default $GRIDTAB_URL or http://localhost:8787)
  --token T            admin token for push (default $GRIDTAB_TOKEN, then $ADMIN_TOKEN)
  --json               print the API's JSON instead of a summary
  -h, --help           this help

Exit codes: 0 done, 1 refused by the coordinator or unreachable, 2 bad usage.`;

const OPTIONS = {
  name: { type: 'string' },
  format: { type: 'string' },
  label: { type: 'string' },
  task: { type: 'string' },
  missing: { type: 'string' },
  categorical: { type: 'string' },
  'split-column': { type: 'string' },
  'test-fraction': { type: 'string' },
  seed: { type: 'string' },
  'shard-size': { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  channels: { type: 'string' },
  coordinator: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Query parameter for each push option that passes through as is. */
const PASS_THROUGH: [keyof typeof OPTIONS, string][] = [
  ['label', 'label'],
  ['task', 'task'],
  ['missing', 'missing'],
  ['categorical', 'categorical'],
  ['split-column', 'splitColumn'],
  ['test-fraction', 'testFraction'],
  ['seed', 'seed'],
  ['shard-size', 'shardSize'],
  ['width', 'width'],
  ['height', 'height'],
  ['channels', 'channels'],
];

const CONTENT_TYPE: Record<DatasetFormat, string> = {
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  parquet: 'application/vnd.apache.parquet',
  npz: 'application/zip',
  images: 'application/octet-stream',
  idx: 'application/octet-stream',
};

export function formatFromName(file: string): DatasetFormat | null {
  const name = file.toLowerCase();
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.tsv') || name.endsWith('.tab')) return 'tsv';
  if (name.endsWith('.parquet')) return 'parquet';
  if (name.endsWith('.npz')) return 'npz';
  if (/\.(zip|tar|tgz|tar\.gz)$/.test(name)) return 'images';
  if (/(idx\d?-ubyte|\.idx)(\.gz)?$/.test(name)) return 'idx';
  return null;
}

/** Runs `gridtab dataset ...` with `args` after `dataset`; returns the exit code. */
export async function datasetCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    io.out(DATASET_HELP);
    return command || values.help ? EXIT.ok : EXIT.usage;
  }
  const base = (values.coordinator ?? io.env.GRIDTAB_URL ?? 'http://localhost:8787').replace(/\/+$/, '');
  const token = values.token ?? io.env.GRIDTAB_TOKEN ?? io.env.ADMIN_TOKEN;
  const client = new ApiClient(base, token);
  switch (command) {
    case 'push': {
      if (rest.length !== 1) throw new UsageError('push takes one FILE');
      if (!values.name) throw new UsageError('push needs --name NAME');
      const file = rest[0];
      const format = (values.format ?? formatFromName(file)) as DatasetFormat | null;
      if (!format || !(DATASET_FORMATS as readonly string[]).includes(format))
        throw new UsageError(`say --format (${DATASET_FORMATS.join('|')}); ${basename(file)} does not tell`);
      const query = new URLSearchParams({ format, fileName: basename(file) });
      for (const [option, param] of PASS_THROUGH) {
        const v = values[option];
        if (typeof v === 'string') query.set(param, v);
      }
      const { status, body } = await client.upload(
        `/api/datasets/${encodeURIComponent(values.name)}/versions?${query}`,
        file,
        CONTENT_TYPE[format],
        io.progress,
      );
      const view = body as DatasetVersionView;
      if (values.json) io.out(JSON.stringify(view, null, 2));
      else io.out(`${view.id} ${status === 201 ? 'created' : 'unchanged (same content)'}: ${summary(view)}`);
      return EXIT.ok;
    }
    case 'list': {
      const list = (await client.get('/api/datasets')) as DatasetView[];
      if (values.json) io.out(JSON.stringify(list, null, 2));
      else
        for (const d of list) io.out(`${d.name}@${d.latest}\t${d.versions} version(s)\t${taskText(d.task)}`);
      return EXIT.ok;
    }
    case 'show': {
      if (rest.length !== 1) throw new UsageError('show takes NAME or NAME@VERSION');
      const [name, version] = rest[0].split('@');
      let v = version;
      if (!v) {
        const versions = (await client.get(
          `/api/datasets/${encodeURIComponent(name)}/versions`,
        )) as DatasetVersionView[];
        v = String(versions.at(-1)!.version);
      }
      const view = (await client.get(
        `/api/datasets/${encodeURIComponent(name)}/versions/${encodeURIComponent(v)}`,
      )) as DatasetVersionView & {
        lineage: { jobs: { id: string; name: string }[]; models: { name: string; version: number }[] };
      };
      if (values.json) {
        io.out(JSON.stringify(view, null, 2));
        return EXIT.ok;
      }
      io.out(`${view.id}: ${summary(view)}`);
      io.out(`hash ${view.hash}; parent ${view.parent ?? 'none'}; created ${view.createdAt}`);
      if (view.source)
        io.out(
          `from ${view.source.fileName} (${view.source.format}, ${view.source.bytes} bytes) by ${view.source.importedBy}`,
        );
      for (const w of view.stats.warnings) io.out(`warning ${w.code}: ${w.message}`);
      io.out(`jobs: ${view.lineage.jobs.map((j) => `${j.id} '${j.name}'`).join(', ') || 'none'}`);
      io.out(`models: ${view.lineage.models.map((m) => `${m.name} v${m.version}`).join(', ') || 'none'}`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

function taskText(task: DatasetView['task']): string {
  return task.kind === 'classification'
    ? `classification, ${task.numClasses} classes`
    : `regression, ${task.numTargets} target(s)`;
}

function summary(v: DatasetVersionView): string {
  return `${taskText(v.task)}; input ${JSON.stringify(v.schema.inputShape)}; ${v.splits.train} train / ${v.splits.test} test rows; ${v.shards.count} shards, ${v.shards.bytes} bytes`;
}

/** An API refusal or a network failure, with the coordinator's code when it sent one. */
export class ApiError extends Error {}

class ApiClient {
  constructor(
    private readonly base: string,
    private readonly token: string | undefined,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.token && { authorization: `Bearer ${this.token}` }), ...extra };
  }

  async get(path: string): Promise<unknown> {
    return (await this.send(path, { headers: this.headers() })).body;
  }

  /** Streams the file as the request body, drawing bytes sent. */
  async upload(path: string, file: string, contentType: string, progress: NodeJS.WritableStream) {
    const size = (await stat(file)).size;
    const bar = new cliProgress.SingleBar(
      { stream: progress, format: 'upload [{bar}] {percentage}% {value}/{total} bytes', hideCursor: false },
      cliProgress.Presets.shades_classic,
    );
    bar.start(size, 0);
    let sent = 0;
    // Node's fetch takes an async iterable as a streamed body (duplex: 'half').
    async function* counted() {
      for await (const chunk of createReadStream(file)) {
        sent += (chunk as Buffer).byteLength;
        bar.update(sent);
        yield chunk as Buffer;
      }
    }
    try {
      return await this.send(path, {
        method: 'POST',
        headers: this.headers({ 'content-type': contentType }),
        body: counted() as unknown as BodyInit,
        duplex: 'half',
      } as RequestInit);
    } finally {
      bar.stop();
    }
  }

  private async send(path: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, init);
    } catch (e) {
      throw new ApiError(
        `cannot reach the coordinator at ${this.base}: ${(e as Error).cause ?? (e as Error).message}`,
      );
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    if (!res.ok) {
      const error = (body as { error?: { code: string; message: string } }).error;
      throw new ApiError(
        error ? `${error.code}: ${error.message}` : `HTTP ${res.status}: ${text.slice(0, 200)}`,
      );
    }
    return { status: res.status, body };
  }
}
