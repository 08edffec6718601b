/**
 * VS Code glue for spark-lsp: start the server over stdio, hand it the `spark.*` settings,
 * show the last completion's tier and latency in the status bar, and add palette commands for
 * its code actions. Inline completions and code actions themselves are vscode-languageclient's
 * built-in features (the server offers completion items only to editors without inline
 * completion, unless `spark.completion.items` asks for both).
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
import { findExecutable } from './executable';
import { serverCommand, serverSettings } from './settings';
import {
  formatStatus,
  IDLE_STATUS,
  notFoundStatus,
  SparkStatus,
  STARTING_STATUS,
  STATUS_NOTIFICATION,
  StatusText,
  STOPPED_STATUS,
} from './status';

const SECTION = 'spark';
/** Settings that change what the server is started with: a change restarts it. */
const RESTART_ON = [`${SECTION}.server`, `${SECTION}.completion.items`];

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
let traceChannel: vscode.LogOutputChannel | undefined;

function sparkSection(): unknown {
  return vscode.workspace.getConfiguration().get(SECTION);
}

function showStatus(status: StatusText): void {
  if (statusItem) {
    statusItem.text = status.text;
    statusItem.tooltip = status.tooltip;
    statusItem.accessibilityInformation = { label: status.tooltip };
    statusItem.backgroundColor = status.error
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : undefined;
  }
}

/**
 * A channel for `spark.trace.server`. vscode-languageclient traces only while its trace
 * channel's log level is Trace, which a log channel has only when the user sets it by hand;
 * this one is a plain channel that always takes traces, so the setting alone decides.
 */
function createTraceChannel(): vscode.LogOutputChannel {
  const plain = vscode.window.createOutputChannel('spark-lsp trace');
  const levels = new vscode.EventEmitter<vscode.LogLevel>();
  const line = (level: string) => (message: string | Error, ...args: unknown[]) => {
    const text = message instanceof Error ? message.stack ?? message.message : message;
    const extra = args.length > 0 ? ' ' + args.map((a) => JSON.stringify(a)).join(' ') : '';
    plain.appendLine(`${new Date().toISOString()} [${level}] ${text}${extra}`);
  };
  return {
    name: plain.name,
    logLevel: vscode.LogLevel.Trace,
    onDidChangeLogLevel: levels.event,
    append: (value: string) => plain.append(value),
    appendLine: (value: string) => plain.appendLine(value),
    replace: (value: string) => plain.replace(value),
    clear: () => plain.clear(),
    show: (first?: boolean | vscode.ViewColumn, preserveFocus?: boolean) =>
      typeof first === 'boolean' ? plain.show(first) : plain.show(first, preserveFocus),
    hide: () => plain.hide(),
    dispose: () => {
      levels.dispose();
      plain.dispose();
    },
    trace: line('trace'),
    debug: line('debug'),
    info: line('info'),
    warn: line('warning'),
    error: line('error'),
  };
}

function createClient(output: vscode.LogOutputChannel, command: string): LanguageClient {
  // TransportKind.stdio appends `--stdio`, which spark-lsp accepts.
  const serverOptions: ServerOptions = { command, transport: TransportKind.stdio };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]),
    outputChannel: output,
    traceOutputChannel: traceChannel,
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
      showStatus(STOPPED_STATUS);
    } else if (newState === State.Running) {
      showStatus(IDLE_STATUS);
    }
  });
  return languageClient;
}

const INSTALL_HINT =
  'Install it on PATH (pip install \'.[local]\' in a spark-lsp checkout) or set "spark.server.path".';

async function startClient(output: vscode.LogOutputChannel): Promise<void> {
  const command = serverCommand(sparkSection());
  const executable = findExecutable(command);
  if (executable === undefined) {
    // One message, and a status item that says so (the client would add toasts of its own).
    const status = notFoundStatus(command);
    showStatus(status);
    output.error(status.tooltip);
    void vscode.window
      .showErrorMessage(`${status.tooltip}. ${INSTALL_HINT}`, 'Open Settings')
      .then((choice) => {
        if (choice === 'Open Settings') {
          void vscode.commands.executeCommand('workbench.action.openSettings', 'spark.server.path');
        }
      });
    return;
  }
  client = createClient(output, executable);
  showStatus(STARTING_STATUS);
  try {
    await client.start();
  } catch (error) {
    showStatus(STOPPED_STATUS);
    output.error(`spark-lsp could not be started with "${executable}": ${String(error)}`);
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
  traceChannel = createTraceChannel();
  statusItem = vscode.window.createStatusBarItem('spark.status', vscode.StatusBarAlignment.Right, 100);
  statusItem.name = 'spark-lsp';
  statusItem.command = 'spark.showOutput';
  showStatus(STARTING_STATUS);
  statusItem.show();

  context.subscriptions.push(
    output,
    traceChannel,
    statusItem,
    ...SPARK_ACTIONS.map(({ command, kind }) =>
      vscode.commands.registerCommand(command, () =>
        vscode.commands.executeCommand('editor.action.codeAction', { kind, apply: 'first' }),
      ),
    ),
    vscode.commands.registerCommand('spark.restartServer', () => restartClient(output)),
    vscode.commands.registerCommand('spark.showOutput', () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (RESTART_ON.some((section) => event.affectsConfiguration(section))) {
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
