/**
 * The `spark/status` notification the server sends after each inline completion, and how the
 * status bar shows it. No `vscode` import: the protocol test checks it in plain Node.
 */

export const STATUS_NOTIFICATION = 'spark/status';

export interface SparkStatus {
  tier: 'fast' | 'strong';
  model: string;
  latencyMs: number;
  source: 'model' | 'cache' | 'none';
}

export interface StatusText {
  /** Status-bar text, with a codicon: `$(zap) fast 42 ms`. */
  text: string;
  tooltip: string;
  /** Drawn in the status bar's error colours: spark-lsp is not running. */
  error?: boolean;
}

export function formatStatus(status: SparkStatus): StatusText {
  const icon = status.tier === 'strong' ? '$(rocket)' : '$(zap)';
  const latency = `${Math.round(status.latencyMs)} ms`;
  const model = status.model || 'default model';
  const source = {
    model: `answered by ${model}`,
    cache: 'served from cache',
    none: 'no suggestion',
  }[status.source];
  return {
    text: `${icon} ${status.tier} ${latency}`,
    tooltip: `spark-lsp: ${status.tier} tier (${model}), last completion ${latency}, ${source}`,
  };
}

/** Status-bar text before the first completion. */
export const IDLE_STATUS: StatusText = { text: '$(zap) spark', tooltip: 'spark-lsp is running' };

/** Before the server answers `initialize`. */
export const STARTING_STATUS: StatusText = { text: '$(sync~spin) spark', tooltip: 'spark-lsp is starting' };

/** The server stopped (or could not start). */
export const STOPPED_STATUS: StatusText = {
  text: '$(error) spark',
  tooltip: 'spark-lsp is not running (Spark: Show output)',
  error: true,
};

/** The server's executable is not there. */
export function notFoundStatus(command: string): StatusText {
  const where = command.includes('/') ? `"${command}" not found` : `"${command}" not found on PATH`;
  return { text: '$(error) spark', tooltip: `spark-lsp is not running: ${where}`, error: true };
}
