// Activity: the backends now (running, waiting for a lock, blocking others), as
// pg_activity shows them: sortable, filtered, refreshed every 2 s, with Cancel
// (pg_cancel_backend) and Terminate (pg_terminate_backend) after a confirmation.

import { get, post } from './api.js';
import { h, clear, message, flash, confirm, dialogOpen, SortableTable, queryText, field, num, seconds } from './ui.js';

const REFRESH_MS = 2000;
const LISTS = [
  { id: 'running', label: 'Running', path: '/activity' },
  { id: 'waiting', label: 'Waiting', path: '/activity/waiting' },
  { id: 'blocking', label: 'Blocking', path: '/activity/blocking' },
];

function columns(list, ctx, act, expanded) {
  const common = [
    { key: 'pid', label: 'PID', num: true },
    { key: 'database', label: 'Database' },
    { key: 'user', label: 'User' },
  ];
  const os = [
    { key: 'cpu', label: 'CPU %', num: true, render: (r) => num(r.cpu, 2) },
    { key: 'memory', label: 'Mem %', num: true, render: (r) => num(r.memory, 2) },
    { key: 'read_s', label: 'Read/s', num: true, value: (r) => rate(r.read_s) },
    { key: 'write_s', label: 'Write/s', num: true, value: (r) => rate(r.write_s) },
  ];
  const specific =
    list === 'running'
      ? [{ key: 'client', label: 'Client' }, ...os, { key: 'iow', label: 'IOW' }, { key: 'wait', label: 'Wait' }]
      : [...os, { key: 'relation', label: 'Relation' }, { key: 'type', label: 'Lock type' }, { key: 'mode', label: 'Mode' }];
  const cols = [
    ...common,
    ...specific,
    { key: 'state', label: 'State' },
    { key: 'duration', label: 'Duration', num: true, render: (r) => seconds(r.duration) },
    { key: 'query', label: 'Query', render: (r) => queryText(r.query, expanded, r.pid), sort: false },
  ];
  if (ctx.canWrite) {
    cols.push({
      key: 'actions',
      label: '',
      sort: false,
      render: (r) =>
        h(
          'span',
          { class: 'actions' },
          h('button', { type: 'button', class: 'small cancel-backend', data: { pid: r.pid }, on: { click: () => act('cancel', r) } }, 'Cancel'),
          h('button', { type: 'button', class: 'small danger terminate-backend', data: { pid: r.pid }, on: { click: () => act('kill', r) } }, 'Terminate'),
        ),
    });
  }
  return cols;
}

/** '1.25M' -> bytes, for sorting the human-readable rates. */
function rate(text) {
  if (!text) return null;
  const m = /^([\d.]+)([BKMGT]?)/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 1024 ** 'BKMGT'.indexOf(m[2] || 'B');
}

export default {
  title: 'Activity',
  plugin: 'activity',
  mount(root, ctx) {
    let list = 'running';
    let data = { running: [], waiting: [], blocking: [] };
    const expanded = new Set(); // pids whose query text is shown whole
    let knownDatabases = '';
    const tables = Object.fromEntries(
      LISTS.map((l) => [l.id, new SortableTable(columns(l.id, ctx, act, expanded), { sortKey: 'duration', desc: true, empty: 'No backend.' })]),
    );
    const search = h('input', { type: 'search', placeholder: 'query, user, database, client', id: 'activity-search' });
    const database = h('select', { id: 'activity-database' }, h('option', { value: '' }, 'all'));
    const minDuration = h('input', { type: 'number', min: 0, step: 'any', placeholder: '0', id: 'activity-min-duration', class: 'narrow' });
    const hideIdle = h('input', { type: 'checkbox', checked: true, id: 'activity-hide-idle' });
    const auto = h('input', { type: 'checkbox', checked: true, id: 'activity-auto' });
    const tabs = h('div', { class: 'tabs', role: 'tablist' });
    const error = h('div');
    const holder = h('div');
    const updated = h('span', { class: 'muted' });
    for (const input of [search, database, minDuration, hideIdle]) input.addEventListener('input', render);
    clear(
      root,
      h('h1', null, 'Activity'),
      error,
      h(
        'div',
        { class: 'toolbar' },
        field('Search', search),
        field('Database', database),
        field('Min. duration (s)', minDuration),
        h('label', { class: 'check' }, hideIdle, 'Hide idle sessions'),
        h('label', { class: 'check' }, auto, `Refresh every ${REFRESH_MS / 1000} s`),
        updated,
      ),
      tabs,
      holder,
    );

    function render() {
      clear(
        tabs,
        LISTS.map((l) =>
          h(
            'button',
            { type: 'button', role: 'tab', class: l.id === list ? 'tab active' : 'tab', data: { list: l.id }, on: { click: () => ((list = l.id), render()) } },
            `${l.label} (${data[l.id].length})`,
          ),
        ),
      );
      const dbs = [...new Set(Object.values(data).flat().map((r) => r.database).filter(Boolean))].sort();
      const chosen = database.value;
      // Rebuilt only when the databases change: an open drop-down stays open.
      if (dbs.join('\n') !== knownDatabases) {
        knownDatabases = dbs.join('\n');
        clear(database, h('option', { value: '' }, 'all'), dbs.map((d) => h('option', { value: d, selected: d === chosen }, d)));
        database.value = dbs.includes(chosen) ? chosen : '';
      }
      const text = search.value.trim().toLowerCase();
      const min = Number(minDuration.value) || 0;
      const rows = data[list].filter(
        (r) =>
          (!database.value || r.database === database.value) &&
          (r.duration ?? 0) >= min &&
          !(list === 'running' && hideIdle.checked && r.state === 'idle') &&
          (!text || [r.query, r.user, r.database, r.client, String(r.pid)].some((v) => v && v.toLowerCase().includes(text))),
      );
      tables[list].update(rows);
      clear(holder, tables[list].el);
    }

    async function refresh() {
      try {
        const answers = await Promise.all(LISTS.map((l) => get(l.path)));
        if (!ctx.alive()) return;
        LISTS.forEach((l, i) => (data[l.id] = answers[i].rows || []));
        clear(error);
        clear(updated, `updated ${new Date().toLocaleTimeString('en-GB')}`);
        render();
      } catch (e) {
        clear(error, message('error', `Activity: ${e.message}`));
      }
    }

    async function act(action, row) {
      const verb = action === 'cancel' ? 'Cancel the query of' : 'Terminate';
      const ok = await confirm(
        `${verb} backend ${row.pid}?`,
        [
          h('p', null, action === 'cancel' ? 'The running query is cancelled; the session stays connected.' : 'The session is disconnected; an open transaction is rolled back.'),
          h('p', null, h('b', null, `${row.user ?? '?'}@${row.database ?? '?'}`), ` · ${row.state ?? ''} · ${seconds(row.duration)}`),
          h('pre', { class: 'query' }, row.query ?? ''),
        ],
        action === 'cancel' ? 'Cancel query' : 'Terminate backend',
      );
      if (!ok) return;
      try {
        const answer = await post(`/activity/${action}`, { pids: [row.pid] });
        const done = (answer.backends || []).find((b) => b.pid === row.pid);
        const success = done && (done.cancelled ?? done.killed);
        flash(success ? 'ok' : 'warning', success ? `Backend ${row.pid}: ${action === 'cancel' ? 'query cancelled' : 'terminated'}.` : `Backend ${row.pid} was not ${action === 'cancel' ? 'cancelled' : 'terminated'} (gone already?).`);
      } catch (e) {
        flash('error', `Backend ${row.pid}: ${e.message}`);
      }
      refresh();
    }

    render();
    refresh();
    ctx.every(REFRESH_MS, () => {
      // Rows do not move under the user's pointer while a confirmation is open.
      if (auto.checked && !dialogOpen()) refresh();
    });
  },
};
