// The agent's API as the console calls it. The session id lives in this module's
// memory only: never in a cookie, in storage or in a URL, so closing or reloading
// the page logs out, and no other page can read it.

let session = null;
const listeners = { expired: new Set(), pgdown: new Set() };

export function setSession(id) {
  session = id;
}

export function hasSession() {
  return session !== null;
}

/** Calls `fn(detail)` on 'expired' (the agent forgot the session) or 'pgdown'. */
export function on(event, fn) {
  listeners[event].add(fn);
}

function emit(event, detail) {
  for (const fn of listeners[event]) fn(detail);
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Sends one request; answers the JSON body, or throws an ApiError with the
 * agent's own message ({"error": ...}). */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (session) headers['X-Session'] = session;
  const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, `The agent cannot be reached (${e.message}).`);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = (data && data.error) || `${response.status} ${response.statusText}`;
    if (response.status === 401 && session && message === 'Invalid session.') emit('expired', message);
    if (response.status === 500 && message.startsWith('PostgreSQL is unreachable')) emit('pgdown', message);
    throw new ApiError(response.status, message);
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body ?? {});
export const del = (path) => api('DELETE', path);

/** Path segment of an object name (any character a PostgreSQL name may hold). */
export const seg = (name) => encodeURIComponent(name);
