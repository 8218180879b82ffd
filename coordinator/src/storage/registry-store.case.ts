/**
 * Registry cases of the shared Store suite (called from store.case.ts): every Store runs them.
 */
import { expect, it } from 'vitest';
import type { Store } from './store.ts';

const at = '2026-01-01T00:00:00Z';

export function registryCases(
  open: () => Store | Promise<Store>,
  createJob: (store: Store, id: string) => Promise<void>,
) {
  it('registry: one model per name and per job; rename carries aliases and history', async () => {
    const store = await open();
    await createJob(store, 'jr1');
    const r = store.registry;
    await r.insertModel({ name: 'shirts', jobId: 'jr1', autoPromote: null, createdAt: at });
    await expect(
      r.insertModel({ name: 'shirts', jobId: null, autoPromote: null, createdAt: at }),
    ).rejects.toThrow();
    await expect(
      r.insertModel({ name: 'other', jobId: 'jr1', autoPromote: null, createdAt: at }),
    ).rejects.toThrow();
    await r.moveAlias(
      { modelName: 'shirts', alias: 'production', versionId: 'v-a', canary: null, updatedAt: at },
      'admin',
    );
    await r.renameModel('shirts', 'tops');
    expect(await r.getModel('shirts')).toBeNull();
    expect((await r.getModelByJob('jr1'))?.name).toBe('tops');
    expect((await r.getAlias('tops', 'production'))?.versionId).toBe('v-a');
    expect(await r.aliasHistory('tops', 'production')).toHaveLength(1);
    await r.setAutoPromote('tops', { alias: 'staging', metric: 'testAccuracy' });
    expect((await r.getModel('tops'))?.autoPromote).toEqual({ alias: 'staging', metric: 'testAccuracy' });
  });

  it('registry: alias moves are numbered, kept in order, and carry a canary split', async () => {
    const store = await open();
    const r = store.registry;
    await r.insertModel({ name: 'imported', jobId: null, autoPromote: null, createdAt: at });
    await r.insertImportedVersion({
      id: 'iv-1',
      modelName: 'imported',
      hash: 'e'.repeat(64),
      topologyHash: 'f'.repeat(64),
      parentId: null,
      createdAt: at,
    });
    expect((await r.getImportedVersion('iv-1'))?.hash).toBe('e'.repeat(64));
    expect((await r.listImportedVersions('imported')).map((v) => v.id)).toEqual(['iv-1']);
    const base = { modelName: 'imported', alias: 'production', updatedAt: at };
    expect((await r.moveAlias({ ...base, versionId: 'v1', canary: null }, 'admin')).seq).toBe(1);
    const second = await r.moveAlias(
      { ...base, versionId: 'v1', canary: { versionId: 'v2', fraction: 0.1 } },
      'admin',
    );
    expect(second.seq).toBe(2);
    expect((await r.getAlias('imported', 'production'))?.canary).toEqual({ versionId: 'v2', fraction: 0.1 });
    await r.moveAlias({ ...base, versionId: 'v2', canary: null }, 'auto');
    expect(await r.getAlias('imported', 'production')).toMatchObject({ versionId: 'v2', canary: null });
    expect(
      (await r.aliasHistory('imported', 'production')).map((m) => [m.seq, m.versionId, m.actor]),
    ).toEqual([
      [1, 'v1', 'admin'],
      [2, 'v1', 'admin'],
      [3, 'v2', 'auto'],
    ]);
    expect((await r.listAliases('imported')).map((a) => a.alias)).toEqual(['production']);
    expect(await r.getAlias('imported', 'staging')).toBeNull();
  });
}
