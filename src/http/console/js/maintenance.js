// Maintenance: sizes and estimated bloat from the instance down to a table
// (#/maintenance[/db[/schema[/table]]]), VACUUM / ANALYZE / REINDEX run now, at a
// time or on a cron schedule, and the task list (/maintenance/tasks) with Cancel.

import { get, post, del, seg } from './api.js';
import { h, clear, message, flash, confirm, SortableTable, field, bytes, num } from './ui.js';

const OPS = ['vacuum', 'analyze', 'reindex'];
const TASKS_REFRESH_MS = 3000;
const TASKS_SHOWN = 100;

const link = (href, text) => h('a', { href, class: 'object-link' }, text);
const size = (key) => ({ key, label: labelOf(key), num: true, render: (r) => bytes(r[key]) });

function labelOf(key) {
  return {
    total_bytes: 'Total',
    tables_bytes: 'Tables',
    table_bytes: 'Table',
    indexes_bytes: 'Indexes',
    index_bytes: 'Indexes',
    toast_bytes: 'TOAST',
    tables_bloat_bytes: 'Table bloat',
    indexes_bloat_bytes: 'Index bloat',
    bloat_bytes: 'Bloat',
    index_bloat_bytes: 'Index bloat',
  }[key];
}

export default {
  title: 'Maintenance',
  plugin: 'maintenance',
  mount(root, ctx) {
    const [db, schema, table] = ctx.args;
    const base = '#/maintenance';
    const crumbs = [link(base, 'Instance')];
    if (db) crumbs.push(' / ', link(`${base}/${seg(db)}`, db));
    if (schema) crumbs.push(' / ', link(`${base}/${seg(db)}/${seg(schema)}`, schema));
    if (table) crumbs.push(' / ', h('span', null, table));
    const error = h('div');
    const content = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    // In the agent's order (newest first) until a column is clicked.
    let statuses = new Map(); // task id -> status at the last refresh
    const tasks = new SortableTable(taskColumns(ctx, cancelTask), { empty: 'No task.' });
    clear(
      root,
      h('h1', null, 'Maintenance'),
      h('p', { class: 'crumbs' }, crumbs),
      error,
      content,
      h('section', { class: 'card tasks' }, h('h2', null, `Tasks (the last ${TASKS_SHOWN}, newest first)`), tasks.el),
    );

    async function load() {
      try {
        if (table) {
          const t = await get(`/maintenance/${seg(db)}/schema/${seg(schema)}/table/${seg(table)}`);
          if (ctx.alive()) renderTable(t);
        } else if (schema) {
          const s = await get(`/maintenance/${seg(db)}/schema/${seg(schema)}`);
          if (ctx.alive()) renderSchema(s);
        } else if (db) {
          const d = await get(`/maintenance/${seg(db)}`);
          if (ctx.alive()) renderDatabase(d);
        } else {
          const i = await get('/maintenance');
          if (ctx.alive()) renderInstance(i);
        }
      } catch (e) {
        clear(content);
        clear(error, message('error', `Maintenance: ${e.message}`));
      }
    }

    function renderInstance(i) {
      const t = new SortableTable(
        [
          { key: 'datname', label: 'Database', render: (r) => link(`${base}/${seg(r.datname)}`, r.datname) },
          size('total_bytes'),
          size('tables_bytes'),
          size('indexes_bytes'),
          size('toast_bytes'),
          size('tables_bloat_bytes'),
          size('indexes_bloat_bytes'),
          { key: 'n_tables', label: 'Tables #', num: true, render: (r) => num(r.n_tables) },
          { key: 'n_indexes', label: 'Indexes #', num: true, render: (r) => num(r.n_indexes) },
        ],
        { sortKey: 'total_bytes', desc: true, empty: 'No database.' },
      );
      t.update(i.databases || []);
      clear(content, h('section', { class: 'card' }, h('h2', null, `Databases · ${i.instance?.total_size ?? ''}`), t.el));
    }

    function renderDatabase(d) {
      const t = new SortableTable(
        [
          { key: 'name', label: 'Schema', render: (r) => link(`${base}/${seg(db)}/${seg(r.name)}`, r.name) },
          size('total_bytes'),
          size('tables_bytes'),
          size('indexes_bytes'),
          size('toast_bytes'),
          size('tables_bloat_bytes'),
          size('indexes_bloat_bytes'),
          { key: 'n_tables', label: 'Tables #', num: true },
          { key: 'n_indexes', label: 'Indexes #', num: true },
        ],
        { sortKey: 'total_bytes', desc: true, empty: 'No schema.' },
      );
      t.update(d.schemas || []);
      clear(
        content,
        h('section', { class: 'card' }, h('h2', null, `Schemas of ${db} · ${d.total_size ?? ''}`), t.el),
        ctx.canWrite ? actionForm(`/maintenance/${seg(db)}`, `database ${db}`) : null,
      );
    }

    function renderSchema(s) {
      const t = new SortableTable(
        [
          { key: 'name', label: 'Table', render: (r) => link(`${base}/${seg(db)}/${seg(schema)}/${seg(r.name)}`, r.name) },
          { key: 'row_estimate', label: 'Rows (est.)', num: true, render: (r) => num(r.row_estimate) },
          size('total_bytes'),
          size('table_bytes'),
          size('index_bytes'),
          size('toast_bytes'),
          size('bloat_bytes'),
          size('index_bloat_bytes'),
          { key: 'n_indexes', label: 'Indexes #', num: true },
        ],
        { sortKey: 'total_bytes', desc: true, empty: 'No table in this schema.' },
      );
      t.update(s.tables || []);
      clear(content, h('section', { class: 'card' }, h('h2', null, `Tables of ${schema} · ${s.size ?? ''}`), t.el));
    }

    function renderTable(t) {
      const facts = [
        ['Rows (live / dead)', `${num(t.n_live_tup)} / ${num(t.n_dead_tup)}`],
        ['Modified since analyze', num(t.n_mod_since_analyze)],
        ['Sizes', `${t.total_size} total · ${t.table_size} table · ${t.index_size} indexes · ${t.toast_size} TOAST`],
        ['Bloat (est.)', `${t.bloat_size} table · ${t.index_bloat_size} indexes`],
        ['Last vacuum', `${t.last_vacuum ?? 'never'} (auto: ${t.last_autovacuum ?? 'never'})`],
        ['Last analyze', `${t.last_analyze ?? 'never'} (auto: ${t.last_autoanalyze ?? 'never'})`],
        ['Scans (seq / index)', `${num(t.seq_scan)} / ${num(t.idx_scan)}`],
        ['Fillfactor', t.fillfactor],
      ];
      const indexes = new SortableTable(
        [
          { key: 'name', label: 'Index' },
          { key: 'type', label: 'Type' },
          size('total_bytes'),
          size('bloat_bytes'),
          { key: 'scans', label: 'Scans', num: true },
          { key: 'def', label: 'Definition', render: (r) => h('code', { class: 'small' }, r.def) },
          ...(ctx.canWrite
            ? [{ key: 'reindex', label: '', sort: false, render: (r) => h('button', { type: 'button', class: 'small reindex-index', on: { click: () => reindexIndex(r.name) } }, 'REINDEX') }]
            : []),
        ],
        { sortKey: 'name', empty: 'No index.' },
      );
      indexes.update(t.indexes || []);
      clear(
        content,
        h('section', { class: 'card' }, h('h2', null, `${schema}.${table}`), h('dl', { class: 'facts-list' }, facts.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]))),
        h('section', { class: 'card' }, h('h2', null, 'Indexes'), indexes.el),
        ctx.canWrite ? actionForm(`/maintenance/${seg(db)}/schema/${seg(schema)}/table/${seg(table)}`, `table ${schema}.${table}`) : null,
      );
    }

    async function reindexIndex(index) {
      if (!(await confirm(`REINDEX index ${schema}.${index}?`, 'It runs now; writes to the table wait meanwhile.', 'REINDEX'))) return;
      await schedule(`/maintenance/${seg(db)}/schema/${seg(schema)}/index/${seg(index)}/reindex`, {}, `REINDEX of index ${index}`);
    }

    async function schedule(path, body, what) {
      try {
        const answer = await post(path, body);
        flash('ok', `${what}: task ${answer.id} scheduled.`);
      } catch (e) {
        flash('error', `${what}: ${e.message}`);
      }
      loadTasks();
    }

    function actionForm(path, object) {
      const op = h('select', { class: 'op' }, OPS.map((o) => h('option', { value: o }, o.toUpperCase())));
      const modes = ['full', 'freeze', 'analyze'].map((m) => h('input', { type: 'checkbox', value: m, class: 'mode' }));
      const modeBox = h('span', { class: 'modes' }, modes.map((box) => h('label', { class: 'check' }, box, box.value.toUpperCase())));
      const when = h('select', { class: 'when' }, h('option', { value: 'now' }, 'now'), h('option', { value: 'at' }, 'at a time'), h('option', { value: 'cron' }, 'on a schedule (cron, UTC)'));
      const at = h('input', { type: 'datetime-local', class: 'at', step: 1, hidden: true });
      const cron = h('input', { class: 'cron', placeholder: '0 3 * * sun', hidden: true });
      const run = h('button', { type: 'button', class: 'primary run-maintenance' }, 'Run');
      const sync = () => {
        modeBox.hidden = op.value !== 'vacuum';
        at.hidden = when.value !== 'at';
        cron.hidden = when.value !== 'cron';
        run.textContent = when.value === 'now' ? 'Run' : 'Schedule';
      };
      op.addEventListener('change', sync);
      when.addEventListener('change', sync);
      run.addEventListener('click', async () => {
        const body = {};
        if (op.value === 'vacuum') {
          const mode = modes.filter((b) => b.checked).map((b) => b.value).join(',');
          if (mode) body.mode = mode;
        }
        let whenText = 'now';
        if (when.value === 'at') {
          if (!at.value) return flash('error', 'Choose a date and time.');
          body.datetime = new Date(at.value).toISOString().slice(0, 19) + 'Z';
          whenText = `at ${body.datetime}`;
        } else if (when.value === 'cron') {
          body.cron = cron.value.trim();
          whenText = `on the schedule "${body.cron}" (UTC)`;
        }
        const what = `${op.value.toUpperCase()}${body.mode ? ` (${body.mode.toUpperCase()})` : ''} of ${object}`;
        if (!(await confirm(`${what}?`, `It runs ${whenText}.${body.mode?.includes('full') ? ' VACUUM FULL locks the table exclusively while it rewrites it.' : ''}`, when.value === 'now' ? 'Run' : 'Schedule'))) return;
        schedule(`${path}/${op.value}`, body, what);
      });
      sync();
      return h(
        'section',
        { class: 'card maintenance-form' },
        h('h2', null, `Run on ${object}`),
        h('div', { class: 'toolbar' }, field('Operation', op), modeBox, field('When', when), at, cron, run),
      );
    }

    async function loadTasks() {
      try {
        const list = await get(`/maintenance/tasks?limit=${TASKS_SHOWN}`);
        if (!ctx.alive()) return;
        tasks.update(list);
        // A task that just ended changed the statistics shown above: read them again.
        const ended = list.some((t) => ['todo', 'doing'].includes(statuses.get(t.id)) && ['done', 'failed'].includes(t.status));
        statuses = new Map(list.map((t) => [t.id, t.status]));
        if (ended) load();
      } catch (e) {
        clear(error, message('error', `Tasks: ${e.message}`));
      }
    }

    async function cancelTask(task) {
      if (!(await confirm(`Cancel task ${task.id}?`, `${task.operation.toUpperCase()} of ${objectOf(task)}${task.cron ? `, schedule "${task.cron}"` : ''}.`, 'Cancel task'))) return;
      try {
        await del(`/maintenance/${task.operation}/${task.id}`);
        flash('ok', `Task ${task.id} cancelled.`);
      } catch (e) {
        flash('error', `Task ${task.id}: ${e.message}`);
      }
      loadTasks();
    }

    load();
    loadTasks();
    ctx.every(TASKS_REFRESH_MS, loadTasks);
  },
};

function objectOf(t) {
  if (t.index) return `index ${t.schema}.${t.index} (${t.dbname})`;
  if (t.table) return `table ${t.schema}.${t.table} (${t.dbname})`;
  return `database ${t.dbname}`;
}

function taskColumns(ctx, cancelTask) {
  const cols = [
    { key: 'id', label: 'Task', render: (t) => h('code', null, t.id) },
    { key: 'operation', label: 'Operation', render: (t) => `${t.operation.toUpperCase()}${t.mode ? ` (${t.mode})` : ''}` },
    { key: 'object', label: 'Object', value: objectOf, render: objectOf },
    { key: 'datetime', label: 'When (UTC)', render: (t) => (t.cron ? [t.datetime, h('br'), h('span', { class: 'muted small' }, `cron ${t.cron}`)] : t.datetime) },
    { key: 'status', label: 'Status', render: (t) => h('span', { class: `badge status-${t.status}` }, t.status) },
    { key: 'started', label: 'Started' },
    { key: 'finished', label: 'Finished' },
    { key: 'error', label: 'Error', render: (t) => (t.error ? h('span', { class: 'error small' }, t.error) : '') },
  ];
  if (ctx.canWrite) {
    cols.push({
      key: 'cancel',
      label: '',
      sort: false,
      render: (t) => (t.status === 'todo' ? h('button', { type: 'button', class: 'small danger cancel-task', data: { task: t.id }, on: { click: () => cancelTask(t) } }, 'Cancel') : ''),
    });
  }
  return cols;
}
