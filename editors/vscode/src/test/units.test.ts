/** The extension's pure parts, without a server: settings object, status text, commands. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { SPARK_ACTIONS } from '../actions';
import { findExecutable } from '../executable';
import { serverCommand, serverSettings } from '../settings';
import { formatStatus, notFoundStatus } from '../status';

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));

test('unset values and extension-only keys never reach the server', () => {
  const section = {
    server: { path: '/opt/spark-lsp' },
    trace: { server: 'verbose' },
    fast: { provider: 'llamacpp', url: '', maxTokens: null, temperature: 0 },
    strong: { provider: '', url: '', model: '' },
    context: { exclude: [] },
    completion: { debounceMs: 0, multiline: '' },
  };
  assert.deepEqual(serverSettings(section), {
    fast: { provider: 'llamacpp', temperature: 0 },
    context: { exclude: [] },
    completion: { debounceMs: 0 },
  });
  assert.deepEqual(serverSettings(undefined), {});
});

test('the server is spark-lsp on PATH unless a path is set', () => {
  assert.equal(serverCommand({ server: { path: '' } }), 'spark-lsp');
  assert.equal(serverCommand(undefined), 'spark-lsp');
  assert.equal(serverCommand({ server: { path: ' /opt/bin/spark-lsp ' } }), '/opt/bin/spark-lsp');
});

test('status text shows tier and rounded latency', () => {
  const fast = formatStatus({ tier: 'fast', model: 'qwen', latencyMs: 41.6, source: 'model' });
  assert.equal(fast.text, '$(zap) fast 42 ms');
  assert.match(fast.tooltip, /qwen/);
  const strong = formatStatus({ tier: 'strong', model: '', latencyMs: 1200, source: 'cache' });
  assert.equal(strong.text, '$(rocket) strong 1200 ms');
  assert.match(strong.tooltip, /cache/);
});

test('every code-action command is contributed in package.json', () => {
  const contributed = new Set(manifest.contributes.commands.map((c: { command: string }) => c.command));
  for (const { command } of SPARK_ACTIONS) {
    assert.ok(contributed.has(command), `${command} missing from package.json`);
  }
});

test('every contributed setting lives under spark and is unset by default', () => {
  for (const [key, schema] of Object.entries(manifest.contributes.configuration.properties)) {
    assert.match(key, /^spark\./);
    const value = (schema as { default?: unknown }).default;
    if (!key.startsWith('spark.trace.')) {
      assert.ok(value === '' || value === null, `${key} has a default (${String(value)}): the server's defaults should apply`);
    }
  }
});

test('a missing server is found missing before the client starts it', () => {
  assert.equal(findExecutable('/nowhere/spark-lsp'), undefined);
  assert.equal(findExecutable('spark-lsp-nowhere-on-path', '/nowhere:/also/nowhere'), undefined);
  assert.equal(findExecutable(process.execPath), process.execPath);
  const dir = path.dirname(process.execPath);
  assert.equal(findExecutable(path.basename(process.execPath), dir), process.execPath);
  const status = notFoundStatus('spark-lsp');
  assert.equal(status.text, '$(error) spark');
  assert.match(status.tooltip, /not found on PATH/);
  assert.equal(status.error, true);
});
