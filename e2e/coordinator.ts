/**
 * Starts a real coordinator as a child process (as `npm start` does) on a free port with its
 * own DATA_DIR, and talks to its HTTP API. Tests create their own jobs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { JobSpecInput, JobView, VersionView } from '@gridtab/shared';

export const ADMIN_TOKEN = 'e2e-admin-token';
const repoRoot = resolve(import.meta.dirname, '..');

export interface CoordinatorProcess {
  url: string;
  /** The child's process id (for CPU time from /proc). */
  pid: number;
  log: string[];
  createJob(spec: JobSpecInput): Promise<JobView>;
  job(id: string): Promise<JobView>;
  versions(id: string): Promise<VersionView[]>;
  stop(): Promise<void>;
}

/** Every coordinator started in this worker, for the failure diagnosis (diagnose.ts). */
export const startedCoordinators: { url: string; log: string[] }[] = [];

export async function startCoordinator(env: Record<string, string> = {}): Promise<CoordinatorProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gridtab-e2e-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'coordinator/src/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, ADMIN_TOKEN, GRIDTAB_DEMO_JOB: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  const url = await new Promise<string>((resolveUrl, reject) => {
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line) log.push(line);
        const m = /listening on (https?:\/\/\S+)/.exec(line);
        if (m) resolveUrl(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`coordinator exited with ${code}:\n${log.join('\n')}`)));
  });
  startedCoordinators.push({ url, log });
  const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(`${url}${path}`, init);
    if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<T>;
  };
  return {
    url,
    pid: child.pid!,
    log,
    createJob: (spec) =>
      api('/api/jobs', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(spec),
      }),
    job: (id) => api(`/api/jobs/${id}`),
    versions: (id) => api(`/api/jobs/${id}/versions`),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
