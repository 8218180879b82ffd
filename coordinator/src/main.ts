/**
 * `npm start`: runs one coordinator with its embedded store until SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { createCoordinator } from './app.ts';
import { configFromEnv, ENV_HELP } from './config.ts';

const HELP = `Usage: npm start [-- --help]

Runs the GridTab coordinator: the HTTP API, the contribute page and the socket.io
endpoint for contributor tabs, on one port, with an embedded SQL store and blob
folder under DATA_DIR. On first start it imports Fashion-MNIST and creates a demo
job (an MLP). Open http://localhost:PORT/ in a few tabs to train it.

Environment:
${ENV_HELP.map(([k, v]) => `  ${k.padEnd(30)} ${v}`).join('\n')}
`;

const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h' } }, strict: true });
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

try {
  const config = configFromEnv();
  const co = await createCoordinator(config);
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(config.host);
  if (!loopback && !config.security.tlsCert)
    console.warn(
      `[gridtab] WARNING: listening on ${config.host} without TLS. Browsers on other machines get no WebGPU over plain http (their tabs train on WebGL or wasm, slower), and tokens travel in clear. Set TLS_CERT and TLS_KEY, or put an HTTPS reverse proxy in front (docs/SECURITY.md).`,
    );
  console.log(`[gridtab] coordinator listening on ${co.url} (data in ${config.dataDir})`);
  console.log(`[gridtab] contribute page: ${co.url}/   API docs: ${co.url}/api/openapi.json`);
  if (config.adminTokenGenerated)
    console.log(`[gridtab] ADMIN_TOKEN=${config.adminToken} (generated; set ADMIN_TOKEN to keep one)`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[gridtab] ${signal}: shutting down`);
    await co.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Renewed certificates (certbot and the like) are read again without dropping connections.
  process.on('SIGHUP', () => {
    try {
      co.reloadTls();
      if (config.security.tlsCert) console.log('[gridtab] SIGHUP: TLS certificate and key reloaded');
    } catch (e) {
      console.error(
        `[gridtab] SIGHUP: TLS reload failed, keeping the old certificate: ${(e as Error).message}`,
      );
    }
  });
} catch (e) {
  console.error(`[gridtab] could not start: ${(e as Error).message}`);
  process.exit(1);
}
