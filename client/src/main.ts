/**
 * Entry of the contribute page (client/index.html, served by the coordinator at `/`): creates
 * the browser contributor against the coordinator that served the page and mounts the UI.
 * `?autostart=1` starts contributing without a click (kiosks, demos, Playwright tests).
 */
import { createBrowserContributor } from '@gridtab/client/runtime';
import { mount } from 'svelte';
import ContributePage from './ui/contribute/ContributePage.svelte';
import { ContributeModel } from './ui/contribute/contribute-model.svelte.ts';
import './ui/theme.css';

const target = document.getElementById('app')!;

async function main(): Promise<void> {
  const coordinatorUrl = window.location.origin;
  // Async because it opens the IndexedDB cache first.
  const contributor = await createBrowserContributor({ coordinatorUrl });
  const model = new ContributeModel(contributor, coordinatorUrl);
  model.connect();
  mount(ContributePage, { target, props: { model } });

  const autostart = new URLSearchParams(window.location.search).get('autostart');
  if (autostart === '1' || autostart === 'true') void model.start();
}

main().catch((err: unknown) => {
  // Without a runtime there is no page to mount; say why instead of leaving it blank.
  const p = document.createElement('p');
  p.setAttribute('role', 'alert');
  p.style.padding = '2rem';
  p.textContent = `GridTab could not start in this browser: ${err instanceof Error ? err.message : String(err)}`;
  target.replaceChildren(p);
  console.error(err);
});
