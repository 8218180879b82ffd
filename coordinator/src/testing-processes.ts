/**
 * Coordinators as real child processes, for the tests that kill, restart or pair them (crash,
 * two-process, lease failover, shared limits): `coordinator/src/main.ts` under tsx, on
 * 127.0.0.1, with the caller's settings over this process's environment.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Starts a coordinator on `port` with `env` (DATA_DIR, ADMIN_TOKEN, ...) and resolves once it
 * listens; rejects with its output if it exits first. `name` labels that error.
 */
export async function spawnCoordinator(
  name: string,
  port: number,
  env: Record<string, string>,
): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'coordinator/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', GRIDTAB_DEMO_JOB: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((ready, fail) => {
    const onData = (d: Buffer) => {
      output += d;
      if (/listening on/.test(output)) ready();
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => fail(new Error(`coordinator ${name} exited with ${code}: ${output}`)));
  });
  return proc;
}
