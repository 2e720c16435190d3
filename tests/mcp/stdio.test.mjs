// `mnemo mcp` over stdio, driven by the official MCP TypeScript SDK client.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LATEST_PROTOCOL_VERSION, McpError } from '@modelcontextprotocol/sdk/types.js';

import { MNEMO_BIN, checkToolList, childEnv, exerciseEveryTool, makeDataDir, mnemo, ok, toolError } from './lib.mjs';

describe('mnemo mcp (stdio) with the SDK client', () => {
  let data;
  let client;
  let transport;
  let stderr = '';

  before(async () => {
    data = makeDataDir('notes', 'other');
    transport = new StdioClientTransport({
      command: MNEMO_BIN,
      args: ['--data', data.data, 'mcp', '--space', 'notes'],
      env: childEnv(),
      stderr: 'pipe',
    });
    transport.stderr.on('data', (chunk) => (stderr += chunk));
    client = new Client({ name: 'mnemo-stdio-test', version: '1.0.0' });
    await client.connect(transport);
  });

  after(async () => {
    await client?.close();
    data?.remove();
  });

  test('initialize: server info, tools capability and instructions', async () => {
    assert.equal(client.getServerVersion().name, 'mnemo');
    assert.deepEqual(client.getServerCapabilities().tools, { listChanged: false });
    const instructions = client.getInstructions();
    assert.match(instructions, /search_memory/);
    assert.match(instructions, /"notes"/);
    // Diagnostics go to stderr (read on its own pipe, so it may arrive after stdout).
    for (let i = 0; i < 100 && !/serving/.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(stderr, /serving/);
  });

  test('tools/list: every tool, strict object schemas, space optional', async () => {
    await checkToolList(client, { spaceRequired: false });
  });

  test('every tool works on the default space', async () => {
    const { added } = await exerciseEveryTool(client, undefined);
    // The default space was used: the memory is not in "other".
    const elsewhere = await client.callTool({ name: 'get_memory', arguments: { space: 'other', id: added.id } });
    assert.equal(elsewhere.isError, true);
    const spaces = ok(await client.callTool({ name: 'list_spaces', arguments: {} }));
    assert.deepEqual(spaces.spaces.map((s) => s.name).sort(), ['notes', 'other']);
  });

  test('an explicit space wins over the default', async () => {
    const r = ok(await client.callTool({ name: 'add_memory', arguments: { space: 'other', text: 'in other', user: 'maya' } }));
    assert.equal(ok(await client.callTool({ name: 'get_memory', arguments: { space: 'other', id: r.id } })).text, 'in other');
  });

  test('an unknown tool is a JSON-RPC error (-32602)', async () => {
    await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), (e) => {
      assert.ok(e instanceof McpError);
      assert.equal(e.code, -32602);
      return true;
    });
  });

  test('ping', async () => {
    assert.deepEqual(await client.ping(), {});
  });
});

// The wire itself: one JSON message per line on stdout, nothing else; errors keep the
// server serving; end of input ends it with status 0.
describe('mnemo mcp (stdio) raw protocol', () => {
  let data;
  before(() => (data = makeDataDir('notes')));
  after(() => data?.remove());

  function runServer(input) {
    return new Promise((resolve, reject) => {
      const child = spawn(MNEMO_BIN, ['--data', data.data, 'mcp', '--space', 'notes'], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: childEnv(),
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (err += c));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out, err }));
      child.stdin.end(input);
    });
  }

  test('parse errors, oversized lines and batches; clean exit at EOF', async () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } };
    const lines = [
      JSON.stringify(init),
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      'this is not json',
      '',
      'x'.repeat(4 * 1024 * 1024 + 10),
      JSON.stringify({ jsonrpc: '2.0', id: 'p', method: 'ping' }),
      JSON.stringify([{ jsonrpc: '2.0', id: 2, method: 'ping' }, { jsonrpc: '2.0', id: 3, method: 'nope' }]),
      JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'initialize', params: { protocolVersion: '1999-01-01' } }),
      JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'add_memory', arguments: { text: 'line one\nline two', user: 'u' } } }),
    ];
    const { code, out, err } = await runServer(lines.join('\n') + '\n');
    assert.equal(code, 0, err);
    assert.ok(out.endsWith('\n'));
    const answers = out.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(answers.length, 7, out);
    assert.equal(answers[0].result.protocolVersion, '2025-03-26');
    assert.equal(answers[1].error.code, -32700);
    assert.equal(answers[1].id, null);
    assert.equal(answers[2].error.code, -32600); // oversized line, skipped
    assert.deepEqual(answers[3], { jsonrpc: '2.0', id: 'p', result: {} });
    assert.deepEqual(answers[4].map((a) => a.id), [2, 3]);
    assert.equal(answers[4][1].error.code, -32601);
    assert.equal(answers[5].result.protocolVersion, LATEST_PROTOCOL_VERSION);
    assert.equal(answers[6].result.isError, false);
    assert.equal(answers[6].result.structuredContent.id > 0, true);
  });

  test('a missing default space stops the server with a message on stderr', async () => {
    const child = spawn(MNEMO_BIN, ['--data', data.data, 'mcp', '--space', 'nope'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: childEnv(),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.notEqual(code, 0);
    assert.equal(out, '');
    assert.match(err, /space 'nope' does not exist/);
  });
});

// With API keys in the data directory, the key in $MNEMO_API_KEY decides what the tools
// may do, exactly as over HTTP.
describe('mnemo mcp (stdio) with API keys', () => {
  let data;
  let key;
  before(() => {
    data = makeDataDir('notes', 'other');
    mnemo('--data', data.data, 'add', '--space', 'notes', '--user', 'maya', 'Maya likes green tea');
    key = JSON.parse(mnemo('--data', data.data, '--json', 'keys', 'create', '--name', 'reader', '--grant', 'notes:read'));
  });
  after(() => data?.remove());

  test('a read key can search its space and nothing else', async () => {
    const transport = new StdioClientTransport({
      command: MNEMO_BIN,
      args: ['--data', data.data, 'mcp', '--space', 'notes'],
      env: childEnv({ MNEMO_API_KEY: key.key }),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'mnemo-keys-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const found = ok(await client.callTool({ name: 'search_memory', arguments: { query: 'green tea', user: 'maya' } }));
      assert.equal(found.results[0].text, 'Maya likes green tea');
      const spaces = ok(await client.callTool({ name: 'list_spaces', arguments: {} }));
      assert.deepEqual(spaces.spaces.map((s) => s.name), ['notes']);
      const denied = toolError(await client.callTool({ name: 'add_memory', arguments: { text: 'x', user: 'maya' } }));
      assert.equal(denied.code, 'forbidden');
      const elsewhere = toolError(await client.callTool({ name: 'list_memories', arguments: { space: 'other' } }));
      assert.equal(elsewhere.code, 'forbidden');
    } finally {
      await client.close();
    }
  });

  test('without a valid key the server does not start', async () => {
    for (const env of [{}, { MNEMO_API_KEY: 'mnemo_00000000_' + '0'.repeat(64) }]) {
      const child = spawn(MNEMO_BIN, ['--data', data.data, 'mcp'], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: childEnv(env),
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (err += c));
      const code = await new Promise((resolve) => child.on('close', resolve));
      assert.equal(code, 1, err);
      assert.equal(out, '');
      assert.match(err, /MNEMO_API_KEY/);
    }
  });
});
