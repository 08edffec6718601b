/**
 * The `spark.*` settings as VS Code holds them, turned into the object spark-lsp reads.
 *
 * VS Code returns every contributed key, set or not, with its default. A default here means
 * "not set" (an empty string or null), so those keys are dropped and the server's own defaults
 * (and the user's spark.toml) apply. Keys that only configure the extension are dropped too.
 * No `vscode` import: the protocol test runs this module in plain Node.
 */

/** Settings under `spark.*` that configure the extension, not the server. */
export const EXTENSION_ONLY_KEYS: readonly string[] = ['server', 'trace'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Drop unset values (`""`, `null`, `undefined`) and the objects left empty by that. */
function dropUnset(value: unknown): Json | undefined {
  if (value === undefined || value === null || value === '') {
    return undefined;
  }
  if (Array.isArray(value)) {
    return value as Json[];
  }
  if (isObject(value)) {
    const out: { [key: string]: Json } = {};
    for (const [key, child] of Object.entries(value)) {
      const kept = dropUnset(child);
      if (kept !== undefined) {
        out[key] = kept;
      }
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return value as Json;
}

/** The server's settings object from the `spark` configuration section (camelCase keys). */
export function serverSettings(section: unknown): { [key: string]: Json } {
  if (!isObject(section)) {
    return {};
  }
  const forServer: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section)) {
    if (!EXTENSION_ONLY_KEYS.includes(key)) {
      forServer[key] = value;
    }
  }
  const cleaned = dropUnset(forServer);
  return isObject(cleaned) ? cleaned : {};
}

/** The executable to start: `spark.server.path` when set, else `spark-lsp` from PATH. */
export function serverCommand(section: unknown): string {
  const server = isObject(section) ? section['server'] : undefined;
  const path = isObject(server) ? server['path'] : undefined;
  return typeof path === 'string' && path.trim() !== '' ? path.trim() : 'spark-lsp';
}
