/**
 * VersionHistory merges what the coordinator stored with what the runtime hears live; the two
 * overlap and race, so the merge must dedupe by version id and keep rounds in order.
 */
import type { JobView, VersionEvent, VersionView } from '@gridtab/shared';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VersionHistory } from './version-history.svelte.ts';

const job = (id: string, status: JobView['status'], createdAt: string): JobView => ({
  id,
  name: id,
  status,
  round: 2,
  versionId: null,
  metrics: { testAccuracy: null, testLoss: null },
  dataset: 'fashion-mnist',
  strategy: 'fedavg',
  codec: { name: 'fp32' },
  aggregation: { rule: 'mean' },
  createdAt,
  stopping: { maxRounds: 10, targetAccuracy: null },
});

const stored = (jobId: string, round: number, acc: number): VersionView => ({
  id: `${jobId}-v${round}`,
  jobId,
  round,
  hash: 'h',
  parentId: null,
  createdAt: '',
  metrics: { testAccuracy: acc, testLoss: 1 },
  numSamples: 1,
  unitIds: [],
});

const live = (jobId: string, round: number, acc: number): VersionEvent => ({
  jobId,
  versionId: `${jobId}-v${round}`,
  round,
  metrics: { testAccuracy: acc, testLoss: 1 },
});

function serve(routes: Record<string, unknown>) {
  const fetchMock = vi.fn(async (url: URL | string) => {
    const path = new URL(url).pathname;
    if (!(path in routes))
      return new Response('{"error":{"code":"NOT_FOUND","message":"no"}}', { status: 404 });
    return Response.json(routes[path]);
  });
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('VersionHistory', () => {
  it('loads the running job and merges live versions without duplicates, ordered by round', async () => {
    serve({
      '/api/jobs': [job('old', 'completed', '2026-01-01'), job('j1', 'running', '2025-01-01')],
      '/api/jobs/j1/versions': [stored('j1', 1, 0.6), stored('j1', 2, 0.7)],
    });
    const history = new VersionHistory('http://coordinator.test');
    // A live event that is also in the stored list arrives before the fetch returns.
    history.ingest([live('j1', 2, 0.7), live('j1', 3, 0.8)]);
    await history.load();

    expect(history.defaultJobId).toBe('j1');
    expect(history.byJob.j1.map((p) => p.round)).toEqual([1, 2, 3]);
    expect(history.byJob.j1.at(-1)?.accuracy).toBe(0.8);
    expect(history.error).toBeNull();
  });

  it('ignores events it already has, so calling ingest on every state change is cheap', async () => {
    const fetchMock = serve({
      '/api/jobs': [job('j1', 'running', '2025-01-01')],
      '/api/jobs/j1/versions': [],
    });
    const history = new VersionHistory('http://coordinator.test');
    await history.load();
    history.ingest([live('j1', 1, 0.5)]);
    const before = history.byJob;
    const calls = fetchMock.mock.calls.length;
    history.ingest([live('j1', 1, 0.5)]);
    expect(history.byJob).toBe(before);
    expect(fetchMock.mock.calls.length).toBe(calls);
  });

  it('fills in a version heard at its commit when its evaluation is announced', async () => {
    serve({ '/api/jobs': [job('j1', 'running', '2025-01-01')], '/api/jobs/j1/versions': [] });
    const history = new VersionHistory('http://coordinator.test');
    await history.load();
    const committed = { ...live('j1', 1, 0), metrics: { testAccuracy: null, testLoss: null } };
    history.ingest([committed]);
    expect(history.byJob.j1).toEqual([{ versionId: 'j1-v1', round: 1, accuracy: null, loss: null }]);
    history.ingest([committed, live('j1', 1, 0.6)]);
    expect(history.byJob.j1).toEqual([{ versionId: 'j1-v1', round: 1, accuracy: 0.6, loss: 1 }]);
    // Once evaluated, an unevaluated copy of the same version does not undo the metrics.
    history.ingest([committed]);
    expect(history.byJob.j1[0].accuracy).toBe(0.6);
  });

  it('falls back to the newest job when none runs, and reports failed fetches', async () => {
    serve({ '/api/jobs': [job('a', 'completed', '2025-01-01'), job('b', 'completed', '2026-01-01')] });
    const history = new VersionHistory('http://coordinator.test');
    await history.load();
    expect(history.defaultJobId).toBe('b');
    expect(history.error).toMatch(/NOT_FOUND/);
  });
});
