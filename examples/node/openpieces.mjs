// Start openpieces for a node:test suite: a real server process on a free port, with the admin API
// on, and helpers to seed, reset and call it with plain fetch. No dependencies beyond node itself.
//
//   const server = await startOpenpieces({ seedFile: 'seed.yaml' });
//   ... fetch(`${server.apiUrl}/projects`, { headers: server.headers(apiKey) }) ...
//   await server.reset();   // between tests
//   await server.stop();    // after the suite
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`openpieces exited with ${child.exitCode} before it was ready`);
    try {
      const answer = await fetch(url);
      if (answer.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`openpieces was not ready at ${url} within ${timeoutMs} ms`);
}

/**
 * @param {object} [options]
 * @param {string} [options.command] the openpieces command (default: $OPENPIECES_COMMAND or "openpieces")
 * @param {string} [options.seedFile] a seed file applied at start and on every reset
 * @param {Record<string,string>} [options.env] more AP_* settings (AP_DATABASE_URL, AP_DETERMINISTIC_SEED, ...)
 * @param {number} [options.timeoutMs] how long start-up may take
 */
export async function startOpenpieces(options = {}) {
  const command = options.command ?? process.env.OPENPIECES_COMMAND ?? 'openpieces';
  const port = await freePort();
  const adminToken = randomBytes(24).toString('hex');
  const env = { ...process.env, AP_ADMIN_TOKEN: adminToken, ...(options.env ?? {}) };
  if (options.seedFile) env.AP_SEED_FILE = options.seedFile;
  const child = spawn(command, ['serve', '--port', String(port)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => {
    log = (log + chunk).slice(-20000); // the tail, for a failure message
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(`${baseUrl}/v1/health`, child, options.timeoutMs ?? 60000);
  } catch (error) {
    child.kill('SIGTERM');
    throw new Error(`${error.message}\n${log}`);
  }

  async function admin(method, path, body) {
    const answer = await fetch(`${baseUrl}/admin${path}`, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await answer.text();
    if (!answer.ok) throw new Error(`${method} /admin${path}: ${answer.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  return {
    baseUrl,
    apiUrl: `${baseUrl}/api/v1`,
    adminToken,
    admin,
    headers: (apiKey) => ({ Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' }),
    createPlatform: (name = 'Test Platform', edition = 'ENTERPRISE') => admin('POST', '/platforms', { name, edition }),
    reset: () => admin('POST', '/reset'),
    // The whole server's state as one JSON document, and back: faster than a reset and a re-seed.
    exportSnapshot: () => admin('GET', '/snapshot'),
    restoreSnapshot: (snapshot) => admin('PUT', '/snapshot', snapshot),
    // Deterministic mode (start with env AP_DETERMINISTIC_SEED): ids and timestamps start again here.
    reseed: (seed, clock) => admin('POST', '/deterministic', { seed, clock, frozen: false }),
    log: () => log,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
