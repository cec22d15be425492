// Probes: the latest values the monitoring collector recorded (/monitoring/history
// without `start` answers the most recent record), one table per probe.

import { get } from './api.js';
import { h, clear, message, SortableTable, card } from './ui.js';

const REFRESH_MS = 30000;

export default {
  title: 'Probes',
  plugin: 'monitoring',
  mount(root, ctx) {
    const head = h('p', { class: 'muted' });
    const error = h('div');
    const body = h('div', { class: 'probes' }, h('p', { class: 'muted' }, 'Loading…'));
    clear(root, h('h1', null, 'Monitoring probes'), head, error, body);

    async function load() {
      try {
        const [config, history] = await Promise.all([get('/monitoring/config'), get('/monitoring/history')]);
        if (!ctx.alive()) return;
        clear(error);
        const record = history[history.length - 1];
        if (!record) {
          clear(head, `The collector runs every ${config.scheduler_interval} s and has not recorded anything yet.`);
          clear(body);
          return;
        }
        clear(head, `Latest record: ${record.datetime} · collected every ${config.scheduler_interval} s · databases: ${(config.dbnames || []).join(', ')}`);
        const probes = Object.entries(record.data || {}).sort(([a], [b]) => a.localeCompare(b));
        const empty = probes.filter(([, rows]) => !rows.length).map(([name]) => name);
        clear(
          body,
          empty.length ? h('p', { class: 'muted' }, `No row in the latest record: ${empty.join(', ')}.`) : null,
          probes.filter(([, rows]) => rows.length).map(([name, rows]) => {
            const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'datetime');
            const table = new SortableTable(
              keys.map((k) => ({ key: k, label: k, num: typeof rows[0][k] === 'number', render: (r) => show(r[k]) })),
              { sortKey: keys.includes('dbname') ? 'dbname' : null },
            );
            table.update(rows);
            const section = card(name, table.el);
            section.dataset.probe = name;
            return section;
          }),
        );
      } catch (e) {
        clear(error, message('error', `Monitoring: ${e.message}`));
      }
    }

    load();
    ctx.every(REFRESH_MS, load);
  },
};

function show(value) {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'number' && !Number.isInteger(value)) return value.toFixed(2);
  return String(value);
}
