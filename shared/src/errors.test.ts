import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, fail } from './errors.ts';

describe('error codes', () => {
  it('are all documented in docs/PROTOCOL.md', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../docs/PROTOCOL.md'), 'utf8');
    for (const code of Object.keys(ERROR_CODES)) expect(doc).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|`));
  });

  it('fail() carries the one-line meaning when no message is given', () => {
    expect(fail('NON_FINITE')).toEqual({
      ok: false,
      error: { code: 'NON_FINITE', message: ERROR_CODES.NON_FINITE },
    });
  });
});
