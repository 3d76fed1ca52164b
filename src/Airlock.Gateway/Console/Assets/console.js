// The Airlock console's only script. It keeps pages current and nothing else: server-sent events
// (/events) say that something changed, and the page fetches its server-rendered fragment again.
// No agent data is ever built into markup here: fragments are HTML the gateway rendered (and
// encoded); this script only swaps them in. Relative times ("3 min ago") are kept current.
(() => {
  'use strict';

  const live = () => document.querySelector('[data-live]');

  async function refresh() {
    const current = live();
    if (!current) return;
    let response;
    try {
      response = await fetch(current.dataset.fragment, { credentials: 'same-origin', headers: { Accept: 'text/html' }, cache: 'no-store' });
    } catch {
      return;
    }
    if (response.status === 401) { location.reload(); return; }
    if (!response.ok) return;
    const parsed = new DOMParser().parseFromString(await response.text(), 'text/html');
    const next = parsed.body.firstElementChild;
    if (!next || next.id !== current.id) return;
    current.replaceWith(document.adoptNode(next));
    decidable();
    times();
  }

  // A review page: once the review is no longer pending, the decision forms go.
  function decidable() {
    const state = document.getElementById('state');
    const forms = document.getElementById('decide');
    if (state && forms && state.dataset.decidable !== 'true') forms.hidden = true;
  }

  function connect() {
    const current = live();
    if (!current || !('EventSource' in window)) return;
    const source = new EventSource(current.dataset.events, { withCredentials: true });
    let queued = false;
    const changed = () => {
      if (queued) return;
      queued = true;
      setTimeout(() => { queued = false; refresh(); }, 50);
    };
    // Fetch once connected too: a change between rendering and connecting is not missed.
    source.addEventListener('hello', changed);
    source.addEventListener('changed', changed);
    source.onerror = () => {
      // Closed for good (signed out, or the review is gone): reload, which signs in again.
      if (source.readyState === EventSource.CLOSED) setTimeout(() => location.reload(), 1000);
    };
  }

  function span(ms) {
    const s = Math.abs(ms) / 1000;
    if (s < 60) return `${Math.floor(s)} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min`;
    if (s < 172800) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
    return `${Math.floor(s / 86400)} d`;
  }

  function times() {
    const now = Date.now();
    for (const time of document.querySelectorAll('time[data-relative]')) {
      const at = Date.parse(time.getAttribute('datetime'));
      if (Number.isNaN(at)) continue;
      time.textContent = time.dataset.relative === 'until'
        ? (at <= now ? 'now' : `in ${span(at - now)}`)
        : `${span(now - at)} ago`;
    }
  }

  // A decision form is sent once: a second click while it is on its way does nothing.
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-once')) return;
    if (form.dataset.sent === 'true') { event.preventDefault(); return; }
    form.dataset.sent = 'true';
    for (const button of form.querySelectorAll('button')) button.disabled = true;
  });

  decidable();
  times();
  setInterval(times, 5000);
  connect();
})();
