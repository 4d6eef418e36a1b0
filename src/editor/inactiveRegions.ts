// Dimmed code (issue #5): the server pushes `allocLens/inactiveRegions` for each open C document,
// the client draws it with decorations (protocol/editor.ts says why not semantic tokens).
// Preprocessor regions take `allocLens.inactiveRegions.opacity`; gate regions (bodies of functions
// whose ENV gate is off under the active profile) are lighter and say why on hover.
import * as vscode from 'vscode';
import type { ClientCapabilities, FeatureState, LanguageClient, StaticFeature } from 'vscode-languageclient/node';
import { InactiveRegionsNotification, type AllocLensClientCapabilities, type DimmedRegion, type InactiveRegionsParams } from '../../protocol/editor';
import { readSettings } from '../config';

interface Region {
  range: vscode.Range;
  kind: DimmedRegion['kind'];
  reason: string;
}

/** Gate regions sit halfway between the preprocessor's opacity and full: code that exists but does not run. */
export function gateOpacity(opacity: number): number {
  return Math.round((opacity + (1 - opacity) / 2) * 1000) / 1000;
}

/**
 * A static language-client feature: it advertises the capability, and once the server has
 * answered `initialize` it follows the notification, the visible editors and the settings.
 * One instance per language client; `clear()` (the client stopping) removes every decoration.
 */
export class InactiveRegionsFeature implements StaticFeature, vscode.Disposable {
  /** Regions by document URI (string form). */
  private readonly docs = new Map<string, Region[]>();
  /** Decoration types by kind and opacity (the opacity setting is per resource). */
  private readonly types = new Map<string, vscode.TextEditorDecorationType>();
  private listeners: vscode.Disposable[] = [];

  constructor(private readonly client: LanguageClient) {}

  fillClientCapabilities(capabilities: ClientCapabilities): void {
    const experimental = (capabilities.experimental ??= {}) as { allocLens?: AllocLensClientCapabilities };
    experimental.allocLens = { ...experimental.allocLens, inactiveRegions: true };
  }

  initialize(): void {
    if (this.listeners.length) return;
    this.listeners.push(
      this.client.onNotification(InactiveRegionsNotification.type, (params) => this.update(params)),
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((e) => this.apply(e))),
      vscode.workspace.onDidCloseTextDocument((doc) => this.docs.delete(doc.uri.toString())),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('allocLens.inactiveRegions')) this.restyle();
      }),
    );
  }

  getState(): FeatureState {
    return { kind: 'static' };
  }

  clear(): void {
    for (const d of this.listeners.splice(0)) d.dispose();
    // Disposing a decoration type removes its decorations from every editor.
    for (const t of this.types.values()) t.dispose();
    this.types.clear();
    this.docs.clear();
  }

  dispose(): void {
    this.clear();
  }

  private update(params: InactiveRegionsParams): void {
    const conv = this.client.protocol2CodeConverter;
    const key = conv.asUri(params.textDocument.uri).toString();
    if (params.regions.length === 0) this.docs.delete(key);
    else this.docs.set(key, params.regions.map((r) => ({ range: conv.asRange(r.range), kind: r.kind, reason: r.reason })));
    for (const editor of vscode.window.visibleTextEditors) if (editor.document.uri.toString() === key) this.apply(editor);
  }

  /** New settings: new decoration types (the old ones take their decorations with them). */
  private restyle(): void {
    for (const t of this.types.values()) t.dispose();
    this.types.clear();
    for (const editor of vscode.window.visibleTextEditors) this.apply(editor);
  }

  private apply(editor: vscode.TextEditor): void {
    const regions = this.docs.get(editor.document.uri.toString()) ?? [];
    const { enable, opacity, gatedOff } = readSettings(editor.document.uri).settings.inactiveRegions;
    const wanted = new Map<vscode.TextEditorDecorationType, vscode.DecorationOptions[]>();
    if (enable) {
      for (const r of regions) {
        if (r.kind === 'gate' && !gatedOff) continue;
        const type = this.typeFor(r.kind, opacity);
        const options: vscode.DecorationOptions = { range: r.range };
        if (r.kind === 'gate') options.hoverMessage = new vscode.MarkdownString().appendMarkdown('**Alloc Lens**: ').appendText(r.reason);
        wanted.set(type, [...(wanted.get(type) ?? []), options]);
      }
    }
    // Every known type, so that regions gone from this document (or switched off) are cleared too.
    for (const type of this.types.values()) editor.setDecorations(type, wanted.get(type) ?? []);
  }

  private typeFor(kind: Region['kind'], opacity: number): vscode.TextEditorDecorationType {
    const key = `${kind}:${opacity}`;
    let type = this.types.get(key);
    if (!type) {
      type =
        kind === 'preprocessor'
          ? vscode.window.createTextEditorDecorationType({ isWholeLine: true, opacity: String(opacity) })
          : vscode.window.createTextEditorDecorationType({
              isWholeLine: true,
              opacity: String(gateOpacity(opacity)),
              // A dotted rule at the left edge tells "does not run here" from "compiled out".
              borderStyle: 'dotted',
              borderWidth: '0 0 0 2px',
              borderColor: new vscode.ThemeColor('editorLineNumber.foreground'),
            });
      this.types.set(key, type);
    }
    return type;
  }
}

/** Registers the feature on a language client, before it starts; dispose it with the client. */
export function register(client: LanguageClient): vscode.Disposable {
  const feature = new InactiveRegionsFeature(client);
  client.registerFeature(feature);
  return feature;
}
