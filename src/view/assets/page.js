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
  const indexOf = new Map(events.map((e, i) => [e, i]));
  const processesIn = (snap) => {
    const p = snap ? snap.processes : [];
    return typeof p === 'number' ? tables[p] : p || [];
  };
  /** The processes as the event's own snapshot read them ([] when it took none). */
  const ownProcesses = (e) => processesIn(e.snapshot);
  // Steps are in happens-before order; a step's time is the latest time seen up to it.
  const stepTime = [];
  events.forEach((e, i) => stepTime.push(Math.max(e.time, i > 0 ? stepTime[i - 1] : -Infinity)));

  // --- Which reading of /proc each step shows for each process ----------------
  // A look at the whole tree takes milliseconds, while the other processes run
  // on. A process's descriptors change only by its own calls, so a reading of a
  // process is shown at a step only if it was taken after that process's last
  // such call placed before the step returned, and before its next one began.
  const CHANGES_TABLE = new Set(['pipe', 'close', 'dup', 'dup2', 'fcntl', 'execvp', '_exit']);
  /** Signals whose default action does not end a process. */
  const HARMLESS_SIGNALS = new Set(['SIGSTOP', 'SIGCONT', 'SIGCHLD', 'SIGWINCH', 'SIGURG', 'SIGTSTP', '0']);
  const readingsOf = new Map(); // pid -> [{ p, from, to, at }] by time
  events.forEach((e, i) => {
    const snap = e.snapshot;
    if (!snap) return;
    processesIn(snap).forEach((p, k) => {
      const [from, to] = (snap.reads && snap.reads[k]) || [snap.time, snap.time];
      if (!readingsOf.has(p.pid)) readingsOf.set(p.pid, []);
      readingsOf.get(p.pid).push({ p, from, to, at: i });
    });
  });
  for (const list of readingsOf.values()) list.sort((a, b) => a.from - b.from);
  const endedAt = new Map(); // pid -> { at, notice }: its end as the kernel reported it
  events.forEach((e, i) => {
    if (e.kind === 'ended' && !endedAt.has(e.pid)) endedAt.set(e.pid, { at: i, notice: e.notice });
  });
  const changesOf = new Map(); // pid -> [{ call, startAt, endAt, tStart, tEnd }]
  const createdAt = new Map(); // pid -> first step where it exists
  const reapedAt = new Map(); // pid -> step of the waitpid that reported it
  const exists = (pid, i) => {
    if (!createdAt.has(pid) || createdAt.get(pid) > i) createdAt.set(pid, i);
  };
  events.forEach((e, i) => {
    exists(e.pid, i);
    if (e.kind === 'end' && e.call === 'fork' && typeof e.result === 'number' && e.result > 0) exists(e.result, i);
    if (e.kind === 'end' && (e.call === 'waitpid' || e.call === 'wait') && e.result && e.result.pid > 0) {
      if (!e.result.stopped && !e.result.continued && !reapedAt.has(e.result.pid)) reapedAt.set(e.result.pid, i);
    }
    for (const p of ownProcesses(e)) exists(p.pid, i);
    if (!changesOf.has(e.pid)) changesOf.set(e.pid, []);
    const list = changesOf.get(e.pid);
    // A signal that may end its target: from the kill on, the kernel may close the target's descriptors.
    if (e.kind === 'start' && e.call === 'kill' && !HARMLESS_SIGNALS.has(String(e.args[1]))) {
      const target = Number(e.args[0]);
      if (!changesOf.has(target)) changesOf.set(target, []);
      changesOf.get(target).push({ call: 'kill', id: null, startAt: i, endAt: -1, tStart: e.time, tEnd: Infinity });
    }
    if (e.kind === 'start' && CHANGES_TABLE.has(e.call)) {
      list.push({ call: e.call, id: e.id, startAt: i, endAt: -1, tStart: e.time, tEnd: Infinity });
    } else if (e.kind === 'end') {
      const c = list.find((x) => x.id === e.id && x.endAt < 0);
      if (c) {
        c.endAt = i;
        c.tEnd = e.time;
      }
    } else if (e.kind === 'exit') {
      // The recorder's note as the process ends: alive until its look at /proc was done.
      const t = e.recorder && e.recorder.length ? e.recorder[e.recorder.length - 1][1] : e.time;
      list.push({ call: 'exit', id: null, startAt: i, endAt: -1, tStart: t, tEnd: Infinity });
    }
  });
  // A successful execvp never returns: it is over when /proc shows the new program.
  for (const [pid, list] of changesOf) {
    for (const c of list) {
      if (c.call !== 'execvp' || c.endAt >= 0) continue;
      const r = (readingsOf.get(pid) || []).find((x) => x.from >= c.tStart && x.p.comm !== 'node' && x.p.state !== 'Z');
      if (r) {
        c.endAt = Math.max(r.at, c.startAt + 1);
        c.tEnd = r.from;
        c.image = r.p.comm;
      }
    }
  }
  // Gone without a waitpid here (reaped elsewhere once orphaned): a look at the tree after its last sighting misses it.
  const goneAt = new Map();
  for (const [pid, readings] of readingsOf) {
    const last = readings[readings.length - 1].to;
    const j = events.findIndex(
      (e, n) =>
        n >= createdAt.get(pid) &&
        e.snapshot &&
        e.snapshot.time > last &&
        processesIn(e.snapshot).length > 0 &&
        !processesIn(e.snapshot).some((p) => p.pid === pid),
    );
    if (j >= 0) goneAt.set(pid, j);
  }
  const execAt = new Map(); // `${pid}:${id}` -> the change, for an execvp that replaced the image
  for (const [pid, list] of changesOf) for (const c of list) if (c.image) execAt.set(`${pid}:${c.id}`, c);

  /** What a step shows of process `pid`: a reading and why it is the one, or null when the process is not there. */
  function shownProcess(pid, i) {
    if (!createdAt.has(pid) || createdAt.get(pid) > i) return null;
    if (reapedAt.has(pid) && reapedAt.get(pid) <= i) return null;
    const readings = readingsOf.get(pid) || [];
    const now = stepTime[i];
    // Once /proc has shown it a zombie, it is one (or gone) for good.
    let zombie = null;
    for (const r of readings) if (r.p.state === 'Z' && r.to <= now) zombie = r;
    if (goneAt.has(pid) && goneAt.get(pid) <= i) return null;
    if (zombie) return { p: zombie.p, reading: zombie };
    // Ended, as the kernel told the tracer, before /proc was read again: a zombie, with no descriptors.
    const end = endedAt.get(pid);
    if (end && end.at <= i) {
      const last = readings.filter((r) => r.to <= now).pop() || readings[0];
      const base = last ? last.p : { pid, ppid: events[end.at].ppid, comm: '' };
      return { p: { ...base, state: 'Z', wchan: '', fds: [], others: undefined }, reading: null, ended: end };
    }
    const changes = changesOf.get(pid) || [];
    let k = 0;
    while (k < changes.length && changes[k].endAt >= 0 && changes[k].endAt <= i) k++;
    const from = k > 0 ? changes[k - 1].tEnd : -Infinity;
    const until = k < changes.length ? changes[k].tStart : Infinity;
    const execd = k > 0 && changes[k - 1].call === 'execvp';
    const fits = readings.filter((r) => r.from >= from && r.to <= until && r.p.state !== 'Z');
    let best = null;
    for (const r of fits) if (r.to <= now) best = r;
    // An exec'd program changes its own table unseen: never a reading from after the step.
    if (!best && fits.length && !execd) best = fits[0];
    if (!best && execd && fits.length) best = fits[0];
    return best ? { p: best.p, reading: best } : { p: null, reading: null };
  }
  const shownAt = events.map((e, i) => {
    const out = [];
    if (e.kind === 'exit' && e.pid === rec.rootPid) return out; // the run is over
    const pids = [...createdAt.keys()].sort((a, b) => createdAt.get(a) - createdAt.get(b) || a - b);
    for (const pid of pids) {
      const shown = shownProcess(pid, i);
      if (shown) out.push({ pid, ...shown });
    }
    return out;
  });
  /** The processes as step `i` shows them (those whose table is known at it). */
  const processesAt = (i) => shownAt[i].filter((x) => x.p).map((x) => x.p);
  const processesOf = (e) => processesAt(indexOf.get(e));

  // --- Program time: the recorder's own looks at /proc taken out ---------------
  const busy = rec.recorderBusy || [];
  const busyBefore = [0];
  for (const [a, b] of busy) busyBefore.push(busyBefore[busyBefore.length - 1] + (b - a));
  /** ms of recorder time before `t` (the intervals are merged and sorted). */
  const recorderBefore = (t) => {
    let lo = 0;
    let hi = busy.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (busy[mid][1] <= t) lo = mid + 1;
      else hi = mid;
    }
    return busyBefore[lo] + (lo < busy.length && busy[lo][0] < t ? t - busy[lo][0] : 0);
  };

  const STATES = {
    R: 'running',
    S: 'sleeping: blocked, waiting for an event',
    D: 'in uninterruptible wait',
    T: 'stopped by a signal',
    t: 'stopped by a tracer (ptrace: the strace that reports signals here, while it takes down a call)',
    Z: 'zombie: it has exited; its parent has not called waitpid yet',
    X: 'dead',
  };
  const t0 = events.length ? events[0].time : 0;
  /** Clock time since the first step, the recorder's looks included. */
  const ms = (t) => `${(t - t0).toFixed(1)} ms`;
  /** Program time: clock time less the recorder's looks at /proc before `t`. */
  const programTime = (t) => t - t0 - (recorderBefore(t) - recorderBefore(t0));
  const pms = (t) => `${programTime(t).toFixed(1)} ms`;
  // Bytes as C and strace write them: \0 for NUL, \n, \", octal for the other control bytes.
  const ESCAPES = { '\0': '\\0', '\n': '\\n', '\t': '\\t', '\r': '\\r', '"': '\\"', '\\': '\\\\' };
  const quote = (text) =>
    text.replace(/[\x00-\x1f\x7f-\xff"\\]/g, (c) => ESCAPES[c] || `\\${c.charCodeAt(0).toString(8)}`);

  // --- Who is who: roles from the process tree, pipes in creation order -----
  const parentOf = new Map();
  const order = [];
  for (const e of events) {
    for (const p of ownProcesses(e)) {
      if (!parentOf.has(p.pid)) {
        parentOf.set(p.pid, p.ppid);
        order.push(p.pid);
      }
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
  const roleOf = (pid) => roles.get(pid) || `pid ${pid}`;
  /** The role, and the program it runs once it has exec'd one (from /proc's comm). */
  const roleWith = (p) => (p.comm && p.comm !== 'node' ? `${roleOf(p.pid)} (${p.comm})` : roleOf(p.pid));
  const roleClass = (pid) => (pid === rec.rootPid ? 'role-parent' : roles.has(pid) ? 'role-child' : 'role-other');

  const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const pipeLabels = new Map(); // inode -> 'A'
  const endNames = new Map(); // `${inode}:${end}` -> 'parent_read'
  /** The descriptor of the event's process, as its table at that step shows it. */
  const fdOf = (e, fd) => {
    const self = processesOf(e).find((p) => p.pid === e.pid);
    return (self && self.fds.find((x) => x.fd === fd)) || null;
  };
  /** Where pipe() made it: its end, with the process's own look at /proc right after. */
  const madeBy = (e) => {
    const self = ownProcesses(e).find((p) => p.pid === e.pid);
    const f = self && self.fds.find((x) => x.fd === (e.result || [])[0]);
    return f ? f.pipe : undefined;
  };
  const createdStep = new Map(); // inode -> step of the pipe() that made it
  events.forEach((e, i) => {
    if (e.kind !== 'end' || e.call !== 'pipe' || !Array.isArray(e.result)) return;
    const inode = madeBy(e);
    if (inode !== undefined && !createdStep.has(inode)) createdStep.set(inode, i);
  });
  for (const e of events) {
    if (e.kind !== 'end' || e.call !== 'pipe' || !Array.isArray(e.result)) continue;
    const inode = madeBy(e);
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
    const f = fdOf(e, fd);
    const inode = f ? f.pipe : undefined;
    const nm = inode !== undefined ? endNames.get(`${inode}:${f.end}`) : ['stdin', 'stdout', 'stderr'][fd];
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
  /** One call as written in C and by strace, flags by name (the recording names them). */
  function oneCall(call, a, s, e) {
    let args;
    switch (call) {
      case 'read':
        args = `${fdText(s, a[0])}, ${e && e.kind === 'end' && e.result && e.result.text !== undefined ? bytesText(e.result) : 'buf'}, ${a[3]}`;
        break;
      case 'write':
        args = `${fdText(s, a[0])}, ${bytesText(a[1])}, ${a[3]}`;
        break;
      case 'close':
      case 'dup':
      case 'bytesQueued':
        args = fdText(s, a[0]);
        break;
      case 'dup2':
      case 'fcntl':
        args = [fdText(s, a[0]), ...a.slice(1).map(String)].join(', ');
        break;
      case 'sleep':
        args = `${a[0]} ms`;
        break;
      case 'poll':
        args = `[${(a[0] || []).map((p) => `{fd=${fdText(s, p.fd)}, events=${p.events}}`).join(', ')}], ${a[1]}`;
        break;
      case 'execvp':
        args = `"${quote(String(a[0]))}", [${(a[1] || []).map((x) => `"${quote(String(x))}"`).join(', ')}]`;
        break;
      default:
        args = a.map((x) => (x && typeof x === 'object' ? bytesText(x) : String(x))).join(', ');
    }
    // pipe() with flags is pipe2(), as strace and the C library name it.
    return `${call === 'pipe' && a.length ? 'pipe2' : call}(${args})`;
  }
  function callText(e) {
    const s = startOf(e);
    if (s.round) return `${s.round.map((c) => oneCall(c.call, c.args || [], s)).join('; ')} ×${s.repeat}`;
    return `${oneCall(e.call, e.args || [], s, e)}${e.repeat ? ` ×${e.repeat}` : ''}`;
  }
  function resultOf(call, r, e) {
    if (call === 'pipe' && Array.isArray(r)) return `[${r.map((fd) => fdText(e, fd)).join(', ')}]`;
    if ((call === 'waitpid' || call === 'wait') && r && typeof r === 'object') {
      if (r.pid === 0) return '0 (no child has changed state)';
      return `${r.pid} (${r.signaled ? `killed by ${r.signal}` : r.stopped ? `stopped by ${r.stopSignal}` : r.continued ? 'continued' : `exited with status ${r.exitCode}`})`;
    }
    if (call === 'poll' && Array.isArray(r))
      return `${r.length}${r.length ? ` [${r.map((p) => `{fd=${p.fd}, revents=${p.revents}}`).join(', ')}]` : ''}`;
    if (r && typeof r === 'object' && 'bytes' in r) return String(r.bytes);
    return r === undefined ? '0' : String(r);
  }
  function resultText(e) {
    if (e.error) return `-1 ${e.error.code}`;
    const s = startOf(e);
    if (s.round) return s.round.map((c) => `${c.call} = ${resultOf(c.call, c.result, s)}`).join(', ');
    return resultOf(e.call, e.result, e);
  }
  // --- What the kernel reported to the tracer: signals, ends, interrupted calls ---
  const CHILD_CODES = {
    CLD_EXITED: 'exited',
    CLD_KILLED: 'was killed',
    CLD_DUMPED: 'was killed (core dumped)',
    CLD_STOPPED: 'stopped',
    CLD_CONTINUED: 'continued',
  };
  function signalText(e) {
    const n = e.notice;
    if (n.signal === 'SIGCHLD' && n.from) {
      const what = CHILD_CODES[n.code] || n.code;
      return `SIGCHLD (${roleOf(n.from)} ${n.from} ${what}${n.code === 'CLD_EXITED' ? ` with status ${n.status}` : n.status ? `: ${n.status}` : ''})`;
    }
    return `${n.signal}${n.from ? ` (sent by ${roleOf(n.from)} ${n.from})` : n.code === 'SI_KERNEL' ? ' (from the kernel)' : ''}`;
  }
  /** The hex mask `mask` (SigCgt, SigIgn) holds signal number `n`. */
  const inMask = (mask, n) => !!mask && n > 0 && ((BigInt(`0x${mask}`) >> BigInt(n - 1)) & 1n) === 1n;
  const SIGNALS = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGKILL: 9,
    SIGUSR1: 10,
    SIGSEGV: 11,
    SIGUSR2: 12,
    SIGPIPE: 13,
    SIGALRM: 14,
    SIGTERM: 15,
    SIGCHLD: 17,
    SIGCONT: 18,
    SIGSTOP: 19,
    SIGTSTP: 20,
    SIGWINCH: 28,
  };
  const DEFAULT_IGNORED = new Set(['SIGCHLD', 'SIGWINCH', 'SIGURG']);
  function disposition(e) {
    const n = e.notice;
    const i = indexOf.get(e);
    const p = (shownAt[i].find((x) => x.pid === e.pid) || {}).p;
    const number = SIGNALS[n.signal];
    if (n.signal === 'SIGKILL' || n.signal === 'SIGSTOP') return 'it cannot be caught or ignored.';
    if (!p || p.caught === undefined || !number)
      return "what it does depends on the process's handler, which was not read.";
    if (inMask(p.caught, number)) return 'the process catches it: its handler runs.';
    if (inMask(p.ignored, number)) return 'the process ignores it (SIG_IGN): nothing happens.';
    if (DEFAULT_IGNORED.has(n.signal)) return 'no handler: its default action is to ignore it.';
    if (n.signal === 'SIGCONT') return 'no handler: it continues the process.';
    if (n.signal === 'SIGTSTP') return 'no handler: it stops the process.';
    return 'no handler: its default action ends the process.';
  }
  function endText(n) {
    return n.exitCode === null
      ? `killed by ${n.signal}${n.coreDumped ? ' (core dumped)' : ''}`
      : `exited with status ${n.exitCode}`;
  }

  function describe(e) {
    const who = `${roleOf(e.pid)} (pid ${e.pid})`;
    const s = startOf(e);
    switch (e.kind) {
      case 'start':
        return s.round
          ? `${who} polls: ${callText(e)} (a polling loop, ${e.repeat} rounds shown as one step)`
          : `${who} calls ${callText(e)}`;
      case 'end':
        if (s.round)
          return `${who}: polling over, ${e.repeat} rounds in ${(e.time - s.time).toFixed(1)} ms, each ${resultText(e)}`;
        return e.repeat
          ? `${who}: ${callText(e)} return ${resultText(e)} in all (a loop: ${e.repeat} calls shown as one step)`
          : `${who}: ${callText(e)} returns ${resultText(e)}`;
      case 'sample':
        return `${who} is about to wait: the recorder looks at its children (states from /proc)`;
      case 'say':
        return `${who} prints: ${e.text.trim()}`;
      case 'exit':
        return e.pid === rec.rootPid ? `${who} ends: the run is over, no process is left` : `${who} ends (${e.text})`;
      case 'signal':
        return `The kernel delivers ${signalText(e)} to ${roleOf(e.pid)} (pid ${e.pid}); ${disposition(e)}`;
      case 'ended':
        return `${who} has ended: ${endText(e.notice)}. Until its parent's waitpid reaps it, it is a zombie.`;
      case 'interrupted':
        return `${e.notice.signal} broke off ${roleOf(e.pid)}'s ${e.notice.call}() (pid ${e.pid}): it ran the handler, then ${e.notice.outcome === 'EINTR' ? 'the call returned -1 EINTR' : e.notice.outcome === 'restarted' ? 'the kernel made the call again (SA_RESTART)' : 'the call was not seen made again'}`;
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
    // A process that has exited (a killed writer) has no call in progress, nor one whose exec replaced it.
    const alive = new Set(shownAt[i].filter((x) => !x.p || x.p.state !== 'Z').map((x) => x.pid));
    for (const [k, j] of open) {
      const exec = execAt.get(k);
      if (!alive.has(events[j].pid) || (exec && exec.endAt <= i)) open.delete(k);
    }
    // Only this step's own look at /proc is shown as measured at it.
    const snap = e.snapshot;
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
      pipes[inode] = {
        queued,
        /** What the calls' returns alone put in and took out. */
        flow: model,
        text,
        partial: !known || text.length < queued,
        kernel: kernel ? kernel.queued : null,
        kernelAt: snap ? snap.time : null,
      };
    }
    steps.push({ open: [...open.values()], pipes, capacity: new Map(capacity), said: said.length });
  });

  // --- Drawing --------------------------------------------------------------------
  const scrubber = $('scrubber');
  scrubber.max = String(Math.max(0, events.length - 1));
  $('title').textContent = rec.title;
  $('subtitle').textContent =
    `bidirectional-ipc ${rec.command} · recorded on Linux ${rec.kernel.release}, Node ${rec.kernel.node} · ${events.length} steps over ${events.length ? pms(events[events.length - 1].time) : '0 ms'} of program time (${events.length ? ms(events[events.length - 1].time) : '0 ms'} on the clock, the recorder's looks at /proc included) · root pid ${rec.rootPid} · ${rec.signals && rec.signals.by ? `signals and ends as the kernel reported them to ${rec.signals.by}` : `signals and ends not observed: ${rec.signals ? rec.signals.missing : 'not recorded'}`}`;
  let index = 0;

  function renderProcesses(e, step) {
    const box = $('procs');
    box.replaceChildren();
    const shown = shownAt[index];
    if (shown.length === 0) {
      box.append(
        el('p', {
          class: 'none',
          id: 'no-processes',
          text: 'No process is left: every process of the run has exited (and been reaped).',
        }),
      );
      return;
    }
    for (const { pid, p: read, reading, ended } of shown) {
      // No look at /proc fits this step (its table changed on both sides of every look): say so, show no table.
      const p = read || { pid, ppid: parentOf.get(pid), comm: '', state: '?', wchan: '', fds: [] };
      const cls = `proc ${roleClass(p.pid)}${p.state === 'Z' ? ' zombie' : ''}`;
      const art = el('article', {
        class: cls,
        'data-pid': p.pid,
        'data-state': p.state,
        'data-role': roleOf(p.pid),
        'data-read-at': reading ? reading.at : null,
        'data-read-from': reading ? reading.from : null,
        'data-read-to': reading ? reading.to : null,
        'aria-label': `${roleWith(p)}, pid ${p.pid}, state ${p.state}`,
      });
      art.append(
        el('h3', {}, `${roleWith(p)} `, el('span', { class: 'who', text: `pid ${p.pid} · parent ${p.ppid}` })),
      );
      const own = reading && reading.at === index;
      const acting = e.pid === p.pid && (e.kind === 'start' || e.kind === 'end');
      let stateText = STATES[p.state] || 'not read at this step';
      if (p.state === 'S' && p.wchan && p.wchan !== '0') stateText += ` (in the kernel's ${p.wchan})`;
      if (acting && own && p.state === 'R') stateText = 'running: making this call';
      art.append(el('p', { class: `state state-${p.state}` }, el('b', { text: p.state }), stateText));
      if (ended)
        art.append(
          el('p', {
            class: 'carried',
            text: `It ${endText(ended.notice)} at ${pms(ended.notice.time)} (step ${ended.at + 1}), as the kernel told the tracer; /proc was not read since.`,
          }),
        );
      if (reading && !own) {
        const before = reading.to <= stepTime[index];
        art.append(
          el('p', {
            class: 'carried',
            text:
              p.state === 'Z'
                ? `As /proc showed it at ${pms(reading.from)} (step ${reading.at + 1}): it had exited; a zombie stays one until it is reaped.`
                : before
                  ? `Carried forward: as /proc showed it at ${pms(reading.from)} (step ${reading.at + 1}); its descriptors have not changed since, its state may have.`
                  : `As /proc showed it a little later, at ${pms(reading.from)} (step ${reading.at + 1}), before its next call that changes its descriptors.`,
          }),
        );
      }
      for (const [k, c] of execAt) {
        if (c.endAt <= index && events[c.startAt].pid === pid && k.startsWith(`${pid}:`))
          art.append(
            el('p', {
              class: 'incall exec',
              'data-call': 'execvp',
              text: `${callText(events[c.startAt])} replaced its image: it now runs ${c.image}, without the descriptors marked close-on-exec; execvp never returns.`,
            }),
          );
      }
      for (const j of step.open) {
        const s = events[j];
        if (s.pid !== p.pid) continue;
        const waited = programTime(e.time) - programTime(s.time);
        // Blocked only if a look at /proc made during the call saw it asleep.
        const asleep = p.state === 'S' && reading && reading.from >= s.time;
        art.append(
          el(
            'p',
            { class: 'incall', 'data-call': s.call },
            `${callText(s)} in progress for ${waited.toFixed(1)} ms${s.call === 'read' || s.call === 'write' || s.call === 'waitpid' ? ` — ${asleep ? 'blocked, waiting' : 'not returned yet'}` : ''}`,
          ),
        );
      }
      if (!read) {
        art.append(el('p', { class: 'others', text: 'Its descriptors were not read between its calls here.' }));
      } else if (p.state === 'Z') {
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
      if (createdStep.get(inode) > index) continue; // not made yet
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
                ? 'No read end is open: a write raises SIGPIPE, which ends the writer unless it ignores, catches or blocks it; then the write fails with EPIPE (pipe(7)).'
                : `EOF only when all ${writers.length} write end${writers.length > 1 ? 's are' : ' is'} closed.`,
        }),
      );
      if (st.kernel !== null && st.kernel !== undefined && st.kernel !== st.queued) {
        art.append(
          el('p', {
            class: 'eof',
            text: `(FIONREAD read by this step's look at /proc, at ${pms(st.kernelAt)}: ${st.kernel}; the other process had moved on by then)`,
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
    let endIndex = events.findIndex((x, j) => j > i && x.kind === 'end' && x.pid === e.pid && x.id === e.id);
    let last = e.time;
    let lastAt = i; // the last step it was seen alive, for a call that never returned
    const exec = execAt.get(`${e.pid}:${e.id}`);
    if (exec) {
      // the exec replaced the image: the call is over when /proc shows the new program
      endIndex = exec.endAt;
      last = exec.tEnd;
    } else if (endIndex < 0) {
      // never returned (_exit, a killed process): the bar runs until the process was last seen alive
      for (let j = events.length - 1; j > i; j--) {
        if (processesAt(j).some((p) => p.pid === e.pid && p.state !== 'Z')) {
          last = events[j].time;
          lastAt = j;
          break;
        }
      }
    }
    bars.push({
      start: i,
      end: endIndex,
      pid: e.pid,
      call: e.call,
      exec: exec ? exec.image : null,
      lastAt,
      t1: e.time,
      t2: endIndex >= 0 && !exec ? events[endIndex].time : last,
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
    // Program time: the recorder's looks at /proc are taken out of the axis.
    const span = Math.max(1, programTime(tEnd));
    const x = (t) => LEFT + (programTime(t) / span) * (width - LEFT - 10);
    area.append(svg('line', { class: 'axis', x1: LEFT, x2: width - 10, y1: 14, y2: 14 }));
    const ticks = Math.max(1, Math.floor((width - LEFT) / 140));
    for (let k = 0; k <= ticks; k++) {
      const at = (span * k) / ticks;
      const label = svg('text', {
        x: LEFT + (at / span) * (width - LEFT - 10),
        y: 11,
        'text-anchor': k === 0 ? 'start' : k === ticks ? 'end' : 'middle',
      });
      label.textContent = `${at.toFixed(1)} ms`;
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
        // A call still open here has not returned: its return (or exec) is not shown before it happens.
        title.textContent = `${callText(events[b.start])}${inProgress ? (b.end < 0 && index > b.lastAt ? ' (never returned)' : ' (not returned yet)') : b.exec ? `: the image replaced by ${b.exec}` : ` = ${resultText(events[b.end])}`}`;
        rect.append(title);
        area.append(rect);
      }
    });
    // Signals and ends: a mark on the lane of the process the kernel acted on.
    events.forEach((e, i) => {
      if (!e.notice || i > index) return;
      const n = lanes.indexOf(e.pid);
      if (n < 0) return;
      const mark = svg(e.kind === 'ended' ? 'rect' : 'circle', {
        class: `notice notice-${e.kind}`,
        ...(e.kind === 'ended'
          ? { x: x(e.time) - 4, y: 18 + n * LANE + 8, width: 8, height: 8 }
          : { cx: x(e.time), cy: 18 + n * LANE + LANE / 2, r: 4 }),
      });
      const title = svg('title');
      title.textContent = describe(e);
      mark.append(title);
      area.append(mark);
    });
    area.append(svg('line', { class: 'cursor', x1: x(current.time), x2: x(current.time), y1: 14, y2: height }));
    area.onclick = (ev) => {
      const r = area.getBoundingClientRect();
      const px = ((ev.clientX - r.left) / r.width) * width;
      const t = ((px - LEFT) / (width - LEFT - 10)) * span;
      let best = 0;
      events.forEach((e, i) => {
        if (Math.abs(programTime(e.time) - t) < Math.abs(programTime(events[best].time) - t)) best = i;
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
    // Only what the program has printed by this step: what it prints later has not happened yet.
    all
      .slice(0, step.said)
      .forEach((e, n) => pre.append(el('span', { class: n === step.said - 1 ? 'latest' : null, text: e.text })));
  }

  function render() {
    const e = events[index];
    const step = steps[index];
    scrubber.value = String(index);
    scrubber.setAttribute('aria-valuetext', `step ${index + 1} of ${events.length}: ${describe(e)}`);
    $('stepno').textContent = `${index + 1} / ${events.length}`;
    $('now').textContent =
      `Step ${index + 1} of ${events.length} · ${pms(e.time)} (${ms(e.time)} on the clock)\n${describe(e)}`;
    renderProcesses(e, step);
    renderPipes(e, step);
    renderTimeline();
    renderSources();
    renderSaid(step);
    drawArrows();
    document.body.dataset.step = String(index);
  }

  function go(i) {
    // Going anywhere else drops a question still on screen (Reveal goes to its step after clearing it).
    if (asking !== null) {
      asking = null;
      quizBox.hidden = true;
    }
    index = Math.max(0, Math.min(events.length - 1, i));
    render();
  }

  // --- Quiz: before a step, ask what the kernel will show after it ------------
  // The kinds of question `bidirectional-ipc steps --predict` asks, in its
  // words, each asked only where the recording holds the kernel's answer at
  // that very step: the call's return, the bytes the calls' returns put into
  // and took out of a pipe, a look at /proc (or the tracer's report of an end)
  // made no later than the step. No question where the step before already
  // shows a look made after it: it would give the answer away.
  const quizBox = $('quiz');
  const quizToggle = $('quiz-mode');
  quizToggle.checked = /[?&]quiz(=|&|$)/.test(window.location.search);
  let asking = null; // { i, q }: the question on screen, not yet answered
  const bytesOf = (r) => (typeof r === 'number' ? r : r && typeof r === 'object' && 'bytes' in r ? r.bytes : null);
  const theRole = (pid) => (roles.has(pid) ? `the ${roleOf(pid)}` : roleOf(pid));
  /** Whether step `i` shows a process as a look at /proc made at a later step saw it. */
  const showsLater = (i) => shownAt[i].some((x) => x.reading && x.reading.at > i);
  /** The looks at /proc step `i` shows, as 'pid:step of the look', for the page's markup. */
  const looksAt = (i) =>
    shownAt[i]
      .filter((x) => x.reading)
      .map((x) => `${x.pid}:${x.reading.at}`)
      .join(',');
  const READ_WRITE = new Set(['read', 'write']);

  /** The question to ask before step `i`, or null: what it asks, how it is answered, and the kernel's answer. */
  function questionFor(i) {
    if (i <= 0 || i >= events.length) return null;
    const e = events[i];
    const s = startOf(e);
    const step = steps[i];
    const shown = shownAt[i];
    // A process that becomes a zombie or stops: which state, as the kernel first shows it at this step (first:
    // it happens once, where a question of another kind may fit too).
    for (const x of shown) {
      if (!x.p || (x.p.state !== 'Z' && x.p.state !== 'T')) continue;
      const was = shownAt[i - 1].find((y) => y.pid === x.pid);
      // Its state before (unknown where no look fits), never from a look made after that step.
      if (!was || (was.p && was.p.state === x.p.state) || (was.reading && was.reading.at > i - 1)) continue;
      if (x.reading && x.reading.at > i) continue;
      let seen = null;
      if (x.ended && x.ended.at === i) seen = `ended:${i}`;
      else if (x.reading && (!was.reading || was.reading.at !== x.reading.at)) seen = `look:${x.reading.at}`;
      if (seen === null) continue;
      const st = x.p.state;
      return {
        kind: 'state',
        data: { pid: x.pid, seen },
        ask: `Which state will ${theRole(x.pid)} be in after this step (R, S, T or Z)?`,
        choices: ['R', 'S', 'T', 'Z'].map((v) => ({ value: v, text: `${v}: ${STATES[v]}` })),
        answer: st,
        says: x.ended
          ? `it has ended, as the kernel told the tracer: state Z (${STATES.Z})`
          : `/proc/${x.pid}/stat shows state ${st} (${STATES[st]})`,
      };
    }
    const returned = e.kind === 'end' && !e.error && !e.repeat && !s.round;
    // read() and write(): how many bytes it returns, or, for a write into one of the program's pipes, how many are queued after it.
    if (returned && READ_WRITE.has(e.call) && bytesOf(e.result) !== null) {
      const label = e.call === 'write' && e.pipe !== undefined ? pipeLabels.get(e.pipe) : undefined;
      const st = label && step.pipes[e.pipe];
      if (st && st.queued === st.flow) {
        const n = st.queued;
        return {
          kind: 'queued',
          data: { pid: e.pid, inode: e.pipe, pipe: label },
          ask: `How many bytes will be queued in pipe ${label} after the write?`,
          answer: String(n),
          says: `${n} bytes queued in pipe ${label} (written less read, from the calls' returns${st.kernel === n ? '; FIONREAD agrees' : ''})`,
        };
      }
      const n = bytesOf(e.result);
      return {
        kind: 'returns',
        data: { pid: e.pid },
        ask: `What will ${theRole(e.pid)}'s ${callText(s)} return?`,
        answer: String(n),
        says: `${e.call}() returned ${n}`,
      };
    }
    // The kinds below answer from looks at /proc: none made after the step, nor shown at the step before.
    if (showsLater(i) || showsLater(i - 1)) return null;
    // pipe(): how many ends of the program's pipes the process holds, from its look at /proc right after.
    if (returned && e.call === 'pipe') {
      const self = shown.find((x) => x.pid === e.pid);
      if (!self || !self.reading || self.reading.at !== i) return null;
      const n = self.p.fds.filter((f) => pipeLabels.has(f.pipe)).length;
      return {
        kind: 'ends',
        data: { pid: e.pid, seen: String(i) },
        ask: `How many of the program's pipe ends will ${theRole(e.pid)} hold?`,
        answer: String(n),
        says: `/proc/${e.pid}/fd of ${theRole(e.pid)} shows ${n} ends of the program's pipes`,
      };
    }
    // fork() and close(): how many processes hold an end, when every table shown is a look at /proc and none is changing.
    const forked = returned && e.call === 'fork' && typeof e.result === 'number' && e.result > 0;
    const closed = returned && e.call === 'close' && e.pipe !== undefined && pipeLabels.has(e.pipe);
    if (
      (forked || closed) &&
      shown.every((x) => x.p && (x.reading || x.p.state === 'Z')) &&
      !step.open.some((j) => CHANGES_TABLE.has(events[j].call))
    ) {
      let end = null;
      if (closed) {
        const before = processesAt(i - 1).find((p) => p.pid === e.pid);
        const f = before && before.fds.find((x) => x.fd === s.args[0]);
        if (f && f.pipe === e.pipe) end = { inode: f.pipe, end: f.end };
      } else {
        const self = processesAt(i).find((p) => p.pid === e.pid);
        const f = self && self.fds.find((x) => pipeLabels.has(x.pipe) && x.end === 'write');
        if (f) end = { inode: f.pipe, end: 'write' };
      }
      if (end) {
        const n = processesAt(i).filter((p) => p.fds.some((f) => f.pipe === end.inode && f.end === end.end)).length;
        const label = pipeLabels.get(end.inode);
        const nm = endNames.get(`${end.inode}:${end.end}`);
        return {
          kind: 'holders',
          data: { inode: end.inode, pipe: label, end: end.end, seen: looksAt(i) },
          ask: `How many processes will hold the ${end.end} end of pipe ${label}${nm ? ` (${nm})` : ''}?`,
          answer: String(n),
          says: `${n} process${n === 1 ? ' holds' : 'es hold'} it, in /proc/PID/fd`,
        };
      }
    }
    // While another process is in a call: which processes are blocked, as a new look at /proc shows them.
    const live = shown.filter((x) => x.p && x.p.state !== 'Z');
    const lookNew = shown.some((x) => {
      const was = shownAt[i - 1].find((y) => y.pid === x.pid);
      return x.reading && (!was || !was.reading || was.reading.at !== x.reading.at);
    });
    if (
      live.length >= 2 &&
      lookNew &&
      live.every((x) => x.reading && x.p.state !== 't' && x.p.state !== '?') &&
      step.open.some((j) => events[j].pid !== e.pid)
    ) {
      const blocked = live.filter((x) => x.p.state === 'S' || x.p.state === 'D');
      return {
        kind: 'blocked',
        data: { seen: looksAt(i) },
        ask: 'Which processes will be blocked (state S: asleep in the kernel, waiting) after this step? Tick none if none.',
        choices: live.map((x) => ({ value: String(x.pid), text: `${roleWith(x.p)} (pid ${x.pid})` })),
        multiple: true,
        answer: blocked
          .map((x) => String(x.pid))
          .sort()
          .join(','),
        says: `/proc/PID/stat shows ${live.map((x) => `${theRole(x.pid)} in state ${x.p.state}${x.p.state === 'S' && x.p.wchan && x.p.wchan !== '0' ? ` (in the kernel's ${x.p.wchan})` : ''}`).join(', ')}`,
      };
    }
    return null;
  }
  const questions = new Map(); // step -> its question, worked out when first needed
  const questionAt = (i) => {
    if (!questions.has(i)) questions.set(i, questionFor(i));
    return questions.get(i);
  };

  function ask(i) {
    const q = questionAt(i);
    asking = { i, q };
    quizBox.hidden = false;
    for (const k of ['kind', 'step', 'pid', 'inode', 'pipe', 'end', 'seen', 'answer', 'right'])
      delete quizBox.dataset[k];
    quizBox.dataset.kind = q.kind;
    quizBox.dataset.step = String(i);
    for (const [k, v] of Object.entries(q.data)) quizBox.dataset[k] = String(v);
    $('quiz-question').textContent = q.ask;
    $('quiz-verdict').textContent = '';
    const input = $('quiz-answer');
    const choices = $('quiz-choices');
    choices.replaceChildren();
    input.value = '';
    input.hidden = !!q.choices;
    input.disabled = !!q.choices;
    choices.hidden = !q.choices;
    for (const c of q.choices || [])
      choices.append(
        el(
          'label',
          {},
          el('input', { type: q.multiple ? 'checkbox' : 'radio', name: 'quiz-choice', value: c.value }),
          ` ${c.text}`,
        ),
      );
    $('quiz-reveal').disabled = false;
    (q.choices ? choices.querySelector('input') : input).focus();
  }
  function reveal() {
    if (asking === null) return;
    const { i, q } = asking;
    asking = null;
    let given;
    let said;
    let right;
    if (q.choices) {
      const ticked = Array.from($('quiz-choices').querySelectorAll('input:checked'), (c) => c.value);
      given = ticked.sort().join(',');
      right = given === q.answer;
      said = q.multiple
        ? `"${ticked.map((v) => roleOf(Number(v))).join(', ') || 'none'}"`
        : given === ''
          ? 'nothing'
          : `"${given}"`;
    } else {
      given = $('quiz-answer').value.trim();
      right = /^\d+$/.test(given) && Number(given) === Number(q.answer);
      said = given === '' ? 'nothing' : `"${given}"`;
    }
    go(i);
    $('quiz-answer').disabled = true;
    for (const c of $('quiz-choices').querySelectorAll('input')) c.disabled = true;
    $('quiz-reveal').disabled = true;
    quizBox.dataset.answer = q.answer;
    quizBox.dataset.right = String(right);
    $('quiz-verdict').textContent = `The kernel: ${q.says}. You said ${said}: ${right ? 'right' : 'not this time'}.`;
  }
  /** One step forward; in quiz mode a step that returns a count asks first. */
  function forward() {
    if (asking !== null) return false;
    const next = index + 1;
    if (next >= events.length) return false;
    if (quizToggle.checked && questionAt(next) !== null) {
      ask(next);
      return false;
    }
    go(next);
    return true;
  }
  $('quiz-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    reveal();
  });
  quizToggle.addEventListener('change', () => {
    asking = null;
    quizBox.hidden = true;
  });

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
    const gap =
      speed === 'step'
        ? 1000
        : Math.min(
            3000,
            Math.max(0, programTime(events[index + 1].time) - programTime(events[index].time)) / Number(speed),
          );
    timer = setTimeout(() => {
      if (forward()) tick();
      else stop(); // a question waits for its answer
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
    forward();
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
      forward();
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
    forward,
    get index() {
      return index;
    },
  };
  if (events.length) go(0);
})();
