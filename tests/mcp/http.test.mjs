// `mnemo serve`'s MCP endpoint (Streamable HTTP, POST /mcp), driven by the official MCP
// TypeScript SDK client, plus the transport rules checked with plain fetch.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION, McpError } from '@modelcontextprotocol/sdk/types.js';

import { MNEMO_BIN, checkToolList, exerciseEveryTool, makeDataDir } from './lib.mjs';

// Starts `mnemo serve --port 0` and resolves with its base URL, read from the first line
// it prints: "listening on http://127.0.0.1:PORT".
function startServer(data) {
  const child = spawn(MNEMO_BIN, ['--data', data, 'serve', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mnemo serve did not start within 20 s: ${stderr}`));
    }, 20000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mnemo serve exited with ${code}: ${stderr}`));
    });
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)\s*$/.exec(line);
      if (!m) {
        child.kill('SIGKILL');
        reject(new Error(`unexpected first line from mnemo serve: ${line}`));
        return;
      }
      child.removeAllListeners('exit');
      lines.on('line', () => {}); // keep draining stdout (access log, if any)
      resolve({ child, base: m[1], stderr: () => stderr });
    });
  });
}

function stopServer(child) {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

describe('mnemo serve /mcp (Streamable HTTP)', () => {
  let data;
  let server;
  let url;

  before(async () => {
    data = makeDataDir('notes', 'other');
    server = await startServer(data.data);
    url = new URL('/mcp', server.base);
  });

  after(async () => {
    await stopServer(server?.child);
    data?.remove();
  });

  describe('with the SDK client', () => {
    let client;
    before(async () => {
      client = new Client({ name: 'mnemo-http-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(url));
    });
    after(async () => client?.close());

    test('initialize: server info and tools capability', () => {
      assert.equal(client.getServerVersion().name, 'mnemo');
      assert.deepEqual(client.getServerCapabilities().tools, { listChanged: false });
      assert.match(client.getInstructions(), /search_memory/);
    });

    test('tools/list: the HTTP endpoint has no default space', async () => {
      await checkToolList(client, { spaceRequired: true });
    });

    test('every tool works', async () => {
      await exerciseEveryTool(client, 'notes');
    });

    test('an unknown tool is a JSON-RPC error (-32602)', async () => {
      await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), (e) => {
        assert.ok(e instanceof McpError);
        assert.equal(e.code, -32602);
        return true;
      });
    });
  });

  describe('transport rules', () => {
    const post = (body, headers = {}) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };

    test('a request gets one JSON answer', async () => {
      const r = await post(ping, { 'mcp-protocol-version': LATEST_PROTOCOL_VERSION });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type'), /^application\/json/);
      assert.deepEqual(await r.json(), { jsonrpc: '2.0', id: 1, result: {} });
    });

    test('a notification gets 202 with no body', async () => {
      const r = await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
      assert.equal(r.status, 202);
      assert.equal(await r.text(), '');
    });

    test('GET and DELETE get 405 (no SSE stream, no sessions)', async () => {
      for (const method of ['GET', 'DELETE']) {
        const r = await fetch(url, { method, headers: { accept: 'text/event-stream' } });
        assert.equal(r.status, 405, method);
        assert.match(r.headers.get('allow'), /POST/);
        await r.body?.cancel();
      }
    });

    test('a foreign Origin gets 403, a loopback one is served', async () => {
      const bad = await post(ping, { origin: 'http://evil.example' });
      assert.equal(bad.status, 403);
      await bad.body?.cancel();
      const good = await post(ping, { origin: 'http://localhost:6274' });
      assert.equal(good.status, 200);
      await good.body?.cancel();
    });

    test('an unsupported MCP-Protocol-Version gets 400', async () => {
      const r = await post(ping, { 'mcp-protocol-version': '1999-01-01' });
      assert.equal(r.status, 400);
      await r.body?.cancel();
    });

    test('Accept must allow JSON; the body must be JSON', async () => {
      const r406 = await post(ping, { accept: 'text/html' });
      assert.equal(r406.status, 406);
      await r406.body?.cancel();
      const r415 = await post(JSON.stringify(ping), { 'content-type': 'text/plain' });
      assert.equal(r415.status, 415);
      await r415.body?.cancel();
    });

    test('malformed JSON gets 400 with a JSON-RPC parse error', async () => {
      const r = await post('{"jsonrpc":');
      assert.equal(r.status, 400);
      const body = await r.json();
      assert.equal(body.error.code, -32700);
      assert.equal(body.id, null);
    });
  });
});
