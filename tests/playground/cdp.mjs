// cdp.mjs -- headless Chromium driven through its DevTools protocol.
//
// Chromium started with --remote-debugging-pipe reads protocol commands on
// its file descriptor 3 and writes answers and events on 4, each message a
// JSON object ended by a NUL byte; no WebSocket, no npm package, no browser
// download. One page (a target, attached in flat mode) is all the tests need.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The flags a shared CI machine needs: no sandbox, GPU, network chatter or
// first-run work, and a profile of its own.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync',
               '--remote-debugging-pipe'];

export class Browser {
  // Start `executable` with a fresh profile; resolves once it answers.
  static async launch(executable, timeoutMs = 60000) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pipelab-chromium-'));
    const proc = spawn(executable, [...FLAGS, `--user-data-dir=${profile}`, 'about:blank'],
                       {stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe']});
    const b = new Browser(proc, profile, timeoutMs);
    b.version = (await b.send('Browser.getVersion')).product;
    return b;
  }

  constructor(proc, profile, timeoutMs) {
    this.proc = proc;
    this.profile = profile;
    this.timeoutMs = timeoutMs;
    this.next = 0;
    this.pending = new Map();
    this.listeners = [];
    this.stderr = '';
    this.exited = null;
    let buffer = '';
    proc.stderr.on('data', d => { this.stderr = (this.stderr + d).slice(-20000); });
    proc.stdio[4].on('data', chunk => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf('\0')) >= 0) {
        const message = JSON.parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 1);
        this.receive(message);
      }
    });
    proc.on('exit', (code, signal) => {
      this.exited = `exited (${signal || code})`;
      for (const {reject} of this.pending.values())
        reject(new Error(`Chromium ${this.exited}:\n${this.stderr}`));
      this.pending.clear();
    });
  }

  receive(message) {
    if (message.id !== undefined) {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (!waiting) return;
      clearTimeout(waiting.timer);
      if (message.error) waiting.reject(new Error(`${waiting.method}: ${message.error.message}`));
      else waiting.resolve(message.result);
    } else {
      this.listeners.forEach(fn => fn(message));
    }
  }

  // Send a command (to a page when sessionId is given); resolves with its result.
  send(method, params = {}, sessionId) {
    if (this.exited) return Promise.reject(new Error(`Chromium ${this.exited}`));
    const id = ++this.next;
    const message = {id, method, params};
    if (sessionId) message.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, {resolve, reject, timer, method});
      this.proc.stdio[3].write(JSON.stringify(message) + '\0');
    });
  }

  on(fn) { this.listeners.push(fn); }

  // A new page, attached; events of its session go to the listeners.
  async newPage() {
    const {targetId} = await this.send('Target.createTarget', {url: 'about:blank'});
    const {sessionId} = await this.send('Target.attachToTarget', {targetId, flatten: true});
    return new Page(this, sessionId);
  }

  // Stop the browser we started (by its own process) and remove its profile.
  async close() {
    if (!this.exited) {
      const gone = new Promise(r => this.proc.once('exit', r));
      this.send('Browser.close').catch(() => {});
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    fs.rmSync(this.profile, {recursive: true, force: true});
  }
}

export class Page {
  constructor(browser, sessionId) {
    this.browser = browser;
    this.sessionId = sessionId;
  }

  send(method, params = {}) { return this.browser.send(method, params, this.sessionId); }

  // The value of an expression (awaited if it is a promise), or a thrown error.
  async evaluate(expression) {
    const r = await this.send('Runtime.evaluate', {expression, awaitPromise: true,
                                                   returnByValue: true});
    if (r.exceptionDetails) {
      const d = r.exceptionDetails;
      throw new Error(`in the page: ${d.exception ? d.exception.description : d.text}`);
    }
    return r.result.value;
  }

  // Call `fn` (a function, sent as its source) in the page with JSON arguments.
  call(fn, ...args) {
    return this.evaluate(`(${fn.toString()})(...${JSON.stringify(args)})`);
  }

  // Wait until `expression` is true in the page.
  async until(expression, timeoutMs = 30000) {
    const end = Date.now() + timeoutMs;
    while (!(await this.evaluate(expression))) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
      await new Promise(r => setTimeout(r, 25));
    }
  }
}
