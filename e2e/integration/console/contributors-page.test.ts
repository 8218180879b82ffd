/**
 * The Contributors page against a real coordinator: an admin's console shows "Lift quarantine"
 * on quarantined rows only, and the action the button runs lifts it (back on probation) and
 * shows the row released at once. Rendered with svelte/server: the markup the page produces
 * for the model's snapshot, without a browser.
 */

import { startTestCoordinator, type TestCoordinator } from '@gridtab/coordinator/testing';
import { render } from 'svelte/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ContributorsPage from '../../../client/src/ui/admin/ContributorsPage.svelte';
import { ConsoleModel } from '../../../client/src/ui/admin/console-model.svelte.ts';

class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(i: number) {
    return [...this.items.keys()][i] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

/** The markup of each contributor's row, by id. */
function rows(model: ConsoleModel): Map<string, string> {
  const { body } = render(ContributorsPage, { props: { model } });
  const out = new Map<string, string>();
  for (const row of body.split('<tr data-testid="contributor-row"').slice(1)) {
    const id = /data-contributor-id="([^"]+)"/.exec(row)?.[1];
    if (id) out.set(id, row.slice(0, row.indexOf('</tr>')));
  }
  return out;
}
const releaseButtons = (row: string | undefined) =>
  row?.match(/data-testid="release-quarantine"/g)?.length ?? 0;

describe('Contributors page: lifting a quarantine', () => {
  let co: TestCoordinator;
  const models: ConsoleModel[] = [];
  let quarantined = '';
  let honest = '';

  const signedIn = async (token: string) => {
    const model = new ConsoleModel(co.url, new MemoryStorage());
    models.push(model);
    model.login(token);
    await expect
      .poll(() => model.snapshot?.contributors.find((c) => c.id === quarantined)?.quarantined, {
        timeout: 10_000,
      })
      .toBe(true);
    return model;
  };

  beforeAll(async () => {
    co = await startTestCoordinator({ viewerToken: 'test-viewer-token' });
    const now = new Date().toISOString();
    quarantined = (await co.store.upsertContributor('client_lazy00001', 'cpu', now)).id;
    honest = (await co.store.upsertContributor('client_fair00001', 'cpu', now)).id;
    await co.store.reputation.recordCheck({
      updateId: 'upd-lazy',
      jobId: 'j-old',
      round: 1,
      unitId: 'j-old.r1.u0',
      contributorId: quarantined,
      backend: 'cpu',
      passed: false,
      distance: 1,
      replicaHash: 'e'.repeat(64),
      createdAt: now,
    });
    await co.store.reputation.setQuarantined(quarantined, true, now);
  });
  afterAll(async () => {
    for (const m of models) m.logout();
    await co.destroy();
  });

  it('shows no button to a viewer', async () => {
    const viewer = await signedIn('test-viewer-token');
    const shown = rows(viewer);
    expect(shown.get(quarantined)).toContain('quarantined');
    expect(releaseButtons(shown.get(quarantined))).toBe(0);
  });

  it('offers it on quarantined rows only, and the action releases the contributor at once', async () => {
    const admin = await signedIn('test-admin-token');
    const before = rows(admin);
    expect([...before.keys()].sort()).toEqual([quarantined, honest].sort());
    expect(releaseButtons(before.get(quarantined))).toBe(1);
    expect(releaseButtons(before.get(honest))).toBe(0);

    const result = await admin.releaseQuarantine(quarantined);
    expect(result).toMatchObject({ released: true, quarantined: false });
    expect(admin.actionError).toBeNull();
    expect(await co.store.reputation.getReputation(quarantined)).toMatchObject({
      quarantined: false,
      checksPassed: 0,
      checksFailed: 0,
    });
    // The page shows it without waiting for the next push.
    expect(admin.snapshot?.contributors.find((c) => c.id === quarantined)?.quarantined).toBe(false);
    expect(releaseButtons(rows(admin).get(quarantined))).toBe(0);

    // Nothing left to lift: said so, nothing stored.
    expect(await admin.releaseQuarantine(quarantined)).toMatchObject({ released: false });
    expect(admin.actionError).toContain('not quarantined');
    expect(await co.store.reputation.getReputation(honest)).toBeNull();
  });
});
