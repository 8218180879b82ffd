import { GridTabError } from '@gridtab/shared/errors';

/** The error an import throws when its signal aborts (a cancelled upload, a shutdown). */
export function cancelled(): GridTabError {
  return new GridTabError('BAD_REQUEST', 'import cancelled');
}
