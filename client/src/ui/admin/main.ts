/**
 * Entry of the admin console (client/admin.html, served at /admin): mounts the console over a
 * ConsoleModel, follows the URL hash for the page, and signs in again with the tab's token.
 */
import { mount } from 'svelte';
import AdminPage from './AdminPage.svelte';
import { ConsoleModel, pageFromHash } from './console-model.svelte.ts';
import '../theme.css';
import './admin.css';

const model = new ConsoleModel(window.location.origin, window.sessionStorage);
const follow = () => model.go(pageFromHash(window.location.hash));
window.addEventListener('hashchange', follow);
follow();
mount(AdminPage, { target: document.getElementById('app')!, props: { model } });
model.resume();
