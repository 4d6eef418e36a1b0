import * as vscode from 'vscode';
import type { AbSettings } from '../../core/config';
import { readSettings } from '../config';

/** The folder's `allocLens.ab.*` settings (schema and defaults in core/config.ts). */
export function abSettings(folder: string): AbSettings {
  return readSettings(vscode.Uri.file(folder)).settings.ab;
}
