/*
 * playground.js -- the schedule playground's page.
 *
 * The form writes the command line a learner could type,
 * `pipelab run ... --simulate --json`, and shows it. The course's C library,
 * compiled to WebAssembly (src/web/web.c; `make playground`), runs that very
 * line and answers with what the command prints, the schedule in the text
 * format, each device's memory through the step and the timeline as the
 * course's SVG renderer draws it. This file lays the answer out and draws
 * the memory strips from the numbers given; it computes no figure itself.
 */
'use strict';

const SCHEDULE_FILE = 'schedule.txt'; /* what the text below runs as (--schedule-file) */
const TEXT = '@text';                 /* side A's schedule choice for that text */
const MOST_CHUNK_MICROBATCHES = 16384; /* p·m·v: up to 3 actions each, all drawn */

let lib = null;          /* the WebAssembly module */
let registry = [];       /* every registered schedule (pl_web_registry) */
let textEdited = false;  /* the editor holds the learner's text, not A's schedule */
let textTimer = 0;
let shownText = null;    /* what showText drew last */

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const esc = s => String(s).replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]));

/* ---- the WebAssembly calls (web.h) ---- */

/* Call one of web.h's functions with string arguments; its JSON answer, parsed. */
function call(name, ...args) {
  const ptrs = [];
  try {
    for (const s of args) {
      const n = lib.lengthBytesUTF8(s) + 1, p = lib._malloc(n);
      if (!p) throw new Error('out of memory');
      lib.stringToUTF8(s, p, n);
      ptrs.push(p);
    }
    const out = lib.ccall(name, 'number', args.map(() => 'number'), ptrs);
    if (!out) throw new Error(name + ': out of memory');
    const text = lib.UTF8ToString(out);
    lib.ccall('pl_web_free', null, ['number'], [out]);
    return JSON.parse(text);
  } finally {
    ptrs.forEach(p => lib._free(p));
  }
}

/* ---- the form ---- */

const sides = () => $('[name=compare]').checked ? ['a', 'b'] : ['a'];
const sideBox = name => $(`.side[data-side="${name}"]`);
const input = (root, name) => root.querySelector(`[name="${name}"]`);
const entryOf = name => registry.find(e => e.name === name);
const shared = name => input($('.shared'), name).value.trim();

/* The schedule text's shape (pl_web_shape), or null if it does not parse. */
function textShape() {
  const s = call('pl_web_shape', $('#text').value);
  return s.error ? null : {p: s.devices, m: s.microbatches, v: s.chunks};
}

/* Side `name`'s p, m and v as the form asks for them (numbers, or NaN). */
function shapeOf(name) {
  const box = sideBox(name), choice = input(box, 'schedule').value;
  if (choice === TEXT)
    return textShape() || {p: NaN, m: NaN, v: NaN};
  const e = entryOf(choice), n = f => Number(input(box, f).value);
  return {p: n('p'), m: e.microbatches || n('m'), v: e.chunks || n('v')};
}

/* Grey out what a schedule fixes (naive's m, zb-v's v) and say what it is. */
function showFixed(name) {
  const box = sideBox(name), choice = input(box, 'schedule').value, e = entryOf(choice);
  const text = choice === TEXT;
  const fix = (field, value) => { /* the learner's own value comes back when unfixed */
    const el = input(box, field), fixed = value !== 0;
    if (fixed && !el.disabled) el.dataset.own = el.value;
    if (!fixed && el.disabled && el.dataset.own !== undefined) el.value = el.dataset.own;
    if (fixed && value !== null) el.value = value;
    el.disabled = fixed;
  };
  const own = text ? textShape() || {p: null, m: null, v: null} : {p: 0, m: e.microbatches, v: e.chunks};
  ['p', 'm', 'v'].forEach(f => fix(f, own[f]));
  $('.help', box).textContent = text
    ? 'the schedule in the text below: p, m and v are its own'
    : `chapter ${String(e.chapter).padStart(2, '0')}: ${e.help}` +
      (e.bubble ? `; bubble ${e.bubble}` : '') + (e.peak ? `; peak in flight ${e.peak}` : '');
}

const gcd = (a, b) => b ? gcd(b, a % b) : a;
const lcm = list => list.reduce((a, b) => a / gcd(a, b) * b, 1);

/* Layers and batch that split evenly for every side, so each stage and each
 * micro-batch is the same size (the formulas assume it): changed only when
 * p, m or v changed and the current ones do not. */
function fitModel() {
  const shapes = sides().map(shapeOf).filter(s => [s.p, s.m, s.v].every(Number.isInteger) &&
                                                   s.p > 0 && s.m > 0 && s.v > 0);
  if (!shapes.length) return;
  const fit = (name, unit, least, most) => {
    const box = input($('.shared'), name), now = Number(box.value);
    if (unit <= most && !(Number.isInteger(now) && now >= unit && now % unit === 0))
      box.value = unit * Math.ceil(least / unit);
  };
  fit('layers', lcm(shapes.map(s => s.p * s.v)), 8, 4096);
  fit('batch', lcm(shapes.map(s => s.m)), 32, 1 << 20);
}

/* The words after `pipelab` for side `name`, or a string saying what is
 * missing -- or that the run is more than a page should draw. */
function commandFor(name) {
  const box = sideBox(name), choice = input(box, 'schedule').value, shape = shapeOf(name);
  const words = ['run'], empty = [];
  if (shape.p * shape.m * shape.v > MOST_CHUNK_MICROBATCHES)
    return `p·m·v = ${shape.p * shape.m * shape.v}: more than the page draws ` +
      `(${MOST_CHUNK_MICROBATCHES}); pipelab itself simulates it in a terminal`;
  const add = (option, value, label) => {
    if (value === '') empty.push(label);
    words.push(option, value);
  };
  if (choice === TEXT) {
    words.push('--schedule-file', SCHEDULE_FILE);
  } else {
    const e = entryOf(choice);
    words.push('--schedule', choice);
    add('--devices', input(box, 'p').value.trim(), 'p');
    if (!e.microbatches) add('--microbatches', input(box, 'm').value.trim(), 'm');
    if (!e.chunks) add('--chunks', input(box, 'v').value.trim(), 'v');
  }
  add('--layers', shared('layers'), 'layers');
  add('--batch', shared('batch'), 'batch');
  const costs = ['tf', 'ti', 'tw'].map(shared);
  if (costs.includes('')) empty.push('t_F, t_I and t_W');
  words.push('--costs', costs.join(','));
  if (shared('latency') !== '' && Number(shared('latency')) !== 0)
    words.push('--link-latency', shared('latency'));
  if (shared('bandwidth') !== '') words.push('--link-bandwidth', shared('bandwidth'));
  if (shared('budget') !== '') words.push('--device-memory', shared('budget'));
  words.push('--steps', '1', '--simulate', '--json');
  return empty.length ? `${empty.join(', ')}: give a value` : words.join(' ');
}

/* ---- the answer ---- */

/* One figure as the C library gave it: a table cell the test reads by field. */
const num = (field, value, device, title) =>
  `<td class="num" data-field="${field}"${device === undefined ? '' : ` data-device="${device}"`}` +
  `${title ? ` title="${esc(title)}"` : ''}>${value === null ? 'none' : esc(value)}</td>`;

/* One side's figures: the three bubbles, the makespan, messages, and device by device. */
function figures(name, run, budget) {
  const s = run.summary, e = entryOf(s.schedule);
  const formula = e && e.bubble ? `<span class="formula">${esc(e.bubble)}</span>` : '';
  const note = s.theory_note ? `<span class="formula">${esc(s.theory_note)}</span>` : formula;
  let html = `<h3><span class="tag">${name.toUpperCase()}</span> ${esc(s.schedule)}: ` +
    `p = ${s.devices}, m = ${s.microbatches}, v = ${s.chunks}, placement ${esc(s.placement)}</h3>`;
  if (run.over_budget)
    html += `<div class="warning over-budget">Over the memory budget: ${esc(run.over_budget)}. ` +
      'Shown: the same run without --device-memory.</div>';
  html += '<table class="figures">' +
    `<tr><th>makespan, measured</th>${num('makespan_ns', s.makespan_ns)}<td>ns</td></tr>` +
    `<tr><th>makespan, predicted</th>${num('makespan_predicted_ns', s.makespan_predicted_ns)}<td>ns</td></tr>` +
    `<tr><th>bubble, measured</th>${num('bubble', s.bubble)}<td></td></tr>` +
    `<tr><th>bubble, predicted</th>${num('bubble_predicted', s.bubble_predicted)}<td></td></tr>` +
    `<tr><th>bubble, formula</th>${num('bubble_theory', s.bubble_theory)}<td>${note}</td></tr>` +
    `<tr><th>messages per step</th>${num('messages', s.messages)}<td>between devices</td></tr>` +
    '</table><table class="devices"><tr><th>device</th><th>peak in flight</th>' +
    '<th>peak activations B</th><th>peak memory B</th><th>sent B</th></tr>';
  for (let d = 0; d < s.devices; d++) {
    const m = s.memory[d], over = budget > 0 && m.total > budget;
    html += `<tr${over ? ' class="over"' : ''}><td>d${d}</td>` +
      num('peak_inflight', s.peak_inflight[d], d) +
      num('peak_activation_bytes', s.peak_activation_bytes[d], d) +
      num('memory_total', m.total, d, `parameters ${m.parameters}, gradients ${m.gradients}, ` +
          `optimizer ${m.optimizer}, activations ${m.activations}, messages ${m.messages}`) +
      num('bytes_sent', s.bytes_sent[d], d) + '</tr>';
  }
  return html + '</table>';
}

/* One side's memory strips: per device the whole bill after each of its
 * actions (the numbers are the C library's), on the step's time axis. Every
 * strip starts at the smallest static bill, so what changes fills it. */
function memoryStrips(name, run, budget) {
  const s = run.summary, W = 960, left = 48, right = 860, lane = 34, top = 34;
  const fixed = s.memory.map(m => m.parameters + m.gradients + m.optimizer);
  const floor = Math.min(...fixed), most = Math.max(budget || 0, ...s.memory.map(m => m.total));
  const x = t => left + (right - left) * (s.makespan_ns > 0 ? t / s.makespan_ns : 0);
  const y = (base, bytes) => base - (lane - 8) * Math.max(0, bytes - floor) / Math.max(1, most - floor);
  const height = top + s.devices * lane + 8;
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" data-side="${name}">` +
    `<text x="12" y="20" font-weight="bold">${esc(s.schedule)}: memory per device, bytes above ` +
    `${floor} (peak at the right)</text>`;
  for (let d = 0; d < s.devices; d++) {
    const base = top + (d + 1) * lane - 4, still = y(base, fixed[d]).toFixed(1);
    let path = `M${left},${still}`;
    for (const [t, held, transit] of run.memory[d])
      path += `H${x(t).toFixed(1)}V${y(base, fixed[d] + held + transit).toFixed(1)}`;
    path += `H${right}V${base}H${left}Z`;
    const over = budget > 0 && s.memory[d].total > budget;
    svg += `<text x="12" y="${base - 6}">d${d}</text><path class="held" d="${path}"/>` +
      `<rect class="static" x="${left}" y="${still}" width="${right - left}" height="${(base - still).toFixed(1)}"/>` +
      `<text x="${right + 8}" y="${base - 6}"${over ? ' class="over"' : ''}>${s.memory[d].total}</text>`;
    if (budget > 0)
      svg += `<line class="budget" x1="${left}" x2="${right}" y1="${y(base, budget).toFixed(1)}" ` +
        `y2="${y(base, budget).toFixed(1)}"/>`;
  }
  return svg + '</svg>';
}

/* The schedule text, its line numbers, the marks the answer names, and the
 * lines of its message that name no place. Redrawn only when they change. */
function showText(marks, rest = []) {
  const area = $('#text'), lines = area.value.split('\n');
  const key = JSON.stringify([area.value, marks, rest]);
  if (key === shownText) return;
  shownText = key;
  $('.gutter').textContent = lines.map((_, i) => i + 1).join('\n') + '\n';
  const byLine = new Map();
  for (const m of marks) (byLine.get(m.line) || byLine.set(m.line, []).get(m.line)).push(m);
  $('.marks').innerHTML = lines.map((text, i) => {
    const here = (byLine.get(i + 1) || []).sort((a, b) => a.column - b.column);
    if (!here.length) return esc(text);
    let out = '', at = 0;
    for (const m of here) {
      const from = Math.max(at, m.column - 1), to = Math.max(from + 1, m.column - 1 + m.length);
      out += esc(text.slice(at, from)) +
        `<mark class="${m.blocked ? 'blocked' : 'error'}" data-line="${m.line}" ` +
        `data-column="${m.column}">${esc(text.slice(from, to)) || ' '}</mark>`;
      at = to;
    }
    return `<span class="line">${out}${esc(text.slice(at))}</span>`;
  }).join('\n') + '\n';
  $('#problems').innerHTML = marks.map(m =>
    `<li class="${m.blocked ? 'blocked' : 'error'}" data-line="${m.line}" data-column="${m.column}" ` +
    `data-length="${m.length}">line ${m.line}, column ${m.column}: ${esc(m.message)}</li>`).join('') +
    rest.map(line => `<li class="plain">${esc(line)}</li>`).join('');
  syncScroll();
}

function syncScroll() {
  const area = $('#text');
  $('.marks').scrollTop = $('.gutter').scrollTop = area.scrollTop;
  $('.marks').scrollLeft = area.scrollLeft;
}

/* Put the caret on a problem's place in the text. */
function goTo(li) {
  const area = $('#text'), lines = area.value.split('\n');
  const line = Number(li.dataset.line), column = Number(li.dataset.column);
  let at = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) at += lines[i].length + 1;
  area.focus();
  area.setSelectionRange(at + column - 1, at + column - 1 + Math.max(1, Number(li.dataset.length)));
}

function say(text) {
  $('#message').textContent = text;
  $('#message').hidden = !text;
}

/* Run what the form says and show the answer. */
function update() {
  const body = document.body, names = sides(), problems = [];
  body.classList.toggle('compare', names.length === 2);
  $$('[data-side="b"]').forEach(el => { el.hidden = names.length < 2; });
  names.forEach(showFixed);
  const commands = names.map(commandFor), runnable = commands.filter(c => c.startsWith('run '));
  names.forEach((n, i) => { $(`.command[data-side="${n}"]`).textContent = 'pipelab ' + commands[i]; });
  const start = performance.now();
  const answer = runnable.length ? call('pl_web_run', runnable.join('\n'), $('#text').value)
                                 : {runs: [], svg: null};
  const ran = performance.now(), budget = Number(shared('budget')) || 0, runOf = {};
  let k = 0, marks = [];
  names.forEach((n, i) => {
    const run = runOf[n] = commands[i].startsWith('run ') ? answer.runs[k++] : null;
    const box = $(`.result[data-side="${n}"]`);
    box.classList.toggle('failed', !run || !run.ok);
    if (run && run.ok)
      box.innerHTML = figures(n, run, budget);
    problems.push(...(!run ? [`${n.toUpperCase()}: ${commands[i]}`]
                      : !run.ok ? [`${n.toUpperCase()}: ${run.error}`] : []));
    if (n === 'a' && run && !run.ok)
      marks = run.marks;
  });
  const a = runOf.a;
  if (a && a.ok && input(sideBox('a'), 'schedule').value !== TEXT && !textEdited &&
      $('#text').value !== a.schedule)
    $('#text').value = a.schedule;
  $('#timeline').innerHTML = answer.svg || '<p class="note">Nothing ran: see the message above.</p>';
  $('#memory').innerHTML = names.map(n => runOf[n] && runOf[n].ok
                                          ? memoryStrips(n, runOf[n], budget) : '').join('');
  const failed = a && !a.ok && input(sideBox('a'), 'schedule').value === TEXT;
  showText(marks, failed ? a.error.split('\n').filter(l => !marks.some(m => m.message === l)) : []);
  say(problems.join('\n'));
  body.dataset.runMs = (ran - start).toFixed(2);
  body.dataset.drawMs = (performance.now() - ran).toFixed(2);
  body.dataset.updates = String(Number(body.dataset.updates || 0) + 1);
}

/* Every update the page makes goes through here: a failure of the page
 * itself is said on the page, not only in the console. */
function safely(fn) {
  try {
    fn();
  } catch (e) {
    say('The playground failed: ' + (e && e.message ? e.message : e));
    console.error(e);
  }
}

/* ---- start ---- */

function playgroundStart() {
  if (typeof createPipelab !== 'function') {
    say('The WebAssembly build is missing: run `make playground` in the course, then reload.');
    document.body.dataset.state = 'missing';
    return;
  }
  createPipelab().then(module => safely(() => {
    lib = module;
    registry = call('pl_web_registry');
    const b = sideBox('a').cloneNode(true);
    b.dataset.side = 'b';
    b.hidden = true;
    $('.tag', b).textContent = 'B';
    sideBox('a').after(b);
    for (const name of ['a', 'b']) {
      const select = input(sideBox(name), 'schedule');
      select.innerHTML = registry.map(e =>
        `<option value="${esc(e.name)}">${esc(e.name)} (ch${String(e.chapter).padStart(2, '0')})</option>`).join('') +
        (name === 'a' ? `<option value="${TEXT}">the text below</option>` : '');
      select.value = name === 'a' ? '1f1b' : 'zb-h1';
    }
    const form = $('#form');
    form.addEventListener('input', ev => safely(() => {
      if (ev.target.name === 'schedule') return; /* its change event follows */
      if (['p', 'm', 'v', 'compare'].includes(ev.target.name)) fitModel();
      update();
    }));
    form.addEventListener('change', ev => safely(() => {
      if (ev.target.name !== 'schedule') return;
      if (ev.target.closest('.side').dataset.side === 'a' && ev.target.value !== TEXT)
        textEdited = false;
      showFixed(ev.target.closest('.side').dataset.side);
      fitModel();
      update();
    }));
    const area = $('#text');
    area.addEventListener('input', () => {
      textEdited = true;
      input(sideBox('a'), 'schedule').value = TEXT;
      showText([]);
      clearTimeout(textTimer);
      textTimer = setTimeout(() => safely(() => { fitModel(); update(); }), 250);
    });
    area.addEventListener('scroll', syncScroll);
    $('#problems').addEventListener('click', ev => {
      const li = ev.target.closest('li[data-line]');
      if (li) goTo(li);
    });
    update();
    document.body.dataset.state = 'ready';
  }), e => {
    say('The WebAssembly module did not load: ' + (e && e.message ? e.message : e));
    document.body.dataset.state = 'failed';
  });
}
