/**
 * The console's reader of older contributors (contributor-api.ts pageContributors) against a
 * real coordinator's GET /api/contributors: following the cursors visits every contributor once,
 * most recently seen first, and ends with no cursor; a forged cursor is refused with its code.
 */
import { startTestCoordinator, type TestCoordinator } from '@gridtab/coordinator/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageContributors } from '../../../client/src/ui/admin/contributor-api.ts';

describe('paging contributors for the console', () => {
  let co: TestCoordinator;
  const ids: string[] = [];

  beforeAll(async () => {
    co = await startTestCoordinator();
    for (let i = 0; i < 5; i++) {
      const seen = new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
      ids.push((await co.store.upsertContributor(`paged_client_${i}`, 'cpu', seen)).id);
    }
  });
  afterAll(async () => co?.destroy());

  it('visits every contributor once, newest first, two at a time', async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await pageContributors(co.url, 'test-admin-token', 2, cursor);
      seen.push(...page.rows.map((r) => r.id));
      sizes.push(page.rows.length);
      cursor = page.next;
    } while (cursor);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual([...ids].reverse());
  });

  it('refuses a cursor the coordinator did not give', async () => {
    await expect(pageContributors(co.url, 'test-admin-token', 2, 'not-a-cursor')).rejects.toThrow(
      /BAD_REQUEST/,
    );
  });
});
