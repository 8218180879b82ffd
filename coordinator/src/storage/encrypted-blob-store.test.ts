import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileBlobStore } from './blob-store.ts';
import { dataKeysFromEnv } from './data-key.ts';
import { encryptedBlobStoreSuite, keys, newKey } from './encrypted-blob-store.case.ts';
import { EncryptedBlobStore } from './encrypted-blob-store.ts';

const root = mkdtempSync(join(tmpdir(), 'gridtab-sealed-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

encryptedBlobStoreSuite(
  'files',
  () => FileBlobStore.open(join(root, 'shared')),
  () => FileBlobStore.open(join(root, `fresh-${n++}`)),
);

describe('encryption at rest on disk', () => {
  it('leaves no plaintext in any file under the blob folder', async () => {
    const dir = join(root, 'disk');
    const store = await EncryptedBlobStore.open(await FileBlobStore.open(dir), keys(newKey()));
    const secret = new TextEncoder().encode('weights of a private model '.repeat(100));
    await store.put(secret);
    const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    expect(files.length).toBe(2); // the blob and the key check
    for (const f of files) {
      const bytes = readFileSync(join(f.parentPath, f.name));
      expect(bytes.includes(Buffer.from('weights of a private'))).toBe(false);
    }
  });
});

describe('DATA_KEY parsing', () => {
  it('takes 32 bytes as hex or base64, from the environment or a file', () => {
    const hex = 'ab'.repeat(32);
    expect(dataKeysFromEnv({ DATA_KEY: hex })!.current.key).toEqual(Buffer.alloc(32, 0xab));
    expect(dataKeysFromEnv({ DATA_KEY: Buffer.alloc(32, 0xab).toString('base64') })!.current.key).toEqual(
      Buffer.alloc(32, 0xab),
    );
    const file = join(root, 'key');
    rmSync(file, { force: true });
    writeFileSync(file, `${hex}\n`);
    const fromFile = dataKeysFromEnv({ DATA_KEY_FILE: file, DATA_KEY_PREVIOUS: ` ${'cd'.repeat(32)} ,` })!;
    expect(fromFile.current.id).toEqual(dataKeysFromEnv({ DATA_KEY: hex })!.current.id);
    expect(fromFile.previous.map((k) => k.key)).toEqual([Buffer.alloc(32, 0xcd)]);
    expect(dataKeysFromEnv({})).toBeNull();
  });

  it('refuses keys of the wrong size or form, without echoing them', () => {
    for (const bad of ['ab'.repeat(31), 'secret-passphrase', Buffer.alloc(16).toString('base64')])
      expect(() => dataKeysFromEnv({ DATA_KEY: bad })).toThrow(/DATA_KEY must be 32 bytes/);
    expect(() => dataKeysFromEnv({ DATA_KEY: 'ab'.repeat(32), DATA_KEY_PREVIOUS: 'nope' })).toThrow(
      /DATA_KEY_PREVIOUS\[0\] must be 32 bytes/,
    );
    expect(() => dataKeysFromEnv({ DATA_KEY_PREVIOUS: 'ab'.repeat(32) })).toThrow(/needs DATA_KEY/);
    expect(() => dataKeysFromEnv({ DATA_KEY_FILE: join(root, 'absent') })).toThrow(/could not be read/);
    let message = '';
    try {
      dataKeysFromEnv({ DATA_KEY: 'secret-passphrase' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/32 bytes/);
    expect(message).not.toContain('secret-passphrase');
  });
});
