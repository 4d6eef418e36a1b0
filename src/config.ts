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
    // Object values come back as read-only proxies that structuredClone (in resolveSettings)
    // refuses: hand core plain JSON.
    const value = cfg.get(spec.key);
    cur[parts[parts.length - 1]] = value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  }
  return resolveSettings(raw);
}
