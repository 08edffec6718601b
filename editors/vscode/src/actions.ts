/**
 * The palette commands for spark-lsp's code actions. Each runs VS Code's own code-action
 * command filtered to one kind, so the server computes the edit exactly as for the light bulb.
 * No `vscode` import: the protocol test requests these kinds from the real server.
 */

export interface SparkAction {
  command: string;
  kind: string;
}

export const SPARK_ACTIONS: readonly SparkAction[] = [
  { command: 'spark.generateFunction', kind: 'refactor.rewrite.spark.generateFunction' },
  { command: 'spark.fillTemplate', kind: 'refactor.rewrite.spark.fillTemplate' },
  { command: 'spark.askStronger', kind: 'refactor.rewrite.spark.askStronger' },
];
