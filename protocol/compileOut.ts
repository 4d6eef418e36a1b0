// The compile-out quick fix between the Alloc Lens client and server (issue #5): the plan request
// the `allocLens.compileOut` command asks (live name validation, the evidence to confirm, the
// edit), and the command's arguments. One namespace per message: `method` + `type`.
import { RequestType } from 'vscode-languageserver-protocol';
import type { Location, Position, WorkspaceEdit } from 'vscode-languageserver-protocol';
import type { Classification, EvidenceKind, Temperature } from '../core/analysis/report';

export interface CompileOutPlanParams {
  textDocument: { uri: string };
  /** A position on (or on the line of) an atomic write site. */
  position: Position;
  /** The flag to use; the proposed one when omitted. */
  flag?: string;
  /** Only describe the family and check the name (cheap, per keystroke): no edit. */
  validateOnly?: boolean;
}

export interface CompileOutEvidence {
  location: Location;
  kind: EvidenceKind;
  function?: string | null;
  text?: string;
}

export interface CompileOutPlanResult {
  /** null when there is no atomic write site at the position. */
  family: string | null;
  /** The site at the position, as written: `g_quill_tcache_stats[cls].alloc_calls`. */
  target: string | null;
  classification: Classification | null;
  reason: string;
  evidence: CompileOutEvidence[];
  temperature: Temperature | null;
  proposedFlag: string;
  flag: string;
  /** Why `flag` cannot be used (not an identifier, a keyword, an existing macro), or null. */
  invalidFlag: string | null;
  /** Why the fix does not apply (no site here, correctness, nothing left to wrap), or null. */
  error: string | null;
  /** One versioned edit: every site's file, the header and the #includes (absent with validateOnly or an error). */
  edit?: WorkspaceEdit;
  /** Sites the edit wraps (with validateOnly: the sites it would try to wrap). */
  wrapped: Location[];
  alreadyWrapped: { location: Location; flag: string }[];
  /** Sites the fix leaves alone, with the reason (a used value, a directive inside...). */
  skipped: { location: Location; reason: string }[];
  /** The build-flags header the default goes to (its URI). */
  header: string | null;
  notes: string[];
}

/** `allocLens/compileOutPlan`: what compiling out the family of the atomic at a position does. */
export namespace CompileOutPlanRequest {
  export const method = 'allocLens/compileOutPlan' as const;
  export const type = new RequestType<CompileOutPlanParams, CompileOutPlanResult, void>(method);
}

/**
 * The client command behind "Compile out `g_x` behind a flag named…": an input box with the
 * proposed name, checked as you type, a modal confirmation with the evidence for an unknown
 * atomic, then the edit. Without arguments it uses the active editor's cursor. Code actions and
 * views pass `[{ uri, position }]`.
 */
export const COMPILE_OUT_COMMAND = 'allocLens.compileOut';
export interface CompileOutCommandArgs {
  uri: string;
  position: Position;
}

/** The code action kinds the server offers: compile-out is a quick fix, its reverse a rewrite. */
export const COMPILE_OUT_KIND = 'quickfix';
export const REMOVE_COMPILE_OUT_KIND = 'refactor.rewrite';
