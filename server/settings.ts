import { MessageType, ShowMessageNotification, type Connection } from 'vscode-languageserver/node';
import { defaultSettings, resolveSettings, SETTINGS_SECTION, type AllocLensSettings } from '../core/config';

/**
 * Settings per resource (a workspace folder or file uri), fetched with workspace/configuration
 * and cached until the client says they changed. Never a global: two folders may differ.
 */
export class SettingsCache {
  private readonly cache = new Map<string, Promise<AllocLensSettings>>();
  private readonly reported = new Set<string>();

  constructor(
    private readonly connection: Connection,
    private readonly clientSupportsConfiguration: boolean,
  ) {}

  get(resource: string): Promise<AllocLensSettings> {
    if (!this.clientSupportsConfiguration) return Promise.resolve(defaultSettings());
    let pending = this.cache.get(resource);
    if (!pending) {
      pending = this.fetch(resource);
      this.cache.set(resource, pending);
    }
    return pending;
  }

  clear(): void {
    this.cache.clear();
    this.reported.clear();
  }

  private async fetch(resource: string): Promise<AllocLensSettings> {
    let raw: unknown;
    try {
      raw = await this.connection.workspace.getConfiguration({ scopeUri: resource, section: SETTINGS_SECTION });
    } catch (err) {
      this.connection.console.warn(`cannot read settings for ${resource}: ${String(err)}; using defaults`);
      return defaultSettings();
    }
    const { settings, problems } = resolveSettings(raw);
    for (const problem of problems) {
      if (this.reported.has(problem)) continue;
      this.reported.add(problem);
      // A plain notification: window.showWarningMessage is a request that waits for an answer.
      void this.connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message: `Alloc Lens: ${problem}` });
      this.connection.console.warn(problem);
    }
    return settings;
  }
}
