/**
 * The `gridtab` command (bin/gridtab.mjs): administration of a running coordinator from a
 * shell (`gridtab dataset ...`), and `gridtab rotate-key`, which works on the blob store itself.
 */
import { ApiError, type CliIo, DATASET_HELP, datasetCommand, EXIT, UsageError } from './dataset.ts';
import { ROTATE_KEY_HELP, rotateKeyCommand } from './rotate-key.ts';

export const HELP = `gridtab: manage a GridTab coordinator from the command line.

${DATASET_HELP}

${ROTATE_KEY_HELP}`;

const processIo = (): CliIo => ({
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  progress: process.stderr,
  env: process.env,
});

/** Runs the command in `argv` (without node and the script); returns the exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [family, ...rest] = argv;
  try {
    if (family === 'dataset') return await datasetCommand(rest, io);
    if (family === 'rotate-key') return await rotateKeyCommand(rest, io);
    if (!family || family === '--help' || family === '-h' || family === 'help') {
      io.out(HELP);
      return family ? EXIT.ok : EXIT.usage;
    }
    throw new UsageError(`unknown command '${family}'`);
  } catch (e) {
    if (e instanceof ApiError) {
      io.err(`gridtab: ${e.message}`);
      return EXIT.failed;
    }
    // parseArgs reports unknown or malformed options with a TypeError carrying an ERR_PARSE_ARGS code.
    const parse = (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (e instanceof UsageError || parse) {
      io.err(`gridtab: ${(e as Error).message}\nRun 'gridtab --help' for usage.`);
      return EXIT.usage;
    }
    throw e;
  }
}
