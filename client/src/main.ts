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

const coordinatorUrl = window.location.origin;
const model = new ContributeModel(createBrowserContributor({ coordinatorUrl }), coordinatorUrl);

model.connect();
mount(ContributePage, { target: document.getElementById('app')!, props: { model } });

const autostart = new URLSearchParams(window.location.search).get('autostart');
if (autostart === '1' || autostart === 'true') void model.start();
