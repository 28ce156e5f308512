// Cue dashboard: the audit trail's live feed (server-sent events) and confirmation of destructive forms.
// Hand-written, no dependencies, no build step. Rows are built with textContent only, never innerHTML.
'use strict';

document.addEventListener('submit', (event) => {
  const message = event.target.getAttribute('data-confirm');
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

function badge(value) {
  if (!value) {
    const none = document.createElement('span');
    none.className = 'muted';
    none.textContent = '—';
    return none;
  }
  const span = document.createElement('span');
  span.className = 'badge badge-' + value;
  span.textContent = value.replace(/_/g, ' ');
  return span;
}

function link(href, text, label) {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  if (label) {
    a.setAttribute('aria-label', label);
  }
  return a;
}

function cell(row, name, content) {
  const td = document.createElement('td');
  if (name) {
    td.dataset.cell = name;
  }
  td.append(content);
  row.append(td);
  return td;
}

function fill(row, e) {
  const time = document.createElement('time');
  time.dateTime = e.scheduled_for;
  time.textContent = e.scheduled_for_display;
  row.replaceChildren();
  cell(row, null, link(e.url, e.short_id, 'Execution ' + e.id));
  cell(row, null, link(e.cue_url, e.cue_name));
  cell(row, null, time);
  cell(row, null, e.triggered_by.replace(/_/g, ' '));
  cell(row, 'status', badge(e.status));
  cell(row, 'attempts', String(e.attempts));
  cell(row, 'http', e.http_status || '—');
  cell(row, 'outcome', badge(e.outcome_state));
}

function startFeed(table) {
  const body = table.tBodies[0];
  const status = document.getElementById('feed-status');
  const say = (text) => { if (status) { status.textContent = text; } };
  const source = new EventSource(table.dataset.feed);

  source.addEventListener('ready', () => {
    table.dataset.live = 'true';
    say('Live: new executions appear here as they happen.');
  });
  source.addEventListener('error', () => {
    delete table.dataset.live;
    say(source.readyState === EventSource.CLOSED ? 'Live feed ended. Reload the page to reconnect.' : 'Live feed interrupted; reconnecting…');
  });
  source.addEventListener('signed-out', () => {
    source.close();
    delete table.dataset.live;
    say('Your session ended. Sign in again to see new executions.');
  });
  source.addEventListener('execution', (message) => {
    const e = JSON.parse(message.data);
    let row = body.querySelector('tr[data-execution-id="' + CSS.escape(e.id) + '"]');
    if (!row) {
      body.querySelector('tr.empty')?.remove();
      row = document.createElement('tr');
      row.dataset.executionId = e.id;
      row.className = 'fresh';
      body.prepend(row);
      say('New execution of ' + e.cue_name + ': ' + e.status.replace(/_/g, ' ') + '.');
    }
    fill(row, e);
  });
}

document.querySelectorAll('table[data-feed]').forEach(startFeed);
