#!/usr/bin/env node
// Entry for `npx gridtab-worker`: loads the TypeScript CLI through tsx, like the rest of GridTab.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/cli.ts');
process.exit(await main(process.argv.slice(2)));
