/**
 * Trains a job on a running coordinator with one Node contributor until the job ends, then
 * exits. Run as a child process (`node --import tsx e2e/train-node.ts URL JOB_ID`) so tests that
 * need real trained versions get them in seconds without a browser tab training.
 */
import { createNodeContributor } from '@gridtab/client/runtime';

const [url, jobId] = process.argv.slice(2);
if (!url || !jobId) {
  console.error('usage: node --import tsx e2e/train-node.ts COORDINATOR_URL JOB_ID');
  process.exit(2);
}
const contributor = createNodeContributor({ coordinatorUrl: url, benchmarkMs: 100 });
await contributor.start();
for (;;) {
  // A poll can meet a keep-alive socket the server closes after a long evaluation blocked its
  // event loop (ECONNRESET on a loaded machine): that poll is retried, not fatal.
  const job = (await fetch(`${url}/api/jobs/${jobId}`)
    .then((r) => r.json())
    .catch(() => ({ status: 'running' }))) as { status: string };
  if (job.status !== 'running') break;
  await new Promise((r) => setTimeout(r, 250));
}
await contributor.stop();
process.exit(0);
