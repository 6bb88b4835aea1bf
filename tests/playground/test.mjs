// test.mjs -- the schedule playground in a real browser (make test-playground).
//
// Headless Chromium loads docs/playground/ (served over HTTP, and once from
// the file system), and for every configuration of the table below sets the
// page's form as a learner would, reads the figures the page shows, and
// checks them against `pipelab run ... --steps 1 --simulate --json` run
// here for the same configuration: makespan, the three bubbles, messages
// per step, and device by device the peak in flight, activations, memory
// and bytes sent -- equal, exactly. It checks the command line the page
// shows is that command; a deadlock is named at its lines with the blocked
// actions marked; bad input (m = 0, a malformed schedule, an empty field)
// gives a visible message; nothing reaches the console as an error. It
// times the redraw of a p = 16, m = 64 timeline and reports it (not
// asserted: a loaded machine says nothing about a learner's).
//
//   node tests/playground/test.mjs --page docs/playground --pipelab build/pipelab \
//        --chromium chromium --work build/web/test [--screenshot FILE]

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { Browser } from './cdp.mjs';

const args = {};
for (let i = 2; i < process.argv.length; i += 2)
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const need of ['page', 'pipelab', 'chromium', 'work'])
  if (!args[need]) throw new Error(`test.mjs: --${need} is required`);
fs.mkdirSync(args.work, {recursive: true});

/* ---- the table ---- */

// Each row: side a (and b: side by side), each a registered schedule with
// exactly the options the page should pass (m only where the schedule takes
// it, v only where it takes --chunks), or `text`: a schedule in the text
// format, pasted into the editor; and the shared fields, where not default.
const show = (schedule, p, m, v) => execFileSync(args.pipelab, ['show', '--schedule', schedule,
  '--devices', String(p), '--microbatches', String(m), ...(v ? ['--chunks', String(v)] : [])],
  {encoding: 'utf8'});
const TABLE = [
  {a: {schedule: '1f1b', p: 4, m: 8}},
  {a: {schedule: 'gpipe', p: 4, m: 8}},
  {a: {schedule: 'naive', p: 4}},
  {a: {schedule: 'microbatch', p: 4, m: 4}},
  {a: {schedule: 'interleaved', p: 4, m: 8, v: 2}},
  {a: {schedule: 'interleaved', p: 4, m: 6, v: 2}, batch: 24},
  {a: {schedule: 'looped-bfs', p: 4, m: 8, v: 3}, layers: 12},
  {a: {schedule: 'zb-h1', p: 4, m: 8}, tf: 2, ti: 2, tw: 1},
  {a: {schedule: 'zb-h2', p: 4, m: 8}},
  {a: {schedule: 'zb-v', p: 4, m: 8}, tw: 0.5},
  {a: {schedule: 'dualpipe-v', p: 4, m: 8}, tf: 2, ti: 2, tw: 1},
  {a: {schedule: '1f1b', p: 8, m: 16}, layers: 16, latency: 1},
  {a: {schedule: 'gpipe', p: 4, m: 8}, latency: 0.5, bandwidth: 1000000},
  {a: {schedule: '1f1b', p: 3, m: 8}},                   // unequal stages: no formula
  {a: {schedule: 'gpipe', p: 4, m: 5}},                  // unequal micro-batches: no formula
  {a: {schedule: 'zb-h1', p: 4, m: 2}},                  // m < p: outside ZB-H1's formula
  {a: {schedule: 'gpipe', p: 4, m: 8}, budget: 30000},   // fits
  {a: {schedule: 'gpipe', p: 4, m: 8}, budget: 20000},   // over: shown without the limit
  {a: {schedule: '1f1b', p: 4, m: 8}, b: {schedule: 'zb-h1', p: 4, m: 8}},
  {a: {schedule: 'interleaved', p: 4, m: 8, v: 2}, b: {schedule: 'zb-v', p: 4, m: 8}},
  {a: {schedule: 'gpipe', p: 2, m: 4}, b: {schedule: 'dualpipe-v', p: 4, m: 8}, latency: 0.25},
  {a: {text: show('1f1b', 4, 8)}},
  {a: {text: show('zb-v', 4, 8)}, b: {schedule: 'zb-v', p: 4, m: 8}},
  {a: {schedule: 'interleaved', p: 4, m: 8, v: 4}, layers: 16, tw: 0.5, latency: 0.25},
  {a: {schedule: 'zb-h2', p: 16, m: 64}, layers: 16, batch: 64},
];
const SHARED = {tf: 1, ti: 1, tw: 1, latency: 0, bandwidth: '', budget: '', layers: 8, batch: 32};

// The words after `pipelab` the page should show for one side, the schedule
// text run as `file`.
function words(side, row, file) {
  const w = ['run'];
  if (side.text !== undefined) w.push('--schedule-file', file);
  else {
    w.push('--schedule', side.schedule, '--devices', String(side.p));
    if (side.m !== undefined) w.push('--microbatches', String(side.m));
    if (side.v !== undefined) w.push('--chunks', String(side.v));
  }
  const s = {...SHARED, ...row};
  w.push('--layers', String(s.layers), '--batch', String(s.batch), '--costs',
         `${s.tf},${s.ti},${s.tw}`);
  if (Number(s.latency) !== 0) w.push('--link-latency', String(s.latency));
  if (s.bandwidth !== '') w.push('--link-bandwidth', String(s.bandwidth));
  if (s.budget !== '') w.push('--device-memory', String(s.budget));
  return [...w, '--steps', '1', '--simulate', '--json'];
}

// Run pipelab; its JSON, or its message and exit status.
function pipelab(argv) {
  const r = spawnSync(args.pipelab, argv, {encoding: 'utf8'});
  return r.status === 0 ? {json: JSON.parse(r.stdout)}
                        : {status: r.status, error: r.stderr.trim().replace(/^pipelab: /, '')};
}

/* ---- what runs in the page ---- */

// Set the form as a learner would (each change fires its event) and wait
// for the page to have run what it says.
async function configure(row, shared) {
  const body = document.body, fire = (el, type) => el.dispatchEvent(new Event(type, {bubbles: true}));
  const settle = async before => {
    for (let t = 0; Number(body.dataset.updates) <= before; t++) {
      if (t > 2000) throw new Error('the page did not update');
      await new Promise(r => setTimeout(r, 10));
    }
  };
  const set = (el, value) => {
    if (el.value !== String(value)) { el.value = String(value); fire(el, 'input'); }
  };
  if (row.a.text !== undefined) {
    const area = document.querySelector('#text'), before = Number(body.dataset.updates);
    area.value = row.a.text;
    fire(area, 'input');
    await settle(before);
  }
  const compare = document.querySelector('[name=compare]');
  if (compare.checked !== !!row.b) { compare.checked = !!row.b; fire(compare, 'input'); }
  for (const name of ['a', 'b']) {
    const side = row[name], box = document.querySelector(`.side[data-side="${name}"]`);
    if (!side || side.text !== undefined) continue;
    const select = box.querySelector('[name=schedule]');
    if (select.value !== side.schedule) { select.value = side.schedule; fire(select, 'change'); }
    for (const f of ['p', 'm', 'v'])
      if (side[f] !== undefined) set(box.querySelector(`[name=${f}]`), side[f]);
  }
  const before = Number(body.dataset.updates);
  for (const [f, value] of Object.entries({...shared, ...row}))
    if (!['a', 'b'].includes(f)) set(document.querySelector(`.shared [name=${f}]`), value);
  fire(document.querySelector('.shared [name=layers]'), 'input'); /* at least one update */
  await settle(before);
}

// What the page shows: each side's figures as text, its command, the message.
function read() {
  const side = name => {
    const box = document.querySelector(`.result[data-side="${name}"]`);
    const cells = f => Array.from(box.querySelectorAll(`[data-field="${f}"]`)).map(e => e.textContent);
    const out = {failed: box.classList.contains('failed'),
                 command: document.querySelector(`.command[data-side="${name}"]`).textContent,
                 warning: (box.querySelector('.over-budget') || {}).textContent || ''};
    for (const f of ['makespan_ns', 'makespan_predicted_ns', 'bubble', 'bubble_predicted',
                     'bubble_theory', 'messages', 'peak_inflight', 'peak_activation_bytes',
                     'memory_total', 'bytes_sent'])
      out[f] = cells(f);
    return out;
  };
  const message = document.querySelector('#message');
  return {a: side('a'), b: side('b'), message: message.textContent,
          messageShown: !message.hidden && message.offsetHeight > 0,
          svgs: document.querySelectorAll('#timeline svg').length,
          actions: document.querySelectorAll('#timeline rect.act').length,
          strips: document.querySelectorAll('#memory svg').length,
          problems: Array.from(document.querySelectorAll('#problems li')).map(li => li.textContent),
          marks: Array.from(document.querySelectorAll('.marks mark')).map(m =>
            ({line: Number(m.dataset.line), text: m.textContent, blocked: m.classList.contains('blocked')}))};
}

// Change t_W and time the page until the frame after it is drawn.
async function redraw(value) {
  const el = document.querySelector('.shared [name=tw]'), t0 = performance.now();
  el.value = String(value);
  el.dispatchEvent(new Event('input', {bubbles: true}));
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  return {total: performance.now() - t0, run: Number(document.body.dataset.runMs),
          draw: Number(document.body.dataset.drawMs),
          actions: document.querySelectorAll('#timeline rect.act').length};
}

/* ---- the checks ---- */

let passed = 0, failed = 0;
function report(ok, name, detail) {
  if (ok) passed++; else failed++;
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
}

const FIELDS = ['makespan_ns', 'makespan_predicted_ns', 'bubble', 'bubble_predicted',
                'bubble_theory', 'messages'];
const DEVICE_FIELDS = {peak_inflight: j => j.peak_inflight,
                       peak_activation_bytes: j => j.peak_activation_bytes,
                       memory_total: j => j.memory.map(m => m.total),
                       bytes_sent: j => j.bytes_sent};

// Every figure the page shows for one side, against pipelab's JSON: the
// differences, none if equal. The page's "none" is JSON's null.
function differences(shown, json) {
  const value = text => text === 'none' ? null : Number(text), out = [];
  for (const f of FIELDS)
    if (shown[f].length !== 1 || value(shown[f][0]) !== json[f])
      out.push(`${f}: page ${shown[f]}, pipelab ${json[f]}`);
  for (const [f, get] of Object.entries(DEVICE_FIELDS)) {
    const want = get(json);
    if (shown[f].length !== want.length || shown[f].some((t, d) => value(t) !== want[d]))
      out.push(`${f}: page [${shown[f]}], pipelab [${want}]`);
  }
  return out;
}

async function checkRow(page, row, i) {
  await page.call(configure, row, SHARED);
  const shown = await page.call(read);
  const names = row.b ? ['a', 'b'] : ['a'], label = names.map(n => {
    const s = row[n];
    return s.text !== undefined ? `text of ${s.text.split('\n').length - 1} lines`
      : `${s.schedule} p=${s.p}` + (s.m ? ` m=${s.m}` : '') + (s.v ? ` v=${s.v}` : '');
  }).join(' | ');
  const extras = Object.entries(row).filter(([k]) => !['a', 'b'].includes(k))
    .map(([k, v]) => `${k}=${v}`).join(' ');
  const problems = [];
  let summary = '';
  for (const n of names) {
    const side = row[n], file = path.join(args.work, `row${i}${n}.txt`);
    if (side.text !== undefined) fs.writeFileSync(file, side.text);
    const expected = words(side, row, 'schedule.txt');
    if (shown[n].command !== 'pipelab ' + expected.join(' '))
      problems.push(`${n}: the page shows "${shown[n].command}", expected "pipelab ${expected.join(' ')}"`);
    const argv = words(side, row, file);
    let cli = pipelab(argv);
    if (row.budget !== undefined && cli.error) { /* over: the page says so, then shows it without */
      if (!shown[n].warning.includes(cli.error))
        problems.push(`${n}: pipelab says "${cli.error}", the page "${shown[n].warning}"`);
      const i = argv.indexOf('--device-memory');
      cli = pipelab([...argv.slice(0, i), ...argv.slice(i + 2)]);
    }
    if (!cli.json) { problems.push(`${n}: pipelab failed: ${cli.error}`); continue; }
    if (shown[n].failed) { problems.push(`${n}: the page shows no figures (${shown.message})`); continue; }
    problems.push(...differences(shown[n], cli.json).map(d => `${n}: ${d}`));
    summary += `${n.toUpperCase()} makespan ${cli.json.makespan_ns} ns, bubble ${cli.json.bubble}` +
      ` (formula ${cli.json.bubble_theory}), ${cli.json.messages} messages; `;
  }
  const drawn = names.length;
  if (shown.svgs !== 1 || shown.strips !== drawn)
    problems.push(`expected one timeline and ${drawn} memory pictures, found ${shown.svgs} and ${shown.strips}`);
  if (shown.messageShown && !row.budget)
    problems.push(`unexpected message: ${shown.message}`);
  report(!problems.length, `${String(i + 1).padStart(2)} ${label}${extras ? ' [' + extras + ']' : ''}`,
         problems.length ? '\n       ' + problems.join('\n       ') : summary.replace(/; $/, ' = pipelab\'s'));
}

// A deadlock pasted in: named at its lines, the blocked actions marked, the
// same messages as `pipelab check`.
async function checkDeadlock(page) {
  const text = '# pipelab schedule\ndevices 2\nmicrobatches 2\nchunks 1\nd0: F0 B0 F1 B1\nd1: F1 B1 F0 B0\n';
  const file = path.join(args.work, 'deadlock.txt');
  fs.writeFileSync(file, text);
  const check = spawnSync(args.pipelab, ['check', file], {encoding: 'utf8'});
  const expected = check.stderr.split('\n').filter(l => l.startsWith('deadlock:'));
  await page.call(configure, {a: {text}}, SHARED);
  const shown = await page.call(read);
  const want = [{line: 5, text: 'B0', blocked: true}, {line: 6, text: 'F1', blocked: true}];
  const problems = [];
  if (expected.length !== 2) problems.push(`pipelab check said: ${check.stderr}`);
  if (JSON.stringify(shown.marks) !== JSON.stringify(want))
    problems.push(`marks ${JSON.stringify(shown.marks)}, expected ${JSON.stringify(want)}`);
  const lines = ['line 5, column 8: ' + expected[0], 'line 6, column 5: ' + expected[1]];
  if (JSON.stringify(shown.problems) !== JSON.stringify(lines))
    problems.push(`listed ${JSON.stringify(shown.problems)}, expected ${JSON.stringify(lines)}`);
  if (!shown.messageShown || !expected.every(l => shown.message.includes(l)))
    problems.push(`message ${JSON.stringify(shown.message)} (shown: ${shown.messageShown})`);
  report(!problems.length, 'a deadlock is named at its lines, d0\'s B0 and d1\'s F1 marked blocked',
         problems.length ? problems.join('; ') : expected.join(' / '));
}

// Bad input: a visible message, as pipelab words it; the page stays drawn.
async function checkBad(page, name, row, expect) {
  await page.call(configure, row, SHARED);
  const shown = await page.call(read);
  const ok = shown.messageShown && shown.message.includes(expect.message) &&
    (!expect.mark || JSON.stringify(shown.marks) === JSON.stringify([expect.mark]));
  report(ok, name, ok ? `"${shown.message}"` : `message ${JSON.stringify(shown.message)} (shown: ` +
         `${shown.messageShown}), marks ${JSON.stringify(shown.marks)}, expected ` +
         `${JSON.stringify(expect)}`);
}

async function checkBadInput(page) {
  const m0 = pipelab(words({schedule: 'gpipe', p: 4, m: 0}, {}, '')).error;
  await checkBad(page, 'm = 0', {a: {schedule: 'gpipe', p: 4, m: 0}}, {message: 'A: ' + m0});
  const text = 'devices 2\nmicrobatches 2\nchunks 1\nd0: F0 F1 B1 B0\nd1: F0 F1 B1 Bx\n';
  const file = path.join(args.work, 'malformed.txt');
  fs.writeFileSync(file, text);
  const parse = spawnSync(args.pipelab, ['check', file], {encoding: 'utf8'}).stderr.trim();
  const where = parse.slice(parse.indexOf('line '));
  await checkBad(page, 'a malformed schedule', {a: {text}},
                 {message: 'A: schedule.txt: ' + where, mark: {line: 5, text: 'x', blocked: false}});
  await checkBad(page, 'an empty field', {a: {schedule: '1f1b', p: '', m: 8}},
                 {message: 'A: p: give a value'});
  await checkBad(page, 'a run too large to draw', {a: {schedule: '1f1b', p: 128, m: 256}, layers: 128,
                                                  batch: 256},
                 {message: 'A: p·m·v = 32768: more than the page draws (16384)'});
  const abc = pipelab(words({schedule: '1f1b', p: 4, m: 8}, {tw: 'abc'}, '')).error;
  await checkBad(page, 'a cost that is not a number', {a: {schedule: '1f1b', p: 4, m: 8}, tw: 'abc'},
                 {message: 'A: ' + abc});
}

// Every registered schedule is offered (pipelab list's first words).
async function checkRegistry(page) {
  const names = execFileSync(args.pipelab, ['list'], {encoding: 'utf8'}).split('\n')
    .filter(l => /^\S/.test(l)).map(l => l.split(/\s+/)[0]);
  const offered = await page.evaluate(
    `Array.from(document.querySelectorAll('.side[data-side="a"] [name=schedule] option')).map(o => o.value)`);
  const ok = names.every(n => offered.includes(n)) && names.length === offered.length - 1;
  report(ok, 'every registered schedule is offered', ok ? names.join(', ') : `page ${offered}, pipelab ${names}`);
}

// A frame with nothing to draw: what waiting for the next frame costs alone.
async function idleFrame() {
  const t0 = performance.now();
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  return {total: performance.now() - t0};
}

async function checkRedraw(page) {
  await page.call(configure, {a: {schedule: '1f1b', p: 16, m: 64}, layers: 16, batch: 64}, SHARED);
  const times = [], idle = [];
  for (let k = 0; k < 10; k++) {
    times.push(await page.call(redraw, k % 2 ? 1 : 0.5));
    idle.push(await page.call(idleFrame));
  }
  const median = (list, f) => list.map(t => t[f]).sort((x, y) => x - y)[list.length >> 1];
  const actions = times[0].actions, load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  report(actions === 2 * 16 * 64, `redraw of a p = 16, m = 64 timeline (${actions} actions)`,
         `median ${median(times, 'total').toFixed(1)} ms until the next frame (C run + JSON ` +
         `${median(times, 'run').toFixed(1)} ms, page update ${median(times, 'draw').toFixed(1)} ms; ` +
         `an idle frame ${median(idle, 'total').toFixed(1)} ms) over ${times.length} redraws; ` +
         `slowest ${Math.max(...times.map(t => t.total)).toFixed(1)} ms; load average ${load}; ` +
         'target 100 ms, reported, not asserted');
}

/* ---- the browser ---- */

function serve(dir) {
  const types = {'.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css'};
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    const file = path.join(dir, path.normalize(name));
    if (!file.startsWith(path.resolve(dir)) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404); res.end(); return;
    }
    res.writeHead(200, {'Content-Type': types[path.extname(file)] || 'application/octet-stream'});
    fs.createReadStream(file).pipe(res);
  });
  return new Promise(r => server.listen(0, '127.0.0.1', () => r(server)));
}

async function main() {
  const dir = path.resolve(args.page), server = await serve(dir);
  const url = `http://127.0.0.1:${server.address().port}/index.html`;
  const browser = await Browser.launch(args.chromium);
  const consoleErrors = [];
  browser.on(m => {
    if (m.method === 'Runtime.exceptionThrown')
      consoleErrors.push('exception: ' + (m.params.exceptionDetails.exception || {}).description);
    else if (m.method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes(m.params.type))
      consoleErrors.push('console.error: ' + m.params.args.map(a => a.value ?? a.description).join(' '));
    else if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error')
      consoleErrors.push('log: ' + m.params.entry.text);
  });
  try {
    const page = await browser.newPage();
    for (const domain of ['Runtime', 'Log', 'Page']) await page.send(`${domain}.enable`);
    await page.send('Emulation.setDeviceMetricsOverride',
                    {width: 1240, height: 1500, deviceScaleFactor: 1, mobile: false});
    console.log(`playground: ${browser.version}, ${url}`);

    await page.send('Page.navigate', {url: pathToFileURL(path.join(dir, 'index.html')).href});
    await page.until(`document.body && document.body.dataset.state === 'ready'`);
    report(true, 'loads from the file system (file://), no server');

    await page.send('Page.navigate', {url});
    await page.until(`document.body && document.body.dataset.state === 'ready'`);
    await checkRegistry(page);
    for (const [i, row] of TABLE.entries()) await checkRow(page, row, i);
    await checkDeadlock(page);
    await checkBadInput(page);
    await checkRedraw(page);
    if (args.screenshot) {
      await page.call(configure, {a: {schedule: '1f1b', p: 4, m: 8}, b: {schedule: 'zb-v', p: 4, m: 8},
                                  budget: 24000}, SHARED);
      const bottom = await page.evaluate(`Math.ceil(document.querySelector('#timeline')
                                            .getBoundingClientRect().bottom + scrollY + 16)`);
      const shot = await page.send('Page.captureScreenshot', {format: 'png', captureBeyondViewport: true,
                                   clip: {x: 0, y: 0, width: 1240, height: bottom, scale: 1}});
      fs.writeFileSync(args.screenshot, Buffer.from(shot.data, 'base64'));
      console.log(`  wrote ${args.screenshot}`);
    }
    report(!consoleErrors.length, 'no console error and no exception',
           consoleErrors.length ? consoleErrors.join('\n       ') : '');
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`playground: ${passed} passed, ${failed} failed (${TABLE.length} configurations ` +
              'against pipelab run --simulate --json)');
  process.exit(failed ? 1 : 0);
}

main().catch(e => { console.error(`playground: ${e.stack || e}`); process.exit(1); });
