// The console's entry point: login and logout, the navigation between pages (the
// part of the URL after '#', which never holds the session), and the PostgreSQL
// state banner. Each page module exports {title, plugin, mount(root, ctx)}; mount
// answers nothing or a cleanup function, and `ctx.every` timers stop by themselves
// when the user leaves the page.

import { get, post, setSession, on, ApiError } from './api.js';
import { h, clear, flash, shortVersion } from './ui.js';
import overview from './overview.js';
import activity from './activity.js';
import statements, { startSnapshots, stopSnapshots } from './statements.js';
import configuration from './configuration.js';
import maintenance from './maintenance.js';
import probes from './probes.js';
import notifications from './notifications.js';

const PAGES = { overview, activity, statements, configuration, maintenance, probes, notifications };
const ORDER = ['overview', 'activity', 'statements', 'configuration', 'maintenance', 'probes', 'notifications'];
const STATUS_INTERVAL_MS = 5000;

const state = {
  profile: null,
  discover: null,
  plugins: [],
  current: null, // {name, cleanup, timers, alive}
  statusTimer: null,
  pgState: 'unknown',
  pgSince: null,
};

const $ = (id) => document.getElementById(id);

function availablePages() {
  return ORDER.filter((name) => !PAGES[name].plugin || state.plugins.includes(PAGES[name].plugin));
}

// ---- login ------------------------------------------------------------------

async function showLoginHost() {
  try {
    const d = await get('/discover');
    clear($('login-host'), `${d.hostname} · ${shortVersion(d.pg_version)} · port ${d.pg_port ?? '–'}`);
  } catch {
    // The login form works without it.
  }
}

async function login(event) {
  event.preventDefault();
  const button = $('login-submit');
  const error = $('login-error');
  error.textContent = '';
  button.disabled = true;
  try {
    const answer = await post('/login', { username: $('username').value, password: $('password').value });
    setSession(answer.session);
    $('password').value = '';
    await start();
  } catch (e) {
    setSession(null);
    error.textContent = e instanceof ApiError ? e.message : String(e);
  } finally {
    button.disabled = false;
  }
}

async function start() {
  const [profile, discover] = await Promise.all([get('/profile?role=true'), get('/discover')]);
  state.profile = profile;
  state.discover = discover;
  state.plugins = discover.plugins || [];
  document.body.classList.toggle('read-only', !canWrite());
  clear($('who'), h('b', null, profile.username), ` (${canWrite() ? 'admin' : 'read-only'})`);
  clear($('brand-host'), discover.hostname || 'temboard-agent');
  document.title = `${discover.hostname} – temboard-agent`;
  clear(
    $('nav'),
    availablePages().map((name) => h('a', { href: `#/${name}`, data: { page: name } }, PAGES[name].title)),
  );
  $('login').hidden = true;
  $('shell').hidden = false;
  state.statusTimer = setInterval(checkPostgres, STATUS_INTERVAL_MS);
  checkPostgres();
  if (state.plugins.includes('statements')) startSnapshots();
  route();
}

function canWrite() {
  // A user without a role (an agent older than roles) is an admin, as in the users file.
  return state.profile && state.profile.role !== 'read';
}

async function logout(reason) {
  unmount();
  clearInterval(state.statusTimer);
  stopSnapshots();
  try {
    if (typeof reason !== 'string') await get('/logout');
  } catch {
    // Logging out locally is what matters; the session expires on the agent anyway.
  }
  setSession(null);
  state.profile = null;
  $('shell').hidden = true;
  $('login').hidden = false;
  clear($('page'));
  $('login-error').textContent = typeof reason === 'string' ? reason : '';
  history.replaceState(null, '', '#');
  $('username').focus();
}

// ---- PostgreSQL state -------------------------------------------------------

async function checkPostgres() {
  let pg = null;
  try {
    // /status carried a `postgres` key before /status/postgres existed.
    const status = await get('/status');
    pg = status.postgres ?? (await get('/status/postgres'));
  } catch (e) {
    showBanner(`The agent cannot be reached: ${e.message}`);
    return;
  }
  state.pgState = pg.state;
  state.pgSince = pg.since;
  if (pg.state === 'up') {
    if (!$('banner').hidden) flash('ok', 'PostgreSQL is back.');
    $('banner').hidden = true;
  } else {
    showBanner(`PostgreSQL is ${pg.state} since ${pg.since ?? 'an unknown time'}: pages that need it show errors and recover when it is back.`);
  }
}

function showBanner(text) {
  const banner = $('banner');
  clear(banner, text);
  banner.hidden = false;
}

// ---- pages ------------------------------------------------------------------

function unmount() {
  const current = state.current;
  if (!current) return;
  current.alive = false;
  current.timers.forEach(clearInterval);
  if (typeof current.cleanup === 'function') current.cleanup();
  state.current = null;
}

function route() {
  if (!state.profile) return;
  const [name, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const pages = availablePages();
  const page = pages.includes(name) ? name : pages[0];
  if (!page) {
    clear($('page'), h('p', { class: 'message error' }, 'No plugin of the console is enabled on this agent.'));
    return;
  }
  unmount();
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('active', link.dataset.page === page);
  }
  const root = h('div', { class: `page page-${page}`, data: { page } });
  clear($('page'), root);
  const current = { name: page, timers: [], alive: true, cleanup: null };
  const ctx = {
    canWrite: canWrite(),
    profile: state.profile,
    discover: state.discover,
    args: rest.map(decodeURIComponent),
    alive: () => current.alive,
    pgState: () => ({ state: state.pgState, since: state.pgSince }),
    every: (ms, fn) => current.timers.push(setInterval(() => current.alive && fn(), ms)),
    go: (hash) => {
      location.hash = hash;
    },
  };
  state.current = current;
  try {
    current.cleanup = PAGES[page].mount(root, ctx);
  } catch (e) {
    clear(root, h('p', { class: 'message error' }, `This page failed: ${e.message}`));
  }
}

// ---- start ------------------------------------------------------------------

on('expired', () => logout('Your session has expired: please log in again.'));
on('pgdown', () => checkPostgres());
window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (event) => {
  // A failed request that a page did not catch still shows as a message.
  const reason = event.reason;
  flash('error', reason instanceof Error ? reason.message : String(reason));
  event.preventDefault();
});
$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', logout);
showLoginHost();
$('username').focus();
