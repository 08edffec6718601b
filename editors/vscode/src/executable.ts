/**
 * Finding the `spark-lsp` executable before starting it, so a missing one gets one clear
 * message (and a status-bar item that says so) instead of the language client's failure toasts.
 * No `vscode` import: the unit tests run this module in plain Node.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    if (process.platform !== 'win32') {
      fs.accessSync(file, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * The file `command` starts: itself when it names a path (absolute, or relative to `cwd`),
 * else the first match on `searchPath` (PATH's format). Undefined when there is none.
 */
export function findExecutable(
  command: string,
  searchPath: string = process.env['PATH'] ?? '',
  cwd: string = process.cwd(),
): string | undefined {
  if (command.includes('/') || command.includes(path.sep)) {
    const file = path.resolve(cwd, command);
    return isExecutableFile(file) ? file : undefined;
  }
  const suffixes = process.platform === 'win32' ? ['', '.exe', '.cmd', '.bat'] : [''];
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '') {
      continue;
    }
    for (const suffix of suffixes) {
      const file = path.join(dir, command + suffix);
      if (isExecutableFile(file)) {
        return file;
      }
    }
  }
  return undefined;
}
