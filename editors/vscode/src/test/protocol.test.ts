/**
 * Drives the real spark-lsp over stdio with the requests the extension's client sends, using
 * the extension's own compiled modules for the settings object, the status text and the code
 * action kinds; vscode-languageclient's features map one-to-one onto these requests. (The
 * extension in a real VS Code: tests/e2e/test_vscode_real.py, in code-server.)
 *
 * Env: SPARK_LSP_CMD (default `spark-lsp`) and FAKE_MODEL_URL (an Ollama-style fake model whose
 * every answer is FAKE_MODEL_REPLY, default `return a + b`). Without FAKE_MODEL_URL it skips.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import {
  ApplyWorkspaceEditParams,
  ClientCapabilities,
  CodeAction,
  CodeActionRequest,
  CodeActionResolveRequest,
  Command,
  CompletionRequest,
  ConfigurationRequest,
  createProtocolConnection,
  DidChangeConfigurationNotification,
  DidOpenTextDocumentNotification,
  ExecuteCommandRequest,
  InitializedNotification,
  InitializeRequest,
  InitializeResult,
  InlineCompletionItem,
  InlineCompletionList,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  ProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  TextEdit,
  WorkspaceEdit,
} from 'vscode-languageserver-protocol/node';

import { SPARK_ACTIONS } from '../actions';
import { serverSettings } from '../settings';
import { formatStatus, SparkStatus, STATUS_NOTIFICATION } from '../status';

const SERVER = process.env.SPARK_LSP_CMD || 'spark-lsp';
const FAKE_URL = process.env.FAKE_MODEL_URL;
const REPLY = process.env.FAKE_MODEL_REPLY || 'return a + b';
const skip = FAKE_URL ? false : 'FAKE_MODEL_URL is not set (run through tests/e2e/test_editor_vscode.py)';

const PACKAGE_JSON = path.join(__dirname, '..', '..', 'package.json');
const contributed: Record<string, { default?: unknown }> = JSON.parse(
  fs.readFileSync(PACKAGE_JSON, 'utf8'),
).contributes.configuration.properties;

/**
 * The `spark` section as `workspace.getConfiguration().get('spark')` returns it: every
 * contributed key with its default, overridden by what the user set.
 */
function vscodeSection(userSettings: Record<string, unknown>): Record<string, unknown> {
  const section: Record<string, unknown> = {};
  const values = Object.entries(contributed).map(([key, schema]) => [key, schema.default] as const);
  for (const [key, value] of [...values, ...Object.entries(userSettings)]) {
    const parts = key.split('.').slice(1); // drop `spark`
    let node = section;
    for (const part of parts.slice(0, -1)) {
      node = (node[part] ??= {}) as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return section;
}

/** What vscode-languageclient 11 advertises for the features spark-lsp uses. */
const CAPABILITIES: ClientCapabilities = {
  workspace: {
    configuration: true,
    didChangeConfiguration: { dynamicRegistration: true },
    applyEdit: true,
    workspaceEdit: { documentChanges: true },
    executeCommand: { dynamicRegistration: true },
  },
  textDocument: {
    synchronization: { dynamicRegistration: true, didSave: true },
    inlineCompletion: { dynamicRegistration: true },
    completion: {
      dynamicRegistration: true,
      contextSupport: true,
      completionItem: { snippetSupport: true, insertReplaceSupport: true },
    },
    codeAction: {
      dynamicRegistration: true,
      isPreferredSupport: true,
      disabledSupport: true,
      dataSupport: true,
      resolveSupport: { properties: ['edit'] },
      codeActionLiteralSupport: {
        codeActionKind: { valueSet: ['', 'quickfix', 'refactor', 'refactor.rewrite', 'source'] },
      },
    },
  },
  window: { workDoneProgress: true, showMessage: {} },
};

function until<T>(what: string, check: () => T | undefined, timeoutMs = 15000): Promise<T> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      const value = check();
      if (value !== undefined) {
        resolve(value);
      } else if (Date.now() - started > timeoutMs) {
        reject(new Error(`timed out waiting for ${what}`));
      } else {
        setTimeout(poll, 20);
      }
    };
    poll();
  });
}

function textOf(edit: WorkspaceEdit | undefined | null): string {
  if (!edit) {
    return '';
  }
  const edits: TextEdit[] = [];
  for (const list of Object.values(edit.changes ?? {})) {
    edits.push(...list);
  }
  for (const change of edit.documentChanges ?? []) {
    if ('edits' in change) {
      edits.push(...(change.edits as TextEdit[]));
    }
  }
  return edits.map((e) => e.newText).join('\n');
}

let server: ChildProcess;
let connection: ProtocolConnection;
let workspace: string;
let initializeResult: InitializeResult;
const stderr: string[] = [];
const statuses: SparkStatus[] = [];
const appliedEdits: ApplyWorkspaceEditParams[] = [];
let configurationRequests = 0;

const userSettings = {
  'spark.fast.provider': 'ollama',
  'spark.fast.url': FAKE_URL,
  'spark.fast.model': 'test',
  'spark.completion.debounceMs': 0,
};
const settings = serverSettings(vscodeSection(userSettings));

function uriOf(name: string): string {
  return pathToFileURL(path.join(workspace, name)).toString();
}

function open(name: string, text: string): string {
  fs.writeFileSync(path.join(workspace, name), text);
  const uri = uriOf(name);
  void connection.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: 'python', version: 1, text },
  });
  return uri;
}

before(async () => {
  if (skip) {
    return;
  }
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-vscode-'));
  // An empty config dir, so a developer's own spark.toml cannot change the answers.
  const env = { ...process.env, XDG_CONFIG_HOME: path.join(workspace, '.config') };
  // TransportKind.stdio appends `--stdio`, exactly as here.
  server = spawn(SERVER, ['--stdio'], { cwd: workspace, env, stdio: ['pipe', 'pipe', 'pipe'] });
  server.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  connection = createProtocolConnection(
    new StreamMessageReader(server.stdout!),
    new StreamMessageWriter(server.stdin!),
  );
  connection.onRequest(ConfigurationRequest.type, (params) => {
    configurationRequests += 1;
    // The extension's middleware answers the `spark` section with serverSettings(...).
    return params.items.map((item) => (item.section === 'spark' ? settings : null));
  });
  connection.onNotification(STATUS_NOTIFICATION, (status: SparkStatus) => {
    statuses.push(status);
  });
  connection.onRequest('workspace/applyEdit', (params: ApplyWorkspaceEditParams) => {
    appliedEdits.push(params);
    return { applied: true };
  });
  connection.onRequest('client/registerCapability', () => null);
  connection.onRequest('window/workDoneProgress/create', () => null);
  connection.onNotification('window/logMessage', () => undefined);
  connection.onNotification('window/showMessage', (params: { message: string }) => {
    stderr.push(`showMessage: ${params.message}\n`);
  });
  connection.listen();

  initializeResult = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    clientInfo: { name: 'Visual Studio Code', version: '1.91.0' },
    rootUri: pathToFileURL(workspace).toString(),
    workspaceFolders: [{ uri: pathToFileURL(workspace).toString(), name: 'spark' }],
    capabilities: CAPABILITIES,
    initializationOptions: settings,
  });
  await connection.sendNotification(InitializedNotification.type, {});
  // What the client sends once its configuration feature registers: the middleware turns it
  // into `settings: null`, so the server pulls the section.
  await connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
});

after(async () => {
  if (skip || !connection) {
    return;
  }
  const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
  try {
    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
  } finally {
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 5000)),
    ]);
    connection.dispose();
    if (code !== 0) {
      server.kill();
    }
    fs.rmSync(workspace, { recursive: true, force: true });
    assert.equal(code, 0, `spark-lsp did not exit cleanly after shutdown/exit:\n${stderr.join('')}`);
  }
});

test('the settings object leaves out unset and extension-only keys', { skip }, () => {
  assert.deepEqual(settings, {
    fast: { provider: 'ollama', url: FAKE_URL, model: 'test' },
    completion: { debounceMs: 0 },
  });
});

test('the server advertises what the extension relies on', { skip }, () => {
  const caps = initializeResult.capabilities;
  assert.ok(caps.inlineCompletionProvider, 'inlineCompletionProvider');
  // Ghost text only: the same suggestion in the suggest widget would show it twice.
  assert.equal(caps.completionProvider, undefined, 'no completionProvider for VS Code');
  assert.ok(caps.executeCommandProvider, 'executeCommandProvider');
  const codeActions = caps.codeActionProvider;
  assert.ok(codeActions && typeof codeActions === 'object', 'codeActionProvider with options');
  assert.equal(codeActions.resolveProvider, true);
  for (const { kind } of SPARK_ACTIONS) {
    assert.ok(codeActions.codeActionKinds?.includes(kind), `code action kind ${kind}`);
  }
});

test('the server pulls the spark section after initialized and after a change', { skip }, async () => {
  await until('a workspace/configuration request', () => (configurationRequests > 0 ? true : undefined));
  const before = configurationRequests;
  await connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
  await until('a workspace/configuration request after the change', () =>
    configurationRequests > before ? true : undefined,
  );
});

test('inline completion shows the model reply, and the status bar its latency', { skip }, async () => {
  const uri = open('add.py', 'def add(a, b):\n    ');
  const result = await connection.sendRequest(InlineCompletionRequest.type, {
    textDocument: { uri },
    position: { line: 1, character: 4 },
    context: { triggerKind: InlineCompletionTriggerKind.Automatic },
  });
  assert.ok(result, `no inline completion:\n${stderr.join('')}`);
  const items: InlineCompletionItem[] = Array.isArray(result)
    ? result
    : (result as InlineCompletionList).items;
  const texts = items.map((item) =>
    typeof item.insertText === 'string' ? item.insertText : item.insertText.value,
  );
  assert.ok(texts.some((text) => text.includes(REPLY)), `inline items: ${JSON.stringify(texts)}`);

  const status = await until('a spark/status notification', () => statuses.at(-1));
  assert.equal(status.tier, 'fast');
  assert.equal(typeof status.latencyMs, 'number');
  assert.match(formatStatus(status).text, /^\$\(zap\) fast \d+ ms$/);
});

test('no completion items beside the ghost text', { skip }, async () => {
  const uri = open('add_items.py', 'def add(a, b):\n    ');
  const result = await connection.sendRequest(CompletionRequest.type, {
    textDocument: { uri },
    position: { line: 1, character: 4 },
    context: { triggerKind: 1 },
  });
  assert.equal(result, null, `completion items for VS Code: ${JSON.stringify(result)}`);
});

test('each palette command names a code action kind the server answers', { skip }, async () => {
  const uri = open('stub.py', 'def add(a, b):\n    pass\n');
  const range = { start: { line: 1, character: 4 }, end: { line: 1, character: 4 } }; // cursor on `pass`
  const offered: string[] = [];
  for (const { kind } of SPARK_ACTIONS) {
    // editor.action.codeAction with { kind, apply: 'first' } sends `only: [kind]`.
    const actions = await connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range,
      context: { diagnostics: [], only: [kind], triggerKind: 1 },
    });
    for (const action of actions ?? []) {
      assert.ok('kind' in action && action.kind?.startsWith(kind), `${kind}: got ${JSON.stringify(action)}`);
      offered.push(kind);
    }
  }
  const fill = 'refactor.rewrite.spark.fillTemplate';
  assert.ok(offered.includes(fill), `no ${fill} for a \`pass\` body; offered: ${offered.join(', ')}`);

  // Applying it: resolve for the edit (resolveProvider), or run its command (applyEdit).
  const [action] = (await connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri },
    range,
    context: { diagnostics: [], only: [fill], triggerKind: 1 },
  })) as CodeAction[];
  const resolved = action.edit ? action : await connection.sendRequest(CodeActionResolveRequest.type, action);
  let text = textOf(resolved.edit);
  const command: Command | undefined = resolved.command;
  if (!text && command) {
    await connection.sendRequest(ExecuteCommandRequest.type, {
      command: command.command,
      arguments: command.arguments,
    });
    text = appliedEdits.map((params) => textOf(params.edit)).join('\n');
  }
  assert.ok(text.includes(REPLY), `fill template edit: ${JSON.stringify(text)}`);
});
