// The A/B engine's public API for the front doors (CLI, tasks, results panel).
export * from './types';
export { defaultExperimentConfig, experimentFromSettings, flagPrefix, isCIdentifier, experimentName, type MetricKind, type DefaultConfigOptions } from './defaults';
export { runExperiment, outDirOf, outRootOf, cleanEnv } from './runner';
export { validateConfig } from './validate';
export { cellKeys, baselineOf, profileNames } from './analyze';
export {
  saveResult,
  resultsDir,
  resultFile,
  resultJson,
  readHistory,
  historyEntries,
  historyMarkdown,
  compoundedTotals,
  crossMetricWarnings,
  markdownReport,
  csvReport,
  cellTableMarkdown,
  formatValue,
  writeTextAtomic,
  ResultWriteError,
  type HistoryEntry,
} from './results';
