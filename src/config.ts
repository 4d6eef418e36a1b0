import * as vscode from 'vscode';
import { resolveSettings, SETTINGS, SETTINGS_SECTION, type ResolvedSettings } from '../core/config';

/** Reads the `allocLens` section through core's schema, so odd values become defaults + a problem. */
export function readSettings(scope?: vscode.ConfigurationScope): ResolvedSettings {
  const cfg = vscode.workspace.getConfiguration(SETTINGS_SECTION, scope);
  const raw: Record<string, unknown> = {};
  for (const spec of SETTINGS) {
    const parts = spec.key.split('.');
    let cur = raw;
    for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {}) as Record<string, unknown>;
    cur[parts[parts.length - 1]] = cfg.get(spec.key);
  }
  return resolveSettings(raw);
}
