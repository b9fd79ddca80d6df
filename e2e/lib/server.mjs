// Starts the real `moviebooking` binary on a fresh SQLite database in a temporary folder,
// the way a developer runs it (development mode: no Razorpay keys, so the development
// payment gateway stands in; mail written as .eml files), and stops it afterwards.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export const REPO_ROOT = resolve(HERE, '..', '..');

/** The binary under test: `MOVIEBOOKING_BIN`, or the debug build of this checkout. */
export function binaryPath() {
  return process.env.MOVIEBOOKING_BIN || join(REPO_ROOT, 'target', 'debug', 'moviebooking');
}

/** A TCP port nobody listens on right now. */
export async function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

// Settings a developer's shell or CI might carry that would change what we test.
const SCRUBBED = [
  'DATABASE_URL', 'TEST_DATABASE_URL', 'APP_ENV', 'BASE_URL', 'PORT', 'BIND_ADDR', 'SECRET_KEY',
  'ALLOWED_HOSTS', 'EMAIL_BACKEND', 'EMAIL_FILE_DIR', 'SMTP_URL', 'RAZORPAY_KEY_ID',
  'RAZORPAY_KEY_SECRET', 'RAZORPAY_WEBHOOK_SECRET', 'RAZORPAY_API_BASE', 'RATE_LIMITS',
  'CHECKIN_OPENS_MINUTES', 'CHECKIN_UNDO_MINUTES',
];

/**
 * Starts the app and waits until `/readyz` answers 200.
 * Returns { baseUrl, port, dir, mailDir, dbPath, logFile, run(args), stop(), logTail() }.
 */
export async function startApp({ env = {}, name = 'app' } = {}) {
  const bin = binaryPath();
  if (!existsSync(bin)) {
    throw new Error(`${bin} does not exist: run \`cargo build\` first (e2e/run does)`);
  }
  const dir = mkdtempSync(join(tmpdir(), `moviebooking-e2e-${name}-`));
  const mailDir = join(dir, 'mail');
  mkdirSync(mailDir);
  const dbPath = join(dir, 'e2e.db');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'server.log');

  const childEnv = { ...process.env };
  for (const key of SCRUBBED) delete childEnv[key];
  Object.assign(childEnv, {
    APP_ENV: 'development',
    DATABASE_URL: `sqlite://${dbPath}`,
    PORT: String(port),
    BIND_ADDR: '127.0.0.1',
    BASE_URL: baseUrl,
    ALLOWED_HOSTS: '127.0.0.1,localhost',
    EMAIL_BACKEND: 'file',
    EMAIL_FILE_DIR: mailDir,
    RATE_LIMITS: 'off',
    RUST_LOG: process.env.E2E_RUST_LOG || 'info',
    ...env,
  });

  // Runs a one-off command of the binary (`seed-demo`, `create-staff`, ...) on the same database.
  const run = (args, { input } = {}) => new Promise((ok) => {
    const child = spawn(bin, args, { cwd: dir, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    if (input !== undefined) child.stdin.end(input); else child.stdin.end();
    child.on('close', (code) => ok({ code, output: out }));
  });

  const logFd = openSync(logFile, 'a');
  // The working directory is the temporary folder: the development secret key file lands
  // there, and no `.env` of the checkout leaks into the test.
  const child = spawn(bin, ['serve'], { cwd: dir, env: childEnv, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  const logTail = (lines = 40) => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no server log)';
    }
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      throw new Error(`moviebooking serve exited early (${JSON.stringify(exited)}):\n${logTail()}`);
    }
    try {
      const response = await fetch(`${baseUrl}/readyz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moviebooking did not become ready within 60 s:\n${logTail()}`);
    }
    await sleep(100);
  }

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const waited = Date.now();
      while (!exited && Date.now() - waited < 10_000) await sleep(50);
      if (!exited) child.kill('SIGKILL');
    }
    if (!process.env.E2E_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  };

  return { baseUrl, port, dir, mailDir, dbPath, logFile, run, stop, logTail, pid: child.pid };
}

/** Runs `body`; when it fails, the error also shows the server's last log lines. */
export async function withServerLog(app, body) {
  try {
    return await body();
  } catch (error) {
    if (error && typeof error === 'object') {
      error.message = `${error.message}\n--- last lines of the server log (${app.logFile}) ---\n${app.logTail(25)}`;
    }
    throw error;
  }
}
