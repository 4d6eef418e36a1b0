// SARIF 2.1.0 for code scanning: the audit's findings as results, one rule per finding kind.
import { pathToFileURL } from 'node:url';
import type { AuditReport, Finding } from './report';

// No help URIs: the project has no public home yet, and a made-up link is worse than none.
const RULES: Record<Finding['rule'], { name: string; short: string; full: string; anchor: string }> = {
  'telemetry-not-compiled-out': {
    name: 'TelemetryNotCompiledOut',
    short: 'Telemetry atomic on a hot or warm path is not compiled out',
    full: 'The atomic is only ever printed or dumped (its value decides nothing), it runs on a hot or warm path, and no #if guard lets a release build drop it. Wrap every write site of its family in #if X_COMPILED ... #else (void)0; #endif, default X_COMPILED to 0, and A/B the change.',
    anchor: 'telemetry-not-compiled-out',
  },
  'release-hygiene': {
    name: 'ReleaseHygiene',
    short: 'Diagnostic code on a hot or warm path runs in release builds',
    full: 'A debug check, validation lookup or print runs on a hot or warm path without a release guard (#if !X_BUILD_RELEASE) or compile-out flag.',
    anchor: 'release-hygiene',
  },
  'gate-off-by-default': {
    name: 'GateOffByDefault',
    short: 'Telemetry behind an ENV gate that is OFF by default',
    full: 'The path only runs when an ENV variable turns it on; in the default configuration it never executes, so compiling its telemetry out cannot change the default benchmark (the Phase 29 lesson).',
    anchor: 'gate-off-by-default',
  },
  'unused-flag': {
    name: 'UnusedFlag',
    short: 'Compile flag defaulted but never tested',
    full: 'An #ifndef X / #define X v default exists, but no #if or #ifdef uses X.',
    anchor: 'unused-flag',
  },
  'undefaulted-flag': {
    name: 'UndefaultedFlag',
    short: 'Macro tested by #if but never defined or defaulted',
    full: 'An #if/#ifdef tests a macro that the workspace never defines; only a -D on the command line can turn it on.',
    anchor: 'undefaulted-flag',
  },
};

export function toSarif(report: AuditReport, version: string): object {
  const ids = Object.keys(RULES) as Finding['rule'][];
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'alloc-lens',
            version,
            semanticVersion: version,
            rules: ids.map((id) => ({
              id,
              name: RULES[id].name,
              shortDescription: { text: RULES[id].short },
              fullDescription: { text: RULES[id].full },
              help: { text: `${RULES[id].full} (README: "What the analysis finds", finding ${RULES[id].anchor})` },
              defaultConfiguration: { level: id === 'telemetry-not-compiled-out' || id === 'release-hygiene' ? 'warning' : 'note' },
            })),
          },
        },
        originalUriBaseIds: { SRCROOT: { uri: `${pathToFileURL(report.root).href.replace(/\/?$/, '/')}` } },
        results: report.findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: ids.indexOf(f.rule),
          level: f.severity,
          message: { text: f.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: encodeURI(f.file), uriBaseId: 'SRCROOT' },
                region: { startLine: f.line, ...(f.column ? { startColumn: f.column } : {}) },
              },
            },
          ],
        })),
        columnKind: 'utf16CodeUnits',
      },
    ],
  };
}
