/**
 * Admin actions asked of one process that must take effect where the work runs. With REDIS_URL
 * a job runs on its owner (ownership.ts) and each process keeps copies of job rows and
 * reputation records (scheduler/job-cache.ts, reputation/spot-check.ts). A pause, resume or
 * cancel, and a quarantine or its release, is written to the store and then published over the
 * socket.io Redis adapter (serverSideEmit, like a kick); every process forgets its copy, the
 * owner acts on the change, and the caller is answered once they have acknowledged.
 *
 * A process that does not answer within the adapter's request timeout (5 s) does not fail a job
 * change when the job's owner answered: the owner is who acts on it. When no answering process
 * runs the job and some did not answer, the owner may be the silent one, and the change fails
 * with INTERNAL (it is in the store; a later copy's expiry applies it). Without Redis nothing is
 * wired: the one process changed its own copies.
 */
import { GridTabError } from '@gridtab/shared';
import type { GridTabServer } from '../realtime/server.ts';
import type { SpotChecks } from '../reputation/spot-check.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';

export function attachJobControl(
  io: GridTabServer,
  deps: {
    scheduler: Pick<Scheduler, 'jobChanged' | 'announceWith'>;
    spotChecks: Pick<SpotChecks, 'forget' | 'announceWith'>;
    log: (msg: string) => void;
  },
): void {
  const { scheduler, spotChecks, log } = deps;
  io.on('job:changed', (jobId, ack) => {
    scheduler.jobChanged(jobId).then(
      (runs) => ack({ runs }),
      (e) => {
        // No answer: the sender's wait ends at its timeout, and reports the failure.
        log(`job ${jobId}: applying a change made elsewhere failed: ${(e as Error).message}`);
      },
    );
  });
  io.on('contributor:reputation', (contributorId, ack) => {
    spotChecks.forget(contributorId);
    ack(true);
  });

  scheduler.announceWith(
    (jobId) =>
      new Promise<void>((resolve, reject) => {
        io.serverSideEmit('job:changed', jobId, (err: Error | null, answers: { runs: boolean }[]) => {
          if (!err || answers.some((a) => a.runs)) return resolve();
          reject(
            new GridTabError(
              'INTERNAL',
              `the change of job ${jobId} is stored but did not reach every coordinator: ${err.message}`,
            ),
          );
        });
      }),
  );
  spotChecks.announceWith(
    (contributorId) =>
      new Promise<void>((resolve, reject) => {
        io.serverSideEmit('contributor:reputation', contributorId, (err: Error | null) => {
          if (!err) return resolve();
          reject(
            new GridTabError(
              'INTERNAL',
              `the change of ${contributorId}'s reputation is stored but did not reach every coordinator: ${err.message}`,
            ),
          );
        });
      }),
  );
}
