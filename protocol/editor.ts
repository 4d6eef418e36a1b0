// Editor features between the Alloc Lens client and server (issue #5): dimmed regions and the
// command a code lens runs. One namespace per message: `method` + `type`.
import { NotificationType } from 'vscode-languageserver-protocol';
import type { Location, Position, Range } from 'vscode-languageserver-protocol';

/**
 * Dimmed code is a custom notification plus a client decoration, as in clangd's inactive regions,
 * not semantic tokens: VS Code uses one semantic-token provider per document, and the C/C++
 * extension or clangd already owns that slot, so our tokens would either lose or replace theirs.
 */
export interface DimmedRegion {
  range: Range;
  /** `preprocessor`: excluded under the flag defaults + configured defines; `gate`: the body of a function whose ENV gate is off under the active profile. */
  kind: 'preprocessor' | 'gate';
  /** Why, for the hover-like tooltip: `#if QUILL_DIAG_COMPILED (0)` or `QUILL_FRONT_RING_ENABLED is off by default`. */
  reason: string;
}

export interface InactiveRegionsParams {
  textDocument: { uri: string };
  regions: DimmedRegion[];
}

/** Pushed for every open C document whenever its regions may have changed (an empty list clears them). */
export namespace InactiveRegionsNotification {
  export const method = 'allocLens/inactiveRegions' as const;
  export const type = new NotificationType<InactiveRegionsParams>(method);
}

/**
 * The client advertises `experimental.allocLens.inactiveRegions = true` in its capabilities; the
 * server sends the notification only then.
 */
export interface AllocLensClientCapabilities {
  inactiveRegions?: boolean;
}

/**
 * The client command a code lens runs to list sites: the client converts the arguments and
 * calls `editor.action.showReferences` (as rust-analyzer's `rust-analyzer.showReferences`).
 */
export const SHOW_LOCATIONS_COMMAND = 'allocLens.showLocations';
export type ShowLocationsArgs = [uri: string, position: Position, locations: Location[]];

/**
 * The client command a flag's "A/B this flag" lens runs: `runForFlag` in src/ab/abCommands.ts,
 * which takes `{ folder, flag }` with the workspace folder as a file-system path.
 */
export const AB_RUN_FOR_FLAG_COMMAND = 'allocLens.abRunForFlag';
export type AbRunForFlagArgs = [{ folder: string; flag: string }];
