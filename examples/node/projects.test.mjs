// A node:test suite of an Activepieces client, run against openpieces with plain fetch:
//   OPENPIECES_COMMAND=openpieces node --test examples/node/
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startOpenpieces } from './openpieces.mjs';

const SEED = fileURLToPath(new URL('../seed.yaml', import.meta.url));
const ACME_KEY = 'sk-acme-seed-key-0123456789abcdef'; // fixed in the seed file

let server;

before(async () => {
  server = await startOpenpieces({ seedFile: SEED });
});

after(async () => {
  await server?.stop();
});

beforeEach(async () => {
  await server.reset(); // every test starts from the seed, whatever the one before it did
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

test('the seed is there: its projects, by externalId', async () => {
  const listed = await api('GET', '/projects?limit=100');
  assert.equal(listed.status, 200);
  const external = listed.body.data.map((project) => project.externalId).filter(Boolean).sort();
  assert.deepEqual(external, ['acme-sales', 'acme-support']);
});

test('a project created in one test is gone in the next', async () => {
  const created = await api('POST', '/projects', { displayName: 'From node', externalId: 'node-1' });
  assert.equal(created.status, 201);
  assert.equal(created.body.displayName, 'From node');
  const found = await api('GET', '/projects?externalId=node-1');
  assert.deepEqual(found.body.data.map((project) => project.id), [created.body.id]);
});

test('reset took the last test\'s project away', async () => {
  const found = await api('GET', '/projects?externalId=node-1');
  assert.equal(found.status, 200);
  assert.deepEqual(found.body.data, []);
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
