/** The gridtab CLI's main() against a real coordinator: push, list, show, and its exit codes. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAR_COLUMNS, cars, toDelimited } from '../datasets/import/test-data.ts';
import { startTestCoordinator, type TestCoordinator } from '../testing.ts';
import { type CliIo, EXIT } from './dataset.ts';
import { main } from './main.ts';

describe('gridtab CLI', () => {
  let co: TestCoordinator;
  beforeAll(async () => {
    co = await startTestCoordinator();
  });
  afterAll(async () => {
    await co?.destroy();
  });

  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      progress: new PassThrough(),
      env: { GRIDTAB_URL: co.url, GRIDTAB_TOKEN: 'test-admin-token' },
    };
    const code = await main(argv, io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('pushes a CSV as a new version, then as the same one, and lists and shows it', async () => {
    const file = join(co.dir, 'cars.csv');
    writeFileSync(file, toDelimited(cars(), CAR_COLUMNS));
    const first = await run(
      'dataset',
      'push',
      file,
      '--name',
      'cars',
      '--label',
      'Miles_per_Gallon',
      '--task',
      'regression',
      '--missing',
      'drop',
    );
    expect(first).toMatchObject({ code: EXIT.ok, err: '' });
    expect(first.out).toMatch(
      /^cars@1 created: regression, 1 target\(s\); input \[\d+\]; \d+ train \/ \d+ test rows/,
    );
    const again = await run(
      'dataset',
      'push',
      file,
      '--name',
      'cars',
      '--label',
      'Miles_per_Gallon',
      '--task',
      'regression',
      '--missing',
      'drop',
    );
    expect(again.out).toMatch(/^cars@1 unchanged/);
    expect((await co.store.getDataset('cars@1'))!.source).toMatchObject({
      fileName: 'cars.csv',
      format: 'csv',
      importedBy: 'ADMIN_TOKEN (admin)',
      options: { label: 'Miles_per_Gallon', task: 'regression' },
    });

    const list = await run('dataset', 'list');
    expect(list.out).toContain('cars@1\t1 version(s)\tregression, 1 target(s)');
    expect(list.out).toContain('fashion-mnist@1');
    const show = await run('dataset', 'show', 'cars');
    expect(show.code).toBe(EXIT.ok);
    expect(show.out).toContain('from cars.csv (csv');
    expect(show.out).toContain('jobs: none');
    const json = await run('dataset', 'show', 'cars@1', '--json');
    expect(JSON.parse(json.out)).toMatchObject({ id: 'cars@1', lineage: { jobs: [], models: [] } });
  });

  it('exits 1 with the code when the coordinator refuses, and 2 on bad usage', async () => {
    const ragged = join(co.dir, 'ragged.csv');
    writeFileSync(ragged, 'a,b,y\n1,2,3\n4,5\n');
    const refused = await run('dataset', 'push', ragged, '--name', 'ragged');
    expect(refused.code).toBe(EXIT.failed);
    expect(refused.err).toMatch(/RAGGED_ROW/);
    const noToken = await main(['dataset', 'list'], {
      out: () => {},
      err: () => {},
      progress: new PassThrough(),
      env: { GRIDTAB_URL: 'http://127.0.0.1:1' },
    });
    expect(noToken).toBe(EXIT.failed);
    expect((await run('dataset', 'push', ragged)).code).toBe(EXIT.usage);
    expect((await run('dataset', 'push', join(co.dir, 'x.bin'), '--name', 'x')).err).toMatch(/--format/);
    expect((await run('dataset', 'frobnicate')).code).toBe(EXIT.usage);
    expect((await run('dataset', 'list', '--bogus')).code).toBe(EXIT.usage);
    const help = await run('--help');
    expect(help.code).toBe(EXIT.ok);
    expect(help.out).toContain('gridtab dataset push FILE --name NAME');
  });
});
