/**
 * VS Code glue for spark-lsp: start the server over stdio, hand it the `spark.*` settings,
 * show the last completion's tier and latency in the status bar, and add palette commands for
 * its code actions. Inline completions, completion items and code actions themselves are
 * vscode-languageclient's built-in features.
 */
import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';

import { SPARK_ACTIONS } from './actions';
import { serverCommand, serverSettings } from './settings';
import { formatStatus, IDLE_STATUS, SparkStatus, STATUS_NOTIFICATION, StatusText } from './status';

const SECTION = 'spark';

/** The VS Code language ids of the languages spark-lsp parses. */
export const LANGUAGES: readonly string[] = [
  'python',
  'javascript',
  'javascriptreact',
  'typescript',
  'typescriptreact',
  'go',
  'rust',
  'java',
  'c',
  'cpp',
];

let client: LanguageClient | undefined;
let statusItem: vscode.StatusBarItem | undefined;

function sparkSection(): unknown {
  return vscode.workspace.getConfiguration().get(SECTION);
}

function showStatus(status: StatusText): void {
  if (statusItem) {
    statusItem.text = status.text;
    statusItem.tooltip = status.tooltip;
  }
}

function createClient(output: vscode.LogOutputChannel): LanguageClient {
  // TransportKind.stdio appends `--stdio`, which spark-lsp accepts.
  const serverOptions: ServerOptions = {
    command: serverCommand(sparkSection()),
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]),
    outputChannel: output,
    initializationOptions: serverSettings(sparkSection()),
    synchronize: { configurationSection: SECTION },
    middleware: {
      workspace: {
        // The server pulls `spark` through workspace/configuration: hand it the cleaned object.
        configuration: async (params, token, next) => {
          const answers = await next(params, token);
          if (!Array.isArray(answers)) {
            return answers;
          }
          return answers.map((answer, i) =>
            params.items[i]?.section === SECTION ? serverSettings(answer) : answer,
          );
        },
        // Send `settings: null` on a change, so the server re-pulls the cleaned object above
        // instead of reading the raw section (with unset keys and extension-only keys).
        didChangeConfiguration: (_sections, next) => next(undefined),
      },
    },
  };
  const languageClient = new LanguageClient(SECTION, 'spark-lsp', serverOptions, clientOptions);
  languageClient.onNotification(STATUS_NOTIFICATION, (status: SparkStatus) =>
    showStatus(formatStatus(status)),
  );
  languageClient.onDidChangeState(({ newState }) => {
    if (newState === State.Stopped) {
      showStatus({ text: '$(circle-slash) spark', tooltip: 'spark-lsp is not running' });
    } else if (newState === State.Running) {
      showStatus(IDLE_STATUS);
    }
  });
  return languageClient;
}

async function startClient(output: vscode.LogOutputChannel): Promise<void> {
  client = createClient(output);
  try {
    await client.start();
  } catch (error) {
    const command = serverCommand(sparkSection());
    void vscode.window.showErrorMessage(
      `spark-lsp could not be started with "${command}": ${String(error)}. ` +
        'Install it on PATH (pip install \'.[local]\' in a spark-lsp checkout) or set "spark.server.path".',
    );
  }
}

async function restartClient(output: vscode.LogOutputChannel): Promise<void> {
  const previous = client;
  client = undefined;
  if (previous) {
    await previous.stop().catch(() => undefined);
  }
  await startClient(output);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('spark-lsp', { log: true });
  statusItem = vscode.window.createStatusBarItem('spark.status', vscode.StatusBarAlignment.Right, 100);
  statusItem.name = 'spark-lsp';
  statusItem.command = 'spark.showOutput';
  showStatus(IDLE_STATUS);
  statusItem.show();

  context.subscriptions.push(
    output,
    statusItem,
    ...SPARK_ACTIONS.map(({ command, kind }) =>
      vscode.commands.registerCommand(command, () =>
        vscode.commands.executeCommand('editor.action.codeAction', { kind, apply: 'first' }),
      ),
    ),
    vscode.commands.registerCommand('spark.restartServer', () => restartClient(output)),
    vscode.commands.registerCommand('spark.showOutput', () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.server`)) {
        void restartClient(output);
      }
    }),
  );
  await startClient(output);
}

export async function deactivate(): Promise<void> {
  const previous = client;
  client = undefined;
  await previous?.stop();
}
