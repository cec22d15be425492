// Statements: the top queries of pg_stat_statements by total time, calls or mean
// time, cumulative or over the last 5 minutes. "Last 5 minutes" is the difference
// since a snapshot the agent answered about 5 minutes ago (`since`): from login on,
// the console asks for a one-row snapshot every minute and remembers its time. The
// agent keeps only its last 10 snapshots, so this page does not refresh by itself
// (each refresh is a snapshot too).

import { get } from './api.js';
import { h, clear, message, SortableTable, queryText, field, num, ms } from './ui.js';

const WINDOW_MS = 5 * 60 * 1000;
const SNAPSHOT_EVERY_MS = 60 * 1000;
const KEPT = 12;
let snapshots = []; // [{at: epoch ms, id: snapshot_datetime}], oldest first
let snapshotTimer = null;

function remember(id) {
  if (!id) return;
  snapshots.push({ at: Date.now(), id });
  snapshots = snapshots.slice(-KEPT);
}

export function startSnapshots() {
  const take = async () => {
    try {
      remember((await get('/statements?limit=1&text=false')).snapshot_datetime);
    } catch {
      // pg_stat_statements missing or PostgreSQL down: the page says so when opened.
      stopSnapshots();
    }
  };
  take();
  snapshotTimer = setInterval(take, SNAPSHOT_EVERY_MS);
}

export function stopSnapshots() {
  clearInterval(snapshotTimer);
  snapshotTimer = null;
  snapshots = [];
}

/** The snapshot to diff against: the newest at least 5 minutes old, else the oldest. */
function baseline() {
  const old = snapshots.filter((s) => Date.now() - s.at >= WINDOW_MS);
  return old.length ? old[old.length - 1] : snapshots[0] ?? null;
}

export default {
  title: 'Statements',
  plugin: 'statements',
  mount(root, ctx) {
    const order = h(
      'select',
      { id: 'statements-order' },
      h('option', { value: 'total_time' }, 'total time'),
      h('option', { value: 'calls' }, 'calls'),
      h('option', { value: 'mean_time' }, 'mean time'),
    );
    const period = h(
      'select',
      { id: 'statements-period' },
      h('option', { value: 'all' }, 'since the statistics reset'),
      h('option', { value: 'recent' }, 'last 5 minutes'),
    );
    const limit = h('select', { id: 'statements-limit' }, [20, 50, 100, 500].map((n) => h('option', { value: n, selected: n === 50 }, `top ${n}`)));
    const search = h('input', { type: 'search', placeholder: 'query, user, database', id: 'statements-search' });
    const refreshButton = h('button', { type: 'button', on: { click: () => refresh() } }, 'Refresh');
    const note = h('p', { class: 'muted' });
    const error = h('div');
    let rows = [];
    const table = new SortableTable(
      [
        { key: 'query', label: 'Query', render: (r) => queryText(r.query), sort: false },
        { key: 'datname', label: 'Database' },
        { key: 'rolname', label: 'User' },
        { key: 'calls', label: 'Calls', num: true, render: (r) => num(r.calls) },
        { key: 'total_time', label: 'Total time', num: true, render: (r) => ms(r.total_time) },
        { key: 'mean_time', label: 'Mean time', num: true, render: (r) => ms(r.mean_time) },
        { key: 'rows', label: 'Rows', num: true, render: (r) => num(r.rows) },
        { key: 'hit', label: 'Hit %', num: true, value: hitRatio, render: (r) => num(hitRatio(r), 1), title: 'shared blocks hit / (hit + read)' },
        { key: 'temp', label: 'Temp blocks', num: true, value: (r) => (r.temp_blks_read ?? 0) + (r.temp_blks_written ?? 0), render: (r) => num((r.temp_blks_read ?? 0) + (r.temp_blks_written ?? 0)) },
      ],
      { sortKey: 'total_time', desc: true, empty: 'No statement.' },
    );
    for (const select of [order, period, limit]) select.addEventListener('change', () => refresh());
    search.addEventListener('input', render);
    clear(
      root,
      h('h1', null, 'Statements'),
      error,
      h('div', { class: 'toolbar' }, field('Top by', order), field('Period', period), field('Rows', limit), field('Search', search), refreshButton),
      note,
      table.el,
    );

    function render() {
      const text = search.value.trim().toLowerCase();
      table.update(rows.filter((r) => !text || [r.query, r.datname, r.rolname].some((v) => v && v.toLowerCase().includes(text))));
    }

    async function refresh() {
      const params = new URLSearchParams({ order: order.value, limit: limit.value });
      let base = null;
      if (period.value === 'recent') {
        base = baseline();
        if (base) params.set('since', base.id);
      }
      try {
        const answer = await get(`/statements?${params}`);
        if (!ctx.alive()) return;
        remember(answer.snapshot_datetime);
        rows = answer.data || [];
        table.sortKey = order.value;
        table.desc = true;
        table.renderHead();
        clear(error);
        const minutes = base ? Math.round((Date.now() - base.at) / 6000) / 10 : null;
        clear(
          note,
          period.value === 'all'
            ? `Cumulative since pg_stat_statements was last reset. Snapshot ${answer.snapshot_datetime}.`
            : base
              ? `What ran since ${base.id} (${minutes} min ago${minutes < 5 ? ': the console was opened less than 5 minutes ago' : ''}).`
              : 'No earlier snapshot yet: cumulative figures shown; choose again in a minute.',
        );
        render();
      } catch (e) {
        if (base && e.status === 404) {
          // The agent no longer keeps that snapshot: forget it and try the next one.
          snapshots = snapshots.filter((s) => s !== base);
          return refresh();
        }
        clear(error, message('error', `Statements: ${e.message}`));
      }
    }

    refresh();
  },
};

function hitRatio(r) {
  const total = (r.shared_blks_hit ?? 0) + (r.shared_blks_read ?? 0);
  return total ? (100 * r.shared_blks_hit) / total : null;
}
