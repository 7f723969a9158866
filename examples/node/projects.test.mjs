// A node:test suite of an Activepieces client, run against openpieces with plain fetch:
//   OPENPIECES_COMMAND=openpieces node --test examples/node/
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startOpenpieces } from './openpieces.mjs';

const SEED = fileURLToPath(new URL('../seed.yaml', import.meta.url));
const ACME_KEY = 'sk-acme-seed-key-0123456789abcdef'; // fixed in the seed file

const CLOCK = '2026-01-01T00:00:00.000Z';
const TEST_SEED = 8;

let server;
let snapshot; // the seed plus a project and a flow every test starts from

before(async () => {
  // Deterministic mode: ids from a seeded generator, timestamps from a clock that starts at AP_CLOCK.
  server = await startOpenpieces({ seedFile: SEED, env: { AP_DETERMINISTIC_SEED: '7', AP_CLOCK: CLOCK } });
  const project = await api('POST', '/projects', { displayName: 'Shared by every test', externalId: 'node-base' });
  await api('POST', '/flows', { projectId: project.body.id, displayName: 'Base flow' });
  snapshot = await server.exportSnapshot();
});

after(async () => {
  await server?.stop();
});

beforeEach(async () => {
  await server.restoreSnapshot(snapshot); // every test starts from the same state, whatever the last one did
  // ... and makes the same ids and timestamps. Not the start's seed 7: its ids are the snapshot's rows.
  await server.reseed(TEST_SEED, '2026-06-01T00:00:00.000Z');
});

async function api(method, path, body) {
  const answer = await fetch(`${server.apiUrl}${path}`, {
    method,
    headers: server.headers(ACME_KEY),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  return { status: answer.status, body: text ? JSON.parse(text) : undefined };
}

test('the snapshot is there: the seed\'s projects and the one made before the tests', async () => {
  const listed = await api('GET', '/projects?limit=100');
  assert.equal(listed.status, 200);
  const external = listed.body.data.map((project) => project.externalId).filter(Boolean).sort();
  assert.deepEqual(external, ['acme-sales', 'acme-support', 'node-base']);
  const base = listed.body.data.find((project) => project.externalId === 'node-base');
  const flows = await api('GET', `/flows?projectId=${base.id}`);
  assert.deepEqual(flows.body.data.map((flow) => flow.version.displayName), ['Base flow']);
});

test('a project created in one test is gone in the next', async () => {
  const created = await api('POST', '/projects', { displayName: 'From node', externalId: 'node-1' });
  assert.equal(created.status, 201);
  assert.equal(created.body.displayName, 'From node');
  const found = await api('GET', '/projects?externalId=node-1');
  assert.deepEqual(found.body.data.map((project) => project.id), [created.body.id]);
});

test('the restore took the last test\'s project away', async () => {
  const found = await api('GET', '/projects?externalId=node-1');
  assert.equal(found.status, 200);
  assert.deepEqual(found.body.data, []);
});

test('a reset goes back to the seed alone', async () => {
  await server.reset();
  const listed = await api('GET', '/projects?limit=100');
  const external = listed.body.data.map((project) => project.externalId).filter(Boolean).sort();
  assert.deepEqual(external, ['acme-sales', 'acme-support']);
});

test('deterministic: the same requests from the same state answer the same bytes', async () => {
  const first = await api('POST', '/projects', { displayName: 'Golden', externalId: 'golden' });
  assert.equal(first.status, 201);
  assert.equal(first.body.created, '2026-06-01T00:00:00.000Z'); // the reseeded clock's first instant
  assert.match(first.body.id, /^[0-9a-zA-Z]{21}$/); // a real id, only not a random one
  await server.restoreSnapshot(snapshot);
  await server.reseed(TEST_SEED, '2026-06-01T00:00:00.000Z');
  const again = await api('POST', '/projects', { displayName: 'Golden', externalId: 'golden' });
  assert.deepEqual(again.body, first.body);
});

test('bad input gets the error body', async () => {
  const refused = await api('POST', '/projects', { displayName: 42 });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.code, 'VALIDATION');
});

test('an isolated platform per test, through the admin API', async () => {
  const { apiKey } = await server.createPlatform('Node tenant', 'ENTERPRISE');
  const own = await fetch(`${server.apiUrl}/projects`, { headers: server.headers(apiKey) });
  const body = await own.json();
  assert.equal(own.status, 200);
  assert.equal(body.data.length, 1); // its owner's personal project only: nothing of Acme's
  assert.equal(body.data[0].type, 'PERSONAL');
});
