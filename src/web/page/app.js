// rtail's web view. Log text is data: it only ever reaches the page as text nodes
// (textContent, createTextNode), never as HTML; colours from ANSI escape codes become classes.
'use strict';

(function () {
  const CAP = 10000;                 // lines kept in the page; the oldest go first
  const LEVELS = [
    ['error', /\b(ERROR|FATAL|CRITICAL|CRIT|PANIC|ERR)\b/],
    ['warn', /\b(WARN|WARNING)\b/],
    ['info', /\b(INFO|NOTICE)\b/],
    ['debug', /\b(DEBUG|TRACE)\b/],
  ];
  const SOURCE_COLOURS = 8;

  const $ = (id) => document.getElementById(id);
  const log = $('log'), more = $('more'), state = $('state'), counts = $('counts'), errorBox = $('error');
  const filterBox = $('filter'), excludeBox = $('exclude');
  const token = new URLSearchParams(location.search).get('token');
  const auth = token ? 'token=' + encodeURIComponent(token) : '';

  const rows = [];                   // {id, kind, source, text, level, el}, oldest first
  let pending = [];                  // arrived, not yet in the DOM
  let frame = 0;
  let lastId = 0;
  let following = true;              // keep the newest line in view
  let unseen = 0;                    // lines arrived while paused
  let dropped = 0;                   // lines removed from the page (the cap)
  let skipped = 0;                   // lines the server skipped for this page (it fell behind)
  let ended = false, stopped = false;
  let sources = [];                  // paths, in input order
  const hiddenSources = new Set();
  const hiddenLevels = new Set();
  let matcher = null, excluder = null, highlightOnly = false;

  function setState(s) {
    state.dataset.state = s;
    state.textContent = s;
  }

  function showCounts() {
    const shown = rows.reduce((n, r) => n + (r.el && !r.el.classList.contains('hidden') ? 1 : 0), 0);
    let text = rows.length + ' lines kept, ' + shown + ' shown';
    if (dropped) text += ', ' + dropped + ' dropped from view (the page keeps ' + CAP + ')';
    if (skipped) text += ', ' + skipped + ' skipped by the server (this page fell behind)';
    counts.textContent = text;
  }

  // --- filters -------------------------------------------------------------------------------
  function compile(text, asRegex, matchCase) {
    if (!text) return null;
    const flags = matchCase ? 'g' : 'gi';
    try {
      const source = asRegex ? text : text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const re = new RegExp(source, flags);
      errorBox.textContent = '';
      return re;
    } catch (e) {
      errorBox.textContent = 'bad pattern: ' + e.message;
      return null;
    }
  }

  function test(re, text) {
    re.lastIndex = 0;
    return re.test(text);
  }

  function visible(row) {
    if (row.kind !== 'line') return true;
    if (hiddenSources.has(row.source)) return false;
    if (hiddenLevels.has(row.level || 'other')) return false;
    if (excluder && test(excluder, row.plain)) return false;
    if (matcher && !highlightOnly && !test(matcher, row.plain)) return false;
    return true;
  }

  function refilter() {
    const asRegex = $('regex').checked, matchCase = $('case').checked;
    matcher = compile(filterBox.value, asRegex, matchCase);
    excluder = compile(excludeBox.value, asRegex, matchCase);
    highlightOnly = $('highlight').checked;
    for (const row of rows) {
      if (!row.el) continue;
      if (row.kind === 'line') render(row);
      row.el.classList.toggle('hidden', !visible(row));
    }
    showCounts();
    if (following) toBottom();
  }

  // --- ANSI escape codes -> segments of text with classes ---------------------------------------
  // Only SGR (colour, bold…) is kept, as classes; every other escape sequence is dropped.
  const ESC = /\x1b\[([0-9;]*)([A-Za-z])|\x1b[@-Z\\-_]/g;

  function segments(text) {
    const out = [];
    let style = { b: false, d: false, i: false, u: false, f: -1, g: -1 };
    let at = 0, m;
    ESC.lastIndex = 0;
    while ((m = ESC.exec(text)) !== null) {
      if (m.index > at) out.push({ text: text.slice(at, m.index), cls: classes(style) });
      at = ESC.lastIndex;
      if (m[2] === 'm') style = sgr(style, m[1]);
    }
    if (at < text.length) out.push({ text: text.slice(at), cls: classes(style) });
    return out;
  }

  function sgr(prev, params) {
    const s = Object.assign({}, prev);
    const codes = params === '' ? [0] : params.split(';').map((p) => parseInt(p || '0', 10));
    for (let k = 0; k < codes.length; k++) {
      const c = codes[k];
      if (c === 0) Object.assign(s, { b: false, d: false, i: false, u: false, f: -1, g: -1 });
      else if (c === 1) s.b = true;
      else if (c === 2) s.d = true;
      else if (c === 3) s.i = true;
      else if (c === 4) s.u = true;
      else if (c === 22) { s.b = false; s.d = false; }
      else if (c === 23) s.i = false;
      else if (c === 24) s.u = false;
      else if (c >= 30 && c <= 37) s.f = c - 30;
      else if (c >= 90 && c <= 97) s.f = c - 90;
      else if (c === 39) s.f = -1;
      else if (c >= 40 && c <= 47) s.g = c - 40;
      else if (c >= 100 && c <= 107) s.g = c - 100;
      else if (c === 49) s.g = -1;
      else if (c === 38 || c === 48) {
        // 256-colour and true-colour forms: skip their arguments.
        if (codes[k + 1] === 5) k += 2; else if (codes[k + 1] === 2) k += 4;
      }
    }
    return s;
  }

  function classes(s) {
    const list = [];
    if (s.b) list.push('b');
    if (s.d) list.push('d');
    if (s.i) list.push('i');
    if (s.u) list.push('u');
    if (s.f >= 0) list.push('f' + s.f);
    if (s.g >= 0) list.push('g' + s.g);
    return list.join(' ');
  }

  function levelOf(plain) {
    for (const [name, re] of LEVELS) if (re.test(plain)) return name;
    return null;
  }

  // Text of one segment into `parent`: matches of the filter in <mark>, the level word coloured.
  function appendText(parent, text, cls, row) {
    const host = cls ? document.createElement('span') : parent;
    if (cls) { host.className = cls; parent.appendChild(host); }
    const marks = [];
    if (matcher) {
      matcher.lastIndex = 0;
      let m;
      while ((m = matcher.exec(text)) !== null) {
        if (m[0] === '') { matcher.lastIndex++; continue; }
        marks.push([m.index, m.index + m[0].length, 'mark']);
      }
    }
    if (row.level) {
      const re = LEVELS.find(([name]) => name === row.level)[1];
      const m = re.exec(text);
      const end = m ? m.index + m[0].length : 0;
      if (m && !marks.some(([s, e]) => s < end && m.index < e)) {
        marks.push([m.index, end, 'lv-' + row.level]);
        marks.sort((x, y) => x[0] - y[0]);
      }
    }
    let at = 0;
    for (const [start, end, kind] of marks) {
      if (start > at) host.appendChild(document.createTextNode(text.slice(at, start)));
      const el = document.createElement(kind === 'mark' ? 'mark' : 'span');
      if (kind !== 'mark') el.className = kind;
      el.textContent = text.slice(start, end);
      host.appendChild(el);
      at = end;
    }
    if (at < text.length) host.appendChild(document.createTextNode(text.slice(at)));
  }

  function sourceLabel(row) {
    const label = document.createElement('span');
    label.className = 'src f' + ((row.source % (SOURCE_COLOURS - 1)) + 1);
    label.textContent = sources[row.source] !== undefined ? sources[row.source] : '?';
    return label;
  }

  function render(row) {
    const el = row.el || document.createElement('div');
    el.textContent = '';
    el.className = 'row ' + row.kind;
    if (row.kind === 'line') {
      if (sources.length > 1) el.appendChild(sourceLabel(row));
      for (const seg of row.segs) appendText(el, seg.text, seg.cls, row);
    } else {
      el.textContent = row.text;
    }
    row.el = el;
    return el;
  }

  // --- arriving rows, batched per animation frame ---------------------------------------------------
  function add(row) {
    pending.push(row);
    if (!frame) frame = requestAnimationFrame(flush);
  }

  function flush() {
    frame = 0;
    const batch = pending;
    pending = [];
    // Rows that would be dropped at once are never built.
    const from = Math.max(0, batch.length - CAP);
    for (let k = 0; k < from; k++) if (batch[k].kind === 'line') dropped++;
    const fragment = document.createDocumentFragment();
    let newlyShown = 0;
    for (let k = from; k < batch.length; k++) {
      const row = batch[k];
      const el = render(row);
      const show = visible(row);
      el.classList.toggle('hidden', !show);
      if (show) newlyShown++;
      fragment.appendChild(el);
      rows.push(row);
    }
    log.appendChild(fragment);
    while (rows.length > CAP) {
      const old = rows.shift();
      if (old.el) old.el.remove();
      if (old.kind === 'line') dropped++;
    }
    if (following) {
      toBottom();
    } else {
      unseen += newlyShown;
      if (unseen) {
        more.hidden = false;
        more.textContent = unseen + ' new line' + (unseen === 1 ? '' : 's') + ' \u2193';
      }
    }
    showCounts();
  }

  function toBottom() {
    log.scrollTop = log.scrollHeight;
  }

  function resume() {
    following = true;
    unseen = 0;
    more.hidden = true;
    toBottom();
  }

  function atBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 4;
  }

  log.addEventListener('scroll', () => {
    if (atBottom()) {
      if (!following) resume();
    } else if (following) {
      following = false;
    }
  });
  more.addEventListener('click', resume);

  // --- the stream ---------------------------------------------------------------------------------
  let source = null, retryTimer = 0;

  function connect() {
    const query = [auth, lastId ? 'last=' + lastId : 'n=' + CAP].filter(Boolean).join('&');
    source = new EventSource('events?' + query);
    source.onopen = () => { if (!ended && !stopped) setState('live'); };
    source.onerror = () => {
      if (ended || stopped) return;
      setState('reconnecting');
      // The browser retries by itself unless the server answered with an error.
      if (source.readyState === EventSource.CLOSED) {
        clearTimeout(retryTimer);
        retryTimer = setTimeout(connect, 2000);
      }
    };
    source.addEventListener('hello', (e) => {
      const hello = JSON.parse(e.data);
      if (JSON.stringify(hello.sources) !== JSON.stringify(sources)) {
        sources = hello.sources;
        buildSourceChooser();
      }
    });
    source.onmessage = (e) => {
      const id = Number(e.lastEventId);
      if (id && id <= lastId) return;   // never twice
      if (id) lastId = id;
      const record = JSON.parse(e.data);
      let index = sources.indexOf(record.path);
      if (index < 0 && typeof record.path === 'string') {
        // A file that started matching a pattern, or was renamed: a source of its own.
        sources.push(record.path);
        index = sources.length - 1;
        buildSourceChooser();
      }
      const segs = segments(record.line);
      const plain = segs.map((s) => s.text).join('');
      add({ id, kind: 'line', source: index < 0 ? 0 : index, text: record.line, segs, plain, level: levelOf(plain) });
    };
    source.addEventListener('notice', (e) => {
      const id = Number(e.lastEventId);
      if (id && id <= lastId) return;
      if (id) lastId = id;
      const notice = JSON.parse(e.data);
      add({ id, kind: 'notice', text: '\u2014 ' + notice.message });
    });
    source.addEventListener('skipped', (e) => {
      const n = JSON.parse(e.data).skipped;
      skipped += n;
      add({ id: 0, kind: 'skipped', text: '\u2014 ' + n + ' lines skipped: this page fell behind the server\u2019s buffer' });
    });
    // Every input ended; the server stays (the page keeps what it has).
    source.addEventListener('end', () => {
      ended = true;
      if (!stopped) setState('ended');
    });
    // rtail is ending: nothing to reconnect to.
    source.addEventListener('bye', () => {
      ended = true;
      if (!stopped) setState('ended');
      source.close();
    });
  }

  // --- controls -----------------------------------------------------------------------------------
  function checkbox(label, checked, onChange) {
    const wrap = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = checked;
    box.addEventListener('change', () => onChange(box.checked));
    wrap.appendChild(box);
    wrap.appendChild(document.createTextNode(' ' + label));
    return wrap;
  }

  function buildSourceChooser() {
    const box = $('sources');
    box.textContent = '';
    if (sources.length < 2) return;
    sources.forEach((path, index) => {
      const item = checkbox(path, !hiddenSources.has(index), (on) => {
        if (on) hiddenSources.delete(index); else hiddenSources.add(index);
        refilter();
      });
      item.classList.add('f' + ((index % (SOURCE_COLOURS - 1)) + 1));
      item.dataset.source = path;
      box.appendChild(item);
    });
    for (const row of rows) if (row.kind === 'line') render(row);
  }

  function buildLevels() {
    const box = $('levels');
    for (const name of ['error', 'warn', 'info', 'debug', 'other']) {
      const item = checkbox(name, true, (on) => {
        if (on) hiddenLevels.delete(name); else hiddenLevels.add(name);
        refilter();
      });
      item.dataset.level = name;
      if (name !== 'other') item.classList.add('lv-' + name);
      box.appendChild(item);
    }
  }

  function download() {
    const text = rows.filter((r) => r.kind === 'line' && r.el && !r.el.classList.contains('hidden'))
      .map((r) => r.text + '\n').join('');
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'rtail-' + new Date().toISOString().replace(/[:.]/g, '-') + '.log';
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  async function stop() {
    if (!confirm('Stop rtail (and the command it runs)?')) return;
    try {
      const response = await fetch('stop' + (auth ? '?' + auth : ''), { method: 'POST' });
      if (!response.ok) throw new Error('the server answered ' + response.status);
      stopped = true;
      setState('stopped');
      if (source) source.close();
    } catch (e) {
      errorBox.textContent = 'cannot stop: ' + e.message;
    }
  }

  let filterTimer = 0;
  function refilterSoon() {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(refilter, 80);
  }
  for (const box of [filterBox, excludeBox]) {
    // 'input' as one types; 'change' and 'search' when the box is cleared at once.
    for (const type of ['input', 'change', 'search']) box.addEventListener(type, refilterSoon);
  }
  for (const id of ['regex', 'case', 'highlight']) $(id).addEventListener('change', refilter);
  $('wrap').addEventListener('change', (e) => log.classList.toggle('wrap', e.target.checked));
  $('download').addEventListener('click', download);
  $('stop').addEventListener('click', stop);
  document.addEventListener('keydown', (e) => {
    const typing = e.target instanceof HTMLInputElement;
    if (e.key === '/' && !typing) {
      e.preventDefault();
      filterBox.focus();
    } else if (e.key === 'End' && !typing) {
      e.preventDefault();
      resume();
    } else if (e.key === 'Escape' && typing) {
      e.target.blur();
    }
  });

  // Leaving the page closes the stream, also when the browser keeps the page in its
  // back-forward cache (it would stay connected there, and --serve-once would never end);
  // coming back reconnects from the last line seen.
  window.addEventListener('pagehide', () => { if (source) source.close(); });
  window.addEventListener('pageshow', (e) => { if (e.persisted && !ended && !stopped) connect(); });

  buildLevels();
  showCounts();
  connect();
})();
