// Placeholder expansion for argv templates. Values are substituted into argv elements, never
// into a shell string, so a define like `-DX="a b"` stays one argument.
import type { VariantSpec } from './types';

export interface TemplateVars {
  folder: string;
  out: string;
  variant: string;
  profile: string;
  experiment: string;
  defines: Record<string, string>;
}

const PLACEHOLDER = /\$\{([A-Za-z]+)\}/g;
const KNOWN = new Set(['folder', 'out', 'cflags', 'variant', 'profile', 'experiment', 'defines']);

export function defineArgs(defines: Record<string, string>): string[] {
  return Object.entries(defines).map(([k, v]) => (v === '' ? `-D${k}` : `-D${k}=${v}`));
}

export function cflagsOf(variant: Pick<VariantSpec, 'defines'>): string {
  return defineArgs(variant.defines).join(' ');
}

/** Placeholders used in a template that the engine does not know, e.g. `${outdir}`. */
export function unknownPlaceholders(templates: readonly string[]): string[] {
  const bad = new Set<string>();
  for (const t of templates) for (const m of t.matchAll(PLACEHOLDER)) if (!KNOWN.has(m[1])) bad.add(`\${${m[1]}}`);
  return [...bad];
}

export function expandString(template: string, vars: TemplateVars): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    switch (name) {
      case 'folder':
        return vars.folder;
      case 'out':
        return vars.out;
      case 'cflags':
      case 'defines':
        return defineArgs(vars.defines).join(' ');
      case 'variant':
        return vars.variant;
      case 'profile':
        return vars.profile;
      case 'experiment':
        return vars.experiment;
      default:
        return whole;
    }
  });
}

/** `${defines}` alone in an element expands to one element per define (or none). */
export function expandArgv(argv: readonly string[], vars: TemplateVars): string[] {
  return argv.flatMap((a) => (a === '${defines}' ? defineArgs(vars.defines) : [expandString(a, vars)]));
}

export function expandEnv(env: Record<string, string> | undefined, vars: TemplateVars): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, expandString(v, vars)]));
}
