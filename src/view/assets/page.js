// bidirectional-ipc view: replays a recording (embedded in this page as JSON).
// Plain browser JavaScript, no library: the page must open from disk, offline.
'use strict';
(function () {
  const rec = JSON.parse(document.getElementById('recording').textContent);
  const events = rec.events;
  const tables = rec.processTables || [];
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  };
  const SVG = 'http://www.w3.org/2000/svg';
  const svg = (tag, attrs) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  };
  // A quick call in a loop carries no snapshot: the last one before it holds.
  const snapshotAt = [];
  events.forEach((e, i) => {
    snapshotAt.push(e.snapshot ? e.snapshot : i > 0 ? snapshotAt[i - 1] : null);
  });
  const indexOf = new Map(events.map((e, i) => [e, i]));
  const processesOf = (e) => {
    const snap = e.snapshot || snapshotAt[indexOf.get(e)];
    const p = snap ? snap.processes : [];
    return typeof p === 'number' ? tables[p] : p || [];
  };

  const STATES = {
    R: 'running',
    S: 'sleeping: blocked, waiting for an event',
    D: 'in uninterruptible wait',
    T: 'stopped by a signal',
    t: 'stopped by a tracer',
    Z: 'zombie: it has exited; its parent has not called waitpid yet',
    X: 'dead',
  };
  const t0 = events.length ? events[0].time : 0;
  const ms = (t) => `${(t - t0).toFixed(1)} ms`;
  const quote = (text) => JSON.stringify(text).slice(1, -1);

  // --- Who is who: roles from the process tree, pipes in creation order -----
  const parentOf = new Map();
  const comms = new Map();
  const order = [];
  for (const e of events) {
    for (const p of processesOf(e)) {
      if (!parentOf.has(p.pid)) {
        parentOf.set(p.pid, p.ppid);
        order.push(p.pid);
      }
      if (p.comm !== 'node') comms.set(p.pid, p.comm);
    }
    if (!parentOf.has(e.pid)) {
      parentOf.set(e.pid, e.ppid);
      order.push(e.pid);
    }
  }
  const roles = new Map([[rec.rootPid, 'parent']]);
  const childrenOf = (pid) => order.filter((c) => c !== pid && parentOf.get(c) === pid);
  const name = (pid, base) => {
    const kids = childrenOf(pid);
    kids.forEach((c, i) => {
      const role =
        base === 'parent'
          ? kids.length === 1
            ? 'child'
            : `child ${i + 1}`
          : `${base}'s child${kids.length === 1 ? '' : ` ${i + 1}`}`;
      roles.set(c, role);
      name(c, role);
    });
  };
  name(rec.rootPid, 'parent');
  const roleOf = (pid) => {
    const base = roles.get(pid) || `pid ${pid}`;
    return comms.has(pid) ? `${base} (${comms.get(pid)})` : base;
  };
  const roleClass = (pid) => (pid === rec.rootPid ? 'role-parent' : roles.has(pid) ? 'role-child' : 'role-other');

  const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const pipeLabels = new Map(); // inode -> 'A'
  const endNames = new Map(); // `${inode}:${end}` -> 'parent_read'
  const pipeOfFd = (e, fd) => {
    const self = processesOf(e).find((p) => p.pid === e.pid);
    const f = self && self.fds.find((x) => x.fd === fd);
    return f ? f.pipe : undefined;
  };
  for (const e of events) {
    if (e.kind !== 'end' || e.call !== 'pipe' || !Array.isArray(e.result)) continue;
    const inode = pipeOfFd(e, e.result[0]);
    if (inode === undefined || pipeLabels.has(inode)) continue;
    const n = pipeLabels.size;
    pipeLabels.set(inode, LETTERS[n % 26] + (n >= 26 ? String(Math.floor(n / 26)) : ''));
    const names = rec.pipeNames[n];
    if (names) {
      endNames.set(`${inode}:read`, names[0]);
      endNames.set(`${inode}:write`, names[1]);
    }
  }
  const fdText = (e, fd) => {
    const inode = pipeOfFd(e, fd);
    const self = processesOf(e).find((p) => p.pid === e.pid);
    const end = inode === undefined || !self ? undefined : (self.fds.find((x) => x.fd === fd) || {}).end;
    const nm = inode !== undefined ? endNames.get(`${inode}:${end}`) : ['stdin', 'stdout', 'stderr'][fd];
    return nm ? `${fd} ${nm}` : String(fd);
  };

  // --- A call as text ---------------------------------------------------------
  const starts = new Map();
  events.forEach((e, i) => {
    if (e.kind === 'start') starts.set(`${e.pid}:${e.id}`, i);
  });
  const startOf = (e) => (e.kind === 'end' ? events[starts.get(`${e.pid}:${e.id}`)] : e) || e;
  /** Data shown in a call: at most this many characters of it. */
  const SHOWN = 40;
  const bytesText = (v) => {
    if (!(v && typeof v === 'object' && 'bytes' in v)) return String(v);
    if (v.text === undefined) return `buf[${v.bytes}]`;
    return `"${quote(v.text.slice(0, SHOWN))}"${v.text.length > SHOWN || v.text.length < v.bytes ? '…' : ''}`;
  };
  function callText(e) {
    const s = startOf(e);
    const a = e.args || [];
    let args;
    switch (e.call) {
      case 'read':
        args = `${fdText(s, a[0])}, ${e.kind === 'end' && e.result && e.result.text !== undefined ? bytesText(e.result) : 'buf'}, ${a[3]}`;
        break;
      case 'write':
        args = `${fdText(s, a[0])}, ${bytesText(a[1])}, ${a[3]}`;
        break;
      case 'close':
      case 'dup':
      case 'bytesQueued':
        args = fdText(s, a[0]);
        break;
      case 'sleep':
        args = `${a[0]} ms`;
        break;
      default:
        args = a.map((x) => (x && typeof x === 'object' ? bytesText(x) : String(x))).join(', ');
    }
    return `${e.call}(${args})${e.repeat ? ` ×${e.repeat}` : ''}`;
  }
  function resultText(e) {
    if (e.error) return `-1 ${e.error.code}`;
    const r = e.result;
    if (e.call === 'pipe' && Array.isArray(r)) return `[${r.map((fd) => fdText(e, fd)).join(', ')}]`;
    if (e.call === 'waitpid' && r && typeof r === 'object') {
      if (r.pid === 0) return '0 (no child has changed state)';
      return `${r.pid} (${r.signaled ? `killed by ${r.signal}` : r.stopped ? `stopped by ${r.stopSignal}` : `exited ${r.exitCode}`})`;
    }
    if (r && typeof r === 'object' && 'bytes' in r) return String(r.bytes);
    return r === undefined ? '0' : String(r);
  }
  function describe(e) {
    const who = `${roleOf(e.pid)} (pid ${e.pid})`;
    switch (e.kind) {
      case 'start':
        return `${who} calls ${callText(e)}`;
      case 'end':
        return e.repeat
          ? `${who}: ${callText(e)} return ${resultText(e)} in all (a loop: ${e.repeat} calls shown as one step)`
          : `${who}: ${callText(e)} returns ${resultText(e)}`;
      case 'sample':
        return `${who} is about to wait: the recorder looks at its children (states from /proc)`;
      case 'say':
        return `${who} prints: ${e.text.trim()}`;
      case 'exit':
        return e.pid === rec.rootPid ? `${who} ends: the run is over, no process is left` : `${who} ends (${e.text})`;
      default:
        return who;
    }
  }

  // --- The state at every step: calls in progress, bytes in each pipe --------
  // Bytes queued come from the byte flow (what each write put in, what each
  // read took out, in happens-before order); bytes that a write still in
  // progress has already moved show up in the kernel's count (FIONREAD).
  const steps = [];
  const open = new Map(); // `${pid}:${id}` -> index of the start
  const queues = new Map(); // inode -> { chunks: [{text, bytes}], pending: Map(key -> {text, bytes, taken}) }
  const capacity = new Map();
  const said = [];
  const queueOf = (inode) => {
    if (!queues.has(inode)) queues.set(inode, { chunks: [], pending: new Map() });
    return queues.get(inode);
  };
  const take = (q, n) => {
    while (n > 0 && q.chunks.length) {
      const c = q.chunks[0];
      if (c.bytes <= n) {
        n -= c.bytes;
        q.chunks.shift();
      } else {
        c.bytes -= n;
        c.text = c.text.slice(n);
        n = 0;
      }
    }
    for (const w of q.pending.values()) {
      if (n <= 0) break;
      const k = Math.min(n, w.bytes - w.taken);
      w.taken += k;
      n -= k;
    }
  };
  events.forEach((e, i) => {
    const key = `${e.pid}:${e.id}`;
    const q = e.pipe !== undefined ? queueOf(e.pipe) : null;
    if (e.kind === 'start') {
      open.set(key, i);
      if (e.call === 'write' && q)
        q.pending.set(key, { text: (e.args[1] && e.args[1].text) || '', bytes: e.args[3], taken: 0 });
    } else if (e.kind === 'end') {
      open.delete(key); // fork ends in the child too, under the parent's key: nothing to close there
      const n =
        typeof e.result === 'number'
          ? e.result
          : e.result && typeof e.result === 'object' && 'bytes' in e.result
            ? e.result.bytes
            : 0;
      if (q && e.call === 'write') {
        const w = q.pending.get(key) || { text: '', taken: 0 };
        q.pending.delete(key);
        if (n > w.taken) q.chunks.push({ text: w.text.slice(w.taken, n), bytes: n - w.taken });
      } else if (q && e.call === 'read' && n > 0) take(q, n);
    } else if (e.kind === 'say') said.push({ i, text: e.text });
    // An exited process's calls in progress (a killed writer) end with it.
    const alive = new Set(
      processesOf(e)
        .filter((p) => p.state !== 'Z')
        .map((p) => p.pid),
    );
    const snap = snapshotAt[i];
    if (snap)
      for (const [k, j] of open)
        if (!alive.has(events[j].pid) && events[j].time < e.time && e.kind !== 'exit') open.delete(k);
    if (e.kind === 'exit' && e.pid === rec.rootPid) open.clear();
    const pipes = {};
    for (const p of (snap && snap.pipes) || []) {
      if (p.capacity) capacity.set(p.inode, p.capacity);
    }
    for (const [inode, qq] of queues) {
      const model = qq.chunks.reduce((s, c) => s + c.bytes, 0);
      let text = qq.chunks.map((c) => c.text).join('');
      const known = qq.chunks.every((c) => c.text.length === c.bytes);
      const kernel = ((snap && snap.pipes) || []).find((p) => p.inode === inode);
      let queued = model;
      // a write in progress has moved bytes the flow does not know of yet
      if (kernel && kernel.queued !== null && kernel.queued > model && qq.pending.size > 0) {
        const extra = kernel.queued - model;
        const w = [...qq.pending.values()][0];
        text += w.text.slice(0, extra);
        queued = kernel.queued;
      }
      pipes[inode] = { queued, text, partial: !known || text.length < queued, kernel: kernel ? kernel.queued : null };
    }
    steps.push({ open: [...open.values()], pipes, capacity: new Map(capacity), said: said.length });
  });

  // --- Drawing --------------------------------------------------------------------
  const scrubber = $('scrubber');
  scrubber.max = String(Math.max(0, events.length - 1));
  $('title').textContent = rec.title;
  $('subtitle').textContent =
    `bidirectional-ipc ${rec.command} · recorded on Linux ${rec.kernel.release}, Node ${rec.kernel.node} · ${events.length} steps over ${events.length ? ms(events[events.length - 1].time) : '0 ms'} · root pid ${rec.rootPid}`;
  let index = 0;

  function renderProcesses(e, step) {
    const box = $('procs');
    box.replaceChildren();
    const procs = processesOf(e);
    if (procs.length === 0) {
      box.append(
        el('p', {
          class: 'none',
          id: 'no-processes',
          text: 'No process is left: every process of the run has exited (and been reaped).',
        }),
      );
      return;
    }
    for (const p of procs) {
      const cls = `proc ${roleClass(p.pid)}${p.state === 'Z' ? ' zombie' : ''}`;
      const art = el('article', {
        class: cls,
        'data-pid': p.pid,
        'data-state': p.state,
        'data-role': roleOf(p.pid),
        'aria-label': `${roleOf(p.pid)}, pid ${p.pid}, state ${p.state}`,
      });
      art.append(
        el('h3', {}, `${roleOf(p.pid)} `, el('span', { class: 'who', text: `pid ${p.pid} · parent ${p.ppid}` })),
      );
      const acting = e.pid === p.pid && (e.kind === 'start' || e.kind === 'end');
      let stateText = STATES[p.state] || 'state';
      if (p.state === 'S' && p.wchan && p.wchan !== '0') stateText += ` (in the kernel's ${p.wchan})`;
      if (acting && p.state === 'R') stateText = 'running: making this call';
      art.append(el('p', { class: `state state-${p.state}` }, el('b', { text: p.state }), stateText));
      for (const j of step.open) {
        const s = events[j];
        if (s.pid !== p.pid) continue;
        const waited = e.time - s.time;
        art.append(
          el(
            'p',
            { class: 'incall', 'data-call': s.call },
            `${callText(s)} in progress for ${waited.toFixed(1)} ms${s.call === 'read' || s.call === 'write' || s.call === 'waitpid' ? ` — ${p.state === 'S' ? 'blocked, waiting' : 'not returned yet'}` : ''}`,
          ),
        );
      }
      if (p.state === 'Z') {
        art.append(
          el('p', {
            class: 'others',
            text: 'A zombie holds no descriptors: the kernel closed them all when it exited.',
          }),
        );
      } else {
        const table = el(
          'table',
          { class: 'fds' },
          el('caption', { class: 'sr-only', text: `fd table of ${roleOf(p.pid)}` }),
          el('colgroup', {}, el('col', { class: 'n' }), el('col', { class: 'nm' }), el('col')),
          el('tr', {}, el('th', { text: 'fd' }), el('th', { text: 'name' }), el('th', { text: 'refers to' })),
        );
        for (const f of p.fds) {
          const label = pipeLabels.get(f.pipe);
          const nm =
            f.pipe !== undefined ? endNames.get(`${f.pipe}:${f.end}`) || '' : ['stdin', 'stdout', 'stderr'][f.fd] || '';
          const what = label
            ? `pipe ${label}, ${f.end} end${f.cloexec ? ' · CLOEXEC' : ''}${f.nonblock ? ' · NONBLOCK' : ''}`
            : f.target;
          const row = el(
            'tr',
            {
              id: label ? `fd-${p.pid}-${f.fd}` : null,
              'data-fd': f.fd,
              'data-ofd': label ? `${f.pipe}-${f.end}` : null,
              class: acting && (e.args || [])[0] === f.fd ? 'acting' : null,
            },
            el('td', { text: f.fd }),
            el('td', { text: nm }),
            el('td', { text: what }),
          );
          table.append(row);
        }
        art.append(table);
        if (p.others) art.append(el('p', { class: 'others', text: `and Node's own: ${p.others}` }));
      }
      box.append(art);
    }
  }

  function holders(procs, inode, end) {
    const out = [];
    for (const p of procs)
      for (const f of p.fds) if (f.pipe === inode && f.end === end) out.push(`${roleOf(p.pid)} fd ${f.fd}`);
    return out;
  }

  function renderPipes(e, step) {
    const ofds = $('ofds');
    const pipes = $('pipes');
    ofds.replaceChildren();
    pipes.replaceChildren();
    const procs = processesOf(e);
    for (const [inode, label] of pipeLabels) {
      const writers = holders(procs, inode, 'write');
      const readers = holders(procs, inode, 'read');
      const created = events.findIndex(
        (x) => x.kind === 'end' && x.call === 'pipe' && pipeOfFd(x, (x.result || [])[0]) === inode,
      );
      if (created > index) continue; // not made yet
      const st = step.pipes[inode] || { queued: 0, text: '', partial: false, kernel: null };
      const cap = step.capacity.get(inode);
      const freed = writers.length === 0 && readers.length === 0;
      if (freed) {
        pipes.append(
          el(
            'article',
            { class: 'pipe freed', 'data-pipe': label, 'data-queued': 0 },
            el('h3', { text: `pipe ${label}` }),
            el('p', { class: 'eof', text: 'freed: no descriptor refers to it any more' }),
          ),
        );
        continue;
      }
      const wRoles = [...new Set(writers.map((w) => w.replace(/ fd \d+$/, '')))];
      const rRoles = [...new Set(readers.map((w) => w.replace(/ fd \d+$/, '')))];
      const direction = `${wRoles.join(' + ') || 'nobody'} → ${rRoles.join(' + ') || 'nobody'}`;
      const full = cap && st.queued >= cap;
      const art = el('article', {
        class: `pipe${full ? ' full' : ''}`,
        id: `pipe-${label}`,
        'data-pipe': label,
        'data-inode': inode,
        'data-queued': st.queued,
        'data-capacity': cap || '',
        'data-direction': direction,
      });
      art.append(el('h3', {}, `pipe ${label} `, el('span', { text: direction })));
      const pct = cap ? Math.min(100, (st.queued / cap) * 100) : 0;
      const fill = el('div', { class: 'fill' });
      fill.style.width = `${st.queued > 0 ? Math.max(pct, 3) : 0}%`;
      const shown = st.text
        ? `"${quote(st.text.slice(0, 60))}"${st.partial || st.text.length > 60 ? '…' : ''}`
        : st.queued > 0
          ? `${st.queued} bytes`
          : 'empty';
      art.append(
        el(
          'div',
          { class: 'tube', role: 'img', 'aria-label': `${st.queued} bytes queued${cap ? ` of ${cap}` : ''}: ${shown}` },
          fill,
          el('span', { class: 'bytes', text: shown }),
        ),
      );
      art.append(
        el('p', {
          class: 'queued',
          text: `${st.queued}${cap ? ` / ${cap}` : ''} bytes queued${full ? ' — full: a blocking write waits' : ''}`,
        }),
      );
      art.append(
        el('p', {
          class: 'ends',
          text: `write ends open: ${writers.length}${writers.length ? ` (${writers.join(', ')})` : ''} · read ends open: ${readers.length}${readers.length ? ` (${readers.join(', ')})` : ''}`,
        }),
      );
      art.append(
        el('p', {
          class: 'eof',
          text:
            writers.length === 0
              ? 'No write end is open: a read gets what is queued, then 0 (end of file).'
              : readers.length === 0
                ? 'No read end is open: a write fails with EPIPE.'
                : `EOF only when all ${writers.length} write end${writers.length > 1 ? 's are' : ' is'} closed.`,
        }),
      );
      if (st.kernel !== null && st.kernel !== undefined && st.kernel !== st.queued) {
        art.append(
          el('p', {
            class: 'eof',
            text: `(FIONREAD when this step was recorded: ${st.kernel}; the other process had moved on by then)`,
          }),
        );
      }
      pipes.append(art);
      for (const end of ['read', 'write']) {
        const refs = holders(procs, inode, end);
        if (refs.length === 0) continue;
        const nm = endNames.get(`${inode}:${end}`);
        ofds.append(
          el(
            'div',
            { class: 'ofd', id: `ofd-${inode}-${end}`, 'data-pipe': label, 'data-end': end },
            el('b', { text: `pipe ${label} ${end} end` }),
            nm ? ` (${nm})` : '',
            el('br'),
            el('span', { class: 'mode', text: end === 'read' ? 'O_RDONLY' : 'O_WRONLY' }),
            ` · ${refs.length} fd${refs.length > 1 ? 's' : ''}`,
          ),
        );
      }
    }
    if (!pipes.childElementCount) pipes.append(el('p', { class: 'eof', text: 'No pipe yet.' }));
  }

  function drawArrows() {
    const grid = $('kernel-grid');
    const layer = $('arrows');
    layer.replaceChildren();
    if (getComputedStyle(layer).display === 'none') return; // stacked columns: no arrows
    const box = grid.getBoundingClientRect();
    layer.setAttribute('viewBox', `0 0 ${box.width} ${box.height}`);
    const defs = svg('defs');
    const marker = svg('marker', {
      id: 'arrowhead',
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    });
    const tip = svg('path', { d: 'M0,0 L10,5 L0,10 z' });
    tip.style.fill = 'var(--muted)';
    marker.append(tip);
    defs.append(marker);
    layer.append(defs);
    const link = (from, to, cls) => {
      const a = from.getBoundingClientRect();
      const b = to.getBoundingClientRect();
      // from the right edge of the box the row is in, so a line never crosses a box
      const x1 = (from.closest('article') || from).getBoundingClientRect().right - box.left;
      const y1 = a.top + a.height / 2 - box.top;
      const x2 = b.left - box.left;
      const y2 = b.top + Math.min(b.height / 2, 14) - box.top;
      const mid = (x1 + x2) / 2;
      layer.append(
        svg('path', {
          d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
          class: cls,
          'marker-end': 'url(#arrowhead)',
        }),
      );
    };
    for (const row of grid.querySelectorAll('tr[data-ofd]')) {
      const target = document.getElementById(`ofd-${row.dataset.ofd}`);
      if (target) link(row, target, row.dataset.ofd.endsWith('write') ? 'write' : 'read');
    }
    for (const o of grid.querySelectorAll('.ofd')) {
      const pipe = document.getElementById(`pipe-${o.dataset.pipe}`);
      if (pipe) link(o, pipe, o.dataset.end);
    }
  }

  // The timeline: one lane per process, a bar per call from its start to its return.
  const lanes = order.filter((pid) => events.some((e) => e.pid === pid));
  const tEnd = events.length ? events[events.length - 1].time : 0;
  const bars = [];
  events.forEach((e, i) => {
    if (e.kind !== 'start') return;
    const endIndex = events.findIndex((x, j) => j > i && x.kind === 'end' && x.pid === e.pid && x.id === e.id);
    let last = tEnd;
    if (endIndex < 0) {
      // never returned: the bar runs until the process was last seen
      for (let j = events.length - 1; j > i; j--) {
        if (processesOf(events[j]).some((p) => p.pid === e.pid && p.state !== 'Z')) {
          last = events[j].time;
          break;
        }
      }
    }
    bars.push({
      start: i,
      end: endIndex,
      pid: e.pid,
      call: e.call,
      t1: e.time,
      t2: endIndex >= 0 ? events[endIndex].time : last,
    });
  });
  const LANE = 24;
  const LEFT = 104;
  function renderTimeline() {
    const box = $('timeline-box');
    const width = Math.max(320, box.clientWidth - 2);
    const height = 18 + lanes.length * LANE + 4;
    const area = $('timeline-svg');
    area.replaceChildren();
    area.setAttribute('viewBox', `0 0 ${width} ${height}`);
    area.setAttribute('height', String(height));
    const span = Math.max(1, tEnd - t0);
    const x = (t) => LEFT + ((t - t0) / span) * (width - LEFT - 10);
    area.append(svg('line', { class: 'axis', x1: LEFT, x2: width - 10, y1: 14, y2: 14 }));
    const ticks = Math.max(1, Math.floor((width - LEFT) / 140));
    for (let k = 0; k <= ticks; k++) {
      const t = t0 + (span * k) / ticks;
      const label = svg('text', { x: x(t), y: 11, 'text-anchor': k === 0 ? 'start' : k === ticks ? 'end' : 'middle' });
      label.textContent = ms(t);
      area.append(label);
    }
    const current = events[index];
    lanes.forEach((pid, n) => {
      const y = 18 + n * LANE;
      const label = svg('text', { x: 4, y: y + 15 });
      label.textContent = `${roleOf(pid)} ${pid}`;
      area.append(label);
      area.append(svg('line', { class: 'life', x1: LEFT, x2: width - 10, y1: y + LANE / 2, y2: y + LANE / 2 }));
      for (const b of bars) {
        if (b.pid !== pid) continue;
        const started = b.start <= index;
        const inProgress = started && (b.end < 0 || b.end > index);
        const tTo = inProgress ? Math.max(current.time, b.t1) : b.t2;
        if (!started) continue;
        const rect = svg('rect', {
          x: x(b.t1),
          y: y + 4,
          width: Math.max(2, x(tTo) - x(b.t1)),
          height: LANE - 8,
          rx: 2,
          class: `bar${b.call === 'sleep' ? ' sleep' : ''}${inProgress ? ' open' : ' past'}${current.pid === pid && (b.start === index || b.end === index) ? ' current' : ''}`,
        });
        const title = svg('title');
        title.textContent = `${callText(events[b.start])}${b.end >= 0 ? ` = ${resultText(events[b.end])}` : ' (never returned)'}`;
        rect.append(title);
        area.append(rect);
      }
    });
    area.append(svg('line', { class: 'cursor', x1: x(current.time), x2: x(current.time), y1: 14, y2: height }));
    area.onclick = (ev) => {
      const r = area.getBoundingClientRect();
      const px = ((ev.clientX - r.left) / r.width) * width;
      const t = t0 + ((px - LEFT) / (width - LEFT - 10)) * span;
      let best = 0;
      events.forEach((e, i) => {
        if (Math.abs(e.time - t) < Math.abs(events[best].time - t)) best = i;
      });
      go(best);
    };
  }

  // Sources: the call's line in the TypeScript, and the Rust line that makes the same call.
  const sources = new Map(rec.sources.map((s) => [s.path, s.text.split('\n')]));
  let frameAt = null;
  function frameFor(i) {
    for (let j = i; j >= 0; j--) {
      const s = startOf(events[j]);
      if (s.frames && s.frames.length) return s.frames;
    }
    return null;
  }
  function fillPane(pre, lines, here) {
    pre.replaceChildren();
    lines.forEach((line, n) => {
      const row = el(
        'span',
        { class: `ln${n + 1 === here ? ' here' : ''}`, 'aria-current': n + 1 === here ? 'true' : null },
        el('i', { text: String(n + 1) }),
        line,
      );
      pre.append(row);
    });
    const target = pre.querySelector('.here');
    if (target) pre.scrollTop = Math.max(0, target.offsetTop - pre.clientHeight / 2);
  }
  function renderSources() {
    const frames = frameFor(index) || [];
    const key = JSON.stringify(frames);
    if (key === frameAt) return;
    frameAt = key;
    const top = frames.find((f) => sources.has(f.file)) || { file: rec.sources[0] && rec.sources[0].path, line: 0 };
    $('ts-title').textContent =
      `TypeScript: ${top.file || ''}${top.line ? `, line ${top.line}${top.fn ? ` (${top.fn})` : ''}` : ''}`;
    fillPane($('ts'), sources.get(top.file) || [], top.line);
    const rustPre = $('rust');
    if (!rec.rust) {
      // A lesson is the package's own: no Rust beside it, more room for its source.
      $('code').classList.add('no-rust');
      $('rust-title').textContent = 'Rust original: none for a lesson (see "view demo")';
      rustPre.hidden = true;
      return;
    }
    const mapped = frames.map((f) => rec.rustLines[`${f.file}:${f.line}`]).find((n) => n !== undefined);
    $('rust-title').textContent =
      `Rust original: ${rec.rust.path}${mapped ? `, line ${mapped}` : ' (no matching line)'}`;
    fillPane(rustPre, rec.rust.text.split('\n'), mapped);
  }

  function renderSaid(step) {
    const pre = $('said');
    pre.replaceChildren();
    const all = events.filter((e) => e.kind === 'say');
    if (all.length === 0) {
      $('narration').hidden = true;
      return;
    }
    all.forEach((e, n) =>
      pre.append(el('span', { class: n === step.said - 1 ? 'latest' : n >= step.said ? 'later' : null, text: e.text })),
    );
  }

  function render() {
    const e = events[index];
    const step = steps[index];
    scrubber.value = String(index);
    scrubber.setAttribute('aria-valuetext', `step ${index + 1} of ${events.length}: ${describe(e)}`);
    $('stepno').textContent = `${index + 1} / ${events.length}`;
    $('now').textContent = `Step ${index + 1} of ${events.length} · ${ms(e.time)}\n${describe(e)}`;
    renderProcesses(e, step);
    renderPipes(e, step);
    renderTimeline();
    renderSources();
    renderSaid(step);
    drawArrows();
    document.body.dataset.step = String(index);
  }

  function go(i) {
    index = Math.max(0, Math.min(events.length - 1, i));
    render();
  }

  // --- Playing -----------------------------------------------------------------
  let timer = null;
  const play = $('play');
  function stop() {
    clearTimeout(timer);
    timer = null;
    play.textContent = '▶ Play';
    play.setAttribute('aria-pressed', 'false');
  }
  function tick() {
    if (index >= events.length - 1) {
      stop();
      return;
    }
    const speed = $('speed').value;
    const gap = speed === 'step' ? 1000 : Math.min(3000, (events[index + 1].time - events[index].time) / Number(speed));
    timer = setTimeout(() => {
      go(index + 1);
      tick();
    }, gap);
  }
  function toggle() {
    if (timer !== null) {
      stop();
      return;
    }
    if (index >= events.length - 1) go(0);
    play.textContent = '⏸ Pause';
    play.setAttribute('aria-pressed', 'true');
    tick();
  }
  play.addEventListener('click', toggle);
  $('first').addEventListener('click', () => {
    stop();
    go(0);
  });
  $('last').addEventListener('click', () => {
    stop();
    go(events.length - 1);
  });
  $('back').addEventListener('click', () => {
    stop();
    go(index - 1);
  });
  $('forward').addEventListener('click', () => {
    stop();
    go(index + 1);
  });
  scrubber.addEventListener('input', () => {
    stop();
    go(Number(scrubber.value));
  });
  document.addEventListener('keydown', (ev) => {
    const tag = ev.target && ev.target.tagName;
    if (tag === 'SELECT' || tag === 'INPUT' || ev.altKey || ev.ctrlKey || ev.metaKey) return; // their own keys
    if (ev.key === 'ArrowRight') {
      stop();
      go(index + 1);
      ev.preventDefault();
    } else if (ev.key === 'ArrowLeft') {
      stop();
      go(index - 1);
      ev.preventDefault();
    } else if (ev.key === 'Home') {
      stop();
      go(0);
      ev.preventDefault();
    } else if (ev.key === 'End') {
      stop();
      go(events.length - 1);
      ev.preventDefault();
    } else if (ev.key === ' ' && tag !== 'BUTTON') {
      toggle();
      ev.preventDefault();
    }
  });
  window.addEventListener('resize', () => {
    renderTimeline();
    drawArrows();
  });

  // For tests and the curious: the steps in brief, and a way to go to one.
  window.ipcView = {
    count: events.length,
    steps: events.map((e) => ({
      kind: e.kind,
      call: e.call,
      pid: e.pid,
      role: roleOf(e.pid),
      pipe: e.pipe === undefined ? null : pipeLabels.get(e.pipe) || null,
      result: e.result,
      text: e.text,
    })),
    go,
    get index() {
      return index;
    },
  };
  if (events.length) go(0);
})();
