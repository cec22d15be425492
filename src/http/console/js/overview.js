// Overview: what the host and the instance are, and live charts of the dashboard
// samples: /dashboard/history once, then /dashboard every scheduler_interval
// seconds (/dashboard/config says how often the agent samples); the last events
// from /notifications.

import { get } from './api.js';
import { h, clear, card, message, bytes, num, shortVersion } from './ui.js';
import { LineChart } from './chart.js';

const EVENTS_SHOWN = 8;
const EVENTS_REFRESH_MS = 10000;

function sampleTime(sample) {
  const t = sample.databases?.timestamp ?? sample.timestamp ?? sample.buffers?.time ?? sample.active_backends?.time;
  return t ? t * 1000 : null;
}

function xacts(sample) {
  const d = sample.databases;
  return d && d.total_commit !== undefined ? d.total_commit + d.total_rollback : null;
}

export default {
  title: 'Overview',
  plugin: 'dashboard',
  mount(root, ctx) {
    const info = h('div', { class: 'facts' });
    const error = h('div');
    const charts = {
      cpu: new LineChart({ title: 'CPU (%)', series: ['user', 'system', 'iowait'], max: 100, format: (v) => num(v, 1) }),
      memory: new LineChart({ title: 'Memory (%)', series: ['active', 'cached'], max: 100, format: (v) => num(v, 1) }),
      load: new LineChart({ title: 'Load average (1 min)', series: ['load'], format: (v) => num(v, 2) }),
      tps: new LineChart({ title: 'Transactions per second', series: ['commit+rollback/s'], format: (v) => num(v, 1) }),
      backends: new LineChart({ title: 'Active backends', series: ['active'], format: (v) => num(v, 0) }),
      hitratio: new LineChart({ title: 'Cache hit ratio (%)', series: ['hit ratio'], max: 100, format: (v) => num(v, 1) }),
    };
    const events = h('ul', { class: 'events' });
    clear(
      root,
      h('h1', null, 'Overview'),
      error,
      info,
      h('div', { class: 'charts' }, Object.values(charts).map((c) => c.el)),
      card('Recent events', events),
    );

    let samples = [];
    let length = 150;

    function render() {
      const last = samples[samples.length - 1];
      if (!last) return;
      renderFacts(info, last, ctx);
      const points = samples.map((sample, i) => {
        const t = sampleTime(sample);
        const prev = samples[i - 1];
        let tps = null;
        if (prev) {
          const dt = (t - sampleTime(prev)) / 1000;
          const dx = xacts(sample) - xacts(prev);
          // A statistics reset makes the difference negative: no point then.
          if (dt > 0 && dx >= 0 && xacts(sample) !== null && xacts(prev) !== null) tps = dx / dt;
        }
        return {
          t,
          cpu: [sample.cpu?.user ?? null, sample.cpu?.system ?? null, sample.cpu?.iowait ?? null],
          memory: [sample.memory?.active ?? null, sample.memory?.cached ?? null],
          load: [sample.loadaverage ?? null],
          tps: [tps],
          backends: [sample.active_backends?.nb ?? null],
          hitratio: [sample.hitratio ?? null],
        };
      });
      for (const [key, chart] of Object.entries(charts)) {
        chart.update(points.filter((p) => p.t !== null).map((p) => ({ t: p.t, v: p[key] })));
      }
    }

    async function loadEvents() {
      try {
        const list = await get('/notifications');
        if (!ctx.alive()) return;
        clear(
          events,
          list.length
            ? list.slice(0, EVENTS_SHOWN).map((n) => h('li', null, h('span', { class: 'muted' }, n.date), ' ', h('b', null, n.username), ' ', n.message))
            : h('li', { class: 'muted' }, 'No event yet.'),
        );
      } catch (e) {
        clear(events, h('li', { class: 'error' }, `Notifications: ${e.message}`));
      }
    }

    function add(sample) {
      const last = samples[samples.length - 1];
      if (last && sampleTime(last) === sampleTime(sample)) {
        samples[samples.length - 1] = sample; // the same sample again
      } else {
        samples.push(sample);
        if (samples.length > length) samples = samples.slice(samples.length - length);
      }
    }

    async function poll() {
      try {
        add(await get('/dashboard'));
        clear(error);
        render();
      } catch (e) {
        clear(error, message('error', `Dashboard: ${e.message}`));
      }
    }

    loadEvents();
    ctx.every(EVENTS_REFRESH_MS, loadEvents);
    (async () => {
      try {
        const config = await get('/dashboard/config');
        length = config.history_length || length;
        const history = await get('/dashboard/history');
        if (!ctx.alive()) return;
        samples = (history || []).slice(-length);
        await poll();
        ctx.every((config.scheduler_interval || 2) * 1000, poll);
      } catch (e) {
        clear(error, message('error', `Dashboard: ${e.message}`));
        ctx.every(5000, poll);
      }
    })();
  },
};

function fact(label, value, id) {
  const title = typeof value === 'string' ? value : value?.textContent;
  return h('div', { class: 'fact', data: { fact: id } }, h('span', { class: 'fact-label' }, label), h('span', { class: 'fact-value', title }, value ?? '–'));
}

function pgState(ctx) {
  const pg = ctx.pgState();
  const text = pg.since ? `${pg.state} since ${pg.since.replace('T', ' ')}` : pg.state;
  return h('span', { class: `pg-state state-${pg.state}` }, text);
}

function renderFacts(el, sample, ctx) {
  const d = ctx.discover || {};
  const cpus = sample.cpu_models
    ? Object.entries(sample.cpu_models).map(([model, count]) => `${count} × ${model}`).join(', ')
    : `${sample.n_cpu ?? d.cpu ?? '–'} CPU`;
  clear(
    el,
    fact('Host', sample.hostname ?? d.hostname, 'hostname'),
    fact('PostgreSQL', shortVersion(sample.pg_version ?? d.pg_version), 'pg_version'),
    fact('Uptime', sample.pg_uptime ? sample.pg_uptime.replace(/\.\d+$/, '') : null, 'pg_uptime'),
    fact('State', pgState(ctx), 'state'),
    fact('Data directory', sample.pg_data, 'pg_data'),
    fact('Port', sample.pg_port, 'pg_port'),
    fact('Databases', sample.databases ? `${sample.databases.databases} (${sample.databases.total_size})` : null, 'databases'),
    fact('Connections', sample.max_connections ? `${sample.active_backends?.nb ?? '–'} active / ${sample.max_connections} max` : null, 'connections'),
    fact('OS', sample.linux_distribution ? `${sample.linux_distribution} (${sample.os_version})` : sample.os_version, 'os'),
    fact('CPU', cpus, 'cpu'),
    fact('Memory', sample.memory?.total ? bytes(sample.memory.total * 1024) : null, 'memory'),
  );
}
