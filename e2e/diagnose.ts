/**
 * Playwright's `test` with what a failed run needs to be understood from its output alone (CI
 * keeps no traces we can open): every tab's console, each tab's contributor state (phase,
 * backend and scores, timing) and the tail of every coordinator's log started in the test,
 * printed only when the test fails.
 */
import { type BrowserContext, test as base } from '@playwright/test';
import { startedCoordinators } from './coordinator.ts';

const KEEP_LINES = 80;
const NOISE = /GL Driver Message|Failed to load resource/;

export const test = base.extend<{ diagnose: undefined }>({
  diagnose: [
    async ({ browser }, use, info) => {
      const lines: string[] = [];
      const contexts: BrowserContext[] = [];
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (options) => {
        const context = await newContext(options);
        contexts.push(context);
        context.on('console', (m) => {
          if (!NOISE.test(m.text()))
            lines.push(`${new Date().toISOString().slice(11, 23)} ${m.type()} ${m.text().slice(0, 400)}`);
        });
        return context;
      };
      const coordinatorsBefore = startedCoordinators.length;
      await use(undefined);
      browser.newContext = newContext;
      if (info.status === info.expectedStatus) return;
      const out: string[] = [`---- diagnosis of "${info.title}" (${info.status})`];
      for (const page of contexts.flatMap((c) => c.pages())) {
        const state = await page
          .evaluate(() => {
            const s = (window as unknown as { __gridtab?: { state: Record<string, unknown> } }).__gridtab
              ?.state;
            if (!s) return null;
            const { phase, chosenBackend, backends, unitsDone, lastError, timing } = s;
            return { phase, chosenBackend, backends, unitsDone, lastError, timing };
          })
          .catch((e: Error) => `unreadable: ${e.message.split('\n')[0]}`);
        out.push(`tab ${page.url()}: ${JSON.stringify(state)}`);
      }
      out.push(`tab console (last ${KEEP_LINES} of ${lines.length} lines):`, ...lines.slice(-KEEP_LINES));
      for (const co of startedCoordinators.slice(coordinatorsBefore))
        out.push(`coordinator ${co.url} log (last 40 lines):`, ...co.log.slice(-40));
      console.log(out.join('\n'));
    },
    { auto: true },
  ],
});
