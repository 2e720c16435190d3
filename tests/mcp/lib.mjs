// Shared helpers of the MCP integration tests: the mnemo binary, scratch data
// directories, and checks on tool results.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

// $MNEMO_BIN (ctest sets it), else the default build directory of the repository.
export const MNEMO_BIN = process.env.MNEMO_BIN || path.resolve(here, '../../build/mnemo');
if (!existsSync(MNEMO_BIN)) {
  throw new Error(`mnemo binary not found at ${MNEMO_BIN}: build mnemo_cli or set MNEMO_BIN`);
}

// The tools every mnemo MCP server offers.
export const TOOL_NAMES = [
  'add_memory',
  'ingest_conversation',
  'search_memory',
  'get_memory',
  'list_memories',
  'update_memory',
  'delete_memory',
  'memory_history',
  'list_jobs',
  'job_stats',
  'get_profile',
  'get_context',
];

// The environment of a mnemo child process: the SDK's stdio transport passes only a few
// safe variables, so the sanitizer settings of an ASan/UBSan build are added here.
export function childEnv(extra = {}) {
  const env = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return { ...env, ...extra };
}

// Runs the CLI synchronously; throws (with its stderr) when it fails.
export function mnemo(...args) {
  return execFileSync(MNEMO_BIN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// A fresh, initialized data directory with the given spaces; returns its path.
export function makeDataDir(...spaces) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mnemo-mcp-'));
  const data = path.join(dir, 'data');
  mnemo('--data', data, 'init');
  for (const s of spaces) mnemo('--data', data, 'space', 'create', s);
  return { dir, data, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// A successful tool result: its structured content, checked against its text block.
export function ok(result) {
  assert.notEqual(result.isError, true, `tool failed: ${JSON.stringify(result)}`);
  assert.equal(result.content.length, 1);
  assert.equal(result.content[0].type, 'text');
  assert.equal(typeof result.structuredContent, 'object');
  assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent);
  return result.structuredContent;
}

// A failed tool result (isError): its {code, message, field?} error object.
export function toolError(result) {
  assert.equal(result.isError, true, `expected a tool error: ${JSON.stringify(result)}`);
  const body = JSON.parse(result.content[0].text);
  assert.equal(typeof body.error.code, 'string');
  assert.equal(typeof body.error.message, 'string');
  return body.error;
}

// Runs the scenario that every transport must pass: every tool, with real arguments and
// real results. `space` is added to every call when given (a server without a default).
export async function exerciseEveryTool(client, space) {
  const withSpace = (args) => (space ? { space, ...args } : args);
  const call = (name, args) => client.callTool({ name, arguments: withSpace(args) });

  // add, then search finds it and get reads it back.
  const added = ok(await call('add_memory', { text: 'Maya is allergic to peanuts', user: 'maya', kind: 'fact' }));
  assert.equal(typeof added.id, 'number');
  ok(await call('add_memory', { text: 'Maya adopted a cat called Miso', user: 'maya' }));
  const found = ok(await call('search_memory', { query: 'peanut allergy', user: 'maya', k: 5 }));
  assert.ok(found.results.length >= 1, JSON.stringify(found));
  assert.equal(found.results[0].id, added.id);
  assert.equal(found.results[0].text, 'Maya is allergic to peanuts');
  const got = ok(await call('get_memory', { id: added.id }));
  assert.equal(got.kind, 'fact');
  assert.equal(got.user, 'maya');
  assert.equal(got.state, 'active');

  // ingest, then list shows the conversation in order and pages with the cursor.
  const ingested = ok(
    await call('ingest_conversation', {
      user: 'sam',
      messages: [
        { role: 'user', speaker: 'Sam', text: 'I moved to Lisbon last week', session: 's1', time: '2024-03-01T10:00:00Z' },
        { role: 'assistant', text: 'How do you like it?', session: 's1', time: '2024-03-01T10:00:05Z' },
        { speaker: 'Sam', text: 'I love the light there', session: 's1', time: '2024-03-01T10:01:00Z' },
      ],
    }),
  );
  assert.equal(ingested.ids.length, 3);
  // Only episodes: the background pipeline may already have derived memories from them.
  const page = ok(await call('list_memories', { user: 'sam', kinds: ['episode'], limit: 2 }));
  assert.deepEqual(
    page.memories.map((m) => m.text),
    ['I moved to Lisbon last week', 'How do you like it?'],
  );
  assert.ok(page.next_cursor, JSON.stringify(page));
  const rest = ok(await call('list_memories', { user: 'sam', kinds: ['episode'], cursor: page.next_cursor }));
  assert.deepEqual(rest.memories.map((m) => m.id), [ingested.ids[2]]);
  const lisbon = ok(await call('search_memory', { query: 'Lisbon', user: 'sam' }));
  assert.ok(lisbon.results.some((r) => r.id === ingested.ids[0]), JSON.stringify(lisbon));

  // update, then history shows both versions.
  const updated = ok(await call('update_memory', { id: added.id, text: 'Maya is allergic to peanuts and cashews', reason: 'new test result' }));
  assert.equal(updated.version, 2);
  const history = ok(await call('memory_history', { id: added.id }));
  assert.equal(history.history.length, 2, JSON.stringify(history));
  assert.deepEqual(history.history.map((h) => h.op), ['add', 'update']);
  assert.equal(history.history[1].after.text, 'Maya is allergic to peanuts and cashews');
  assert.equal(history.history[1].reason, 'new test result');

  // delete, then get shows it retired and search no longer finds it.
  ok(await call('delete_memory', { id: ingested.ids[1], reason: 'asked to forget' }));
  assert.equal(ok(await call('get_memory', { id: ingested.ids[1] })).state, 'retired');
  const after = ok(await call('list_memories', { user: 'sam', kinds: ['episode'] }));
  assert.deepEqual(after.memories.map((m) => m.id), [ingested.ids[0], ingested.ids[2]]);

  // The pipeline has a job for each ingested session (done or still pending: the
  // server's background thread runs them) and its statistics.
  const jobs = ok(await call('list_jobs', {}));
  assert.ok(jobs.jobs.some((j) => j.kind === 'extract' && j.user === 'sam'), JSON.stringify(jobs));
  const stats = ok(await call('job_stats', {}));
  assert.equal(stats.dead, 0, JSON.stringify(stats));
  assert.ok(stats.pending + stats.done >= 1, JSON.stringify(stats));
  assert.equal(stats.extractor, 'rules');
  assert.equal(toolError(await call('list_jobs', { state: 'stuck' })).field, 'state');

  // A profile slot as the pipeline records it (metadata slot and value) is in the user's
  // profile; the context block for a turn holds the relevant conversation with its dates.
  const home = ok(
    await call('add_memory', {
      text: 'Maya lives in Porto',
      user: 'maya',
      kind: 'fact',
      meta: { slot: 'home_city', value: 'porto' },
    }),
  );
  const profile = ok(await call('get_profile', { user: 'maya' }));
  assert.equal(profile.user, 'maya');
  assert.ok(
    profile.entries.some((e) => e.key === 'home_city' && e.value === 'porto' && e.kind === 'fact' && e.memory_id === home.id),
    JSON.stringify(profile),
  );
  assert.equal(ok(await call('get_profile', { user: 'maya', limit: 1 })).entries.length, 1);
  const context = ok(await call('get_context', { user: 'sam', query: 'Where did Sam move?', budget: 200, now: '2024-03-02' }));
  assert.ok(context.tokens <= 200, JSON.stringify(context));
  assert.match(context.text, /\[2024-03-01 10:00\] Sam: I moved to Lisbon last week/);
  assert.ok(context.memories.includes(ingested.ids[0]), JSON.stringify(context));
  assert.equal(context.profile.user, 'sam');
  const maya = ok(await call('get_context', { user: 'maya', query: 'Where does Maya live?' }));
  assert.ok(maya.text.includes('Maya lives in Porto'), maya.text);
  assert.ok(!maya.text.includes('Lisbon'), maya.text);
  assert.equal(toolError(await call('get_context', { user: 'sam' })).field, 'query');
  assert.equal(toolError(await call('get_context', { user: 'sam', query: 'x', budget: 10 })).field, 'budget');
  assert.equal(toolError(await call('get_profile', {})).field, 'user');

  // Bad arguments come back as tool errors the model can read and correct.
  assert.match(toolError(await call('add_memory', { user: 'maya' })).message, /text/);
  toolError(await call('add_memory', { text: 'x', user: 'maya', kind: 'rumour' }));
  toolError(await call('search_memory', { query: 'x', user: 'maya', k: 0 }));
  assert.equal(toolError(await call('get_memory', { id: added.id + 1000 })).code, 'not_found');
  toolError(await call('get_memory', { id: 'seven' }));
  assert.equal(toolError(await client.callTool({ name: 'get_memory', arguments: { space: 'nope', id: added.id } })).code, 'not_found');

  return { added, ingested };
}

// Checks tools/list: every tool with an object schema and a description.
export async function checkToolList(client, { spaceRequired }) {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  for (const name of TOOL_NAMES) assert.ok(names.includes(name), `missing tool ${name}: ${names}`);
  for (const t of tools) {
    assert.equal(typeof t.inputSchema, 'object', t.name);
    assert.equal(t.inputSchema.type, 'object', t.name);
    assert.equal(t.inputSchema.additionalProperties, false, t.name);
    assert.ok(t.description.length > 40, t.name);
    if (t.name !== 'list_spaces' && t.name !== 'create_space') {
      assert.equal((t.inputSchema.required || []).includes('space'), spaceRequired, t.name);
    }
  }
  const search = tools.find((t) => t.name === 'search_memory');
  assert.deepEqual(search.inputSchema.required, spaceRequired ? ['space', 'query'] : ['query']);
  assert.equal(search.inputSchema.properties.k.minimum, 1);
  return tools;
}
