// Notifications: the agent's audit trail (logins, changes, maintenance, refusals),
// newest first, with a search.

import { get } from './api.js';
import { h, clear, message, SortableTable, field } from './ui.js';

const REFRESH_MS = 10000;

export default {
  title: 'Notifications',
  plugin: null,
  mount(root, ctx) {
    let rows = [];
    const search = h('input', { type: 'search', placeholder: 'user or message', id: 'notifications-search' });
    const error = h('div');
    const table = new SortableTable(
      [
        { key: 'date', label: 'Date' },
        { key: 'username', label: 'User' },
        { key: 'message', label: 'Message' },
      ],
      { sortKey: 'date', desc: true, empty: 'No notification.' },
    );
    search.addEventListener('input', render);
    clear(root, h('h1', null, 'Notifications'), error, h('div', { class: 'toolbar' }, field('Search', search)), table.el);

    function render() {
      const text = search.value.trim().toLowerCase();
      table.update(rows.filter((r) => !text || `${r.username} ${r.message}`.toLowerCase().includes(text)));
    }

    async function load() {
      try {
        rows = await get('/notifications');
        if (!ctx.alive()) return;
        clear(error);
        render();
      } catch (e) {
        clear(error, message('error', `Notifications: ${e.message}`));
      }
    }

    load();
    ctx.every(REFRESH_MS, load);
  },
};
