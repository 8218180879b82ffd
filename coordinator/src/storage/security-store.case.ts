/** Security records cases, run by every Store implementation through store.case.ts. */
import { expect, it } from 'vitest';
import type { Store } from './store.ts';

export function securityCases(open: () => Store | Promise<Store>) {
  it('keeps an append-only audit log, paged newest first', async () => {
    const store = await open();
    const before = (await store.security.listAudit(1000, null)).length;
    for (let i = 0; i < 5; i++)
      await store.security.appendAudit({
        at: `2026-01-01T00:00:0${i}Z`,
        actor: 'env:admin',
        action: 'job.pause',
        target: `j-audit${i}`,
        address: '10.0.0.1',
        detail: null,
      });
    const first = await store.security.listAudit(2, null);
    expect(first.map((e) => e.target)).toEqual(['j-audit4', 'j-audit3']);
    const next = await store.security.listAudit(10, first[1].seq!);
    expect(next.slice(0, 3).map((e) => e.target)).toEqual(['j-audit2', 'j-audit1', 'j-audit0']);
    expect((await store.security.listAudit(1000, null)).length).toBe(before + 5);
  });

  it('pages contributors by last seen and deletes only idle ones', async () => {
    const store = await open();
    await store.upsertContributor('sec-idle-old', null, '2000-01-01T00:00:00.000Z');
    await store.upsertContributor('sec-idle-new', null, '2999-01-01T00:00:00.000Z');
    const worker = await store.upsertContributor('sec-worker', null, '2000-01-01T00:00:00.000Z');
    await store.recordContribution(worker.id, 10, '2000-01-01T00:00:00.000Z');
    const banned = await store.upsertContributor('sec-banned', null, '2000-01-01T00:00:00.000Z');
    await store.banContributor({
      contributorId: banned.id,
      reason: 'flood',
      bannedAt: '2000-01-01T00:00:00.000Z',
    });

    const all = await store.listContributors();
    const pages: string[] = [];
    let cursor: { lastSeen: string; id: string } | null = null;
    for (;;) {
      const page = await store.security.pageContributors(2, cursor);
      pages.push(...page.map((c) => c.id));
      if (page.length < 2) break;
      cursor = { lastSeen: page[1].lastSeen, id: page[1].id };
    }
    expect(new Set(pages)).toEqual(new Set(all.map((c) => c.id)));
    expect(pages.length).toBe(all.length);

    const deleted = await store.security.deleteIdleContributors('2001-01-01T00:00:00.000Z');
    expect(deleted).toBeGreaterThanOrEqual(1);
    const left = (await store.listContributors()).map((c) => c.clientId);
    expect(left).not.toContain('sec-idle-old');
    expect(left).toEqual(expect.arrayContaining(['sec-idle-new', 'sec-worker', 'sec-banned']));
  });
}
