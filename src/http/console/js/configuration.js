// Configuration: PostgreSQL's settings by category, searchable; a value is changed
// with ALTER SYSTEM (POST /pgconf/configuration, then the agent reloads) or reset
// (DELETE), and what waits for a restart is shown from /pgconf/configuration/status.

import { get, post, del, seg } from './api.js';
import { h, clear, message, flash, confirm, field } from './ui.js';

const STATUS_REFRESH_MS = 5000;

export default {
  title: 'Configuration',
  plugin: 'pgconf',
  mount(root, ctx) {
    let categories = [];
    let category = '';
    const search = h('input', { type: 'search', placeholder: 'name or description', id: 'settings-search' });
    const pending = h('div');
    const error = h('div');
    const nav = h('nav', { class: 'categories' });
    const list = h('div', { class: 'settings' });
    search.addEventListener('input', render);
    clear(
      root,
      h('h1', null, 'Configuration'),
      pending,
      error,
      h('div', { class: 'toolbar' }, field('Search', search)),
      h('div', { class: 'split' }, nav, list),
    );

    function render() {
      const text = search.value.trim().toLowerCase();
      const matches = (row) => !text || row.name.toLowerCase().includes(text) || (row.desc || '').toLowerCase().includes(text);
      const shown = categories.map((c) => ({ category: c.category, rows: c.rows.filter(matches) })).filter((c) => c.rows.length);
      const total = shown.reduce((n, c) => n + c.rows.length, 0);
      clear(
        nav,
        h('a', { href: '#', class: category === '' ? 'active' : null, on: { click: pick('') } }, `All (${total})`),
        shown.map((c) => h('a', { href: '#', class: c.category === category ? 'active' : null, on: { click: pick(c.category) } }, `${c.category} (${c.rows.length})`)),
      );
      const visible = shown.filter((c) => !category || c.category === category);
      clear(
        list,
        visible.length ? null : h('p', { class: 'muted' }, 'No setting matches.'),
        visible.map((c) => h('section', { class: 'card' }, h('h2', null, c.category), c.rows.map((row) => settingRow(row)))),
      );
    }

    function pick(name) {
      return (event) => {
        event.preventDefault();
        category = name;
        render();
      };
    }

    function settingRow(row) {
      const el = h('div', { class: 'setting', data: { setting: row.name } });
      const show = () =>
        clear(
          el,
          h(
            'div',
            { class: 'setting-head' },
            h('code', { class: 'setting-name' }, row.name),
            row.pending_restart ? h('span', { class: 'badge warning' }, 'restart pending') : null,
            h('span', { class: 'setting-value', data: { value: row.name } }, valueText(row)),
            h('span', { class: 'muted small' }, `default ${row.boot_val ?? '–'}${row.unit ? ' ' + row.unit : ''} · ${row.context}`),
            ctx.canWrite && row.context !== 'internal'
              ? h('button', { type: 'button', class: 'small edit-setting', data: { setting: row.name }, on: { click: edit } }, 'Edit')
              : null,
          ),
          h('p', { class: 'muted small desc' }, row.desc),
        );
      const edit = () => {
        const input = control(row);
        const save = h('button', { type: 'button', class: 'small primary save-setting' }, 'Save');
        const reset = h('button', { type: 'button', class: 'small reset-setting', title: 'ALTER SYSTEM RESET' }, 'Reset to default');
        const cancel = h('button', { type: 'button', class: 'small' }, 'Cancel');
        const problem = h('div');
        cancel.addEventListener('click', show);
        save.addEventListener('click', async () => {
          try {
            await post('/pgconf/configuration', { settings: [{ name: row.name, setting: input.value }] });
            flash('ok', `${row.name} = ${input.value}: written to postgresql.auto.conf, configuration reloaded${row.context === 'postmaster' ? '; PostgreSQL must restart to apply it' : ''}.`);
            load();
          } catch (e) {
            clear(problem, message('error', e.message));
          }
        });
        reset.addEventListener('click', async () => {
          if (!(await confirm(`Reset ${row.name}?`, 'ALTER SYSTEM RESET: the value of postgresql.conf (or the default) applies again.', 'Reset'))) return;
          try {
            await del(`/pgconf/configuration/${seg(row.name)}`);
            flash('ok', `${row.name} reset.`);
            load();
          } catch (e) {
            clear(problem, message('error', e.message));
          }
        });
        input.addEventListener('keydown', (event) => {
          if (event.key === 'Enter') save.click();
          if (event.key === 'Escape') show();
        });
        clear(
          el,
          h('div', { class: 'setting-head' }, h('code', { class: 'setting-name' }, row.name), input, row.unit ? h('span', { class: 'muted' }, row.unit) : null, save, reset, cancel),
          h('p', { class: 'muted small desc' }, row.desc, row.min_val !== null && row.max_val !== null ? ` (${row.min_val} to ${row.max_val})` : ''),
          problem,
        );
        input.focus();
      };
      show();
      return el;
    }

    function showStatus(status) {
      clear(
        pending,
        status.restart_pending
          ? message('warning', [
              'PostgreSQL must be restarted for these changes to apply: ',
              (status.restart_changes || []).map((r) => `${r.name} (${valueText(r)})`).join(', ') || 'see pg_settings.pending_restart',
              '.',
            ])
          : null,
      );
    }

    async function load() {
      try {
        const [all, status] = await Promise.all([get('/pgconf/configuration'), get('/pgconf/configuration/status')]);
        if (!ctx.alive()) return;
        categories = all;
        clear(error);
        showStatus(status);
        render();
      } catch (e) {
        clear(error, message('error', `Configuration: ${e.message}`));
      }
    }

    // The restart state changes behind the page's back too: postgresql.conf
    // edited and reloaded, or PostgreSQL restarted.
    async function loadStatus() {
      try {
        const status = await get('/pgconf/configuration/status');
        if (ctx.alive()) showStatus(status);
      } catch (e) {
        clear(error, message('error', `Configuration: ${e.message}`));
      }
    }

    load();
    ctx.every(STATUS_REFRESH_MS, loadStatus);
  },
};

function valueText(row) {
  const raw = row.setting_raw ?? row.setting;
  if (raw === '' || raw === null) return '(empty)';
  return String(raw);
}

function control(row) {
  const current = String(row.setting_raw ?? row.setting ?? '');
  if (row.vartype === 'bool') {
    return h('select', { class: 'setting-input' }, ['on', 'off'].map((v) => h('option', { value: v, selected: v === current }, v)));
  }
  if (row.vartype === 'enum' && Array.isArray(row.enumvals)) {
    return h('select', { class: 'setting-input' }, row.enumvals.map((v) => h('option', { value: v, selected: v === current }, v)));
  }
  return h('input', { class: 'setting-input', value: current, spellcheck: 'false' });
}
