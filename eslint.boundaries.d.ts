import type { Linter } from 'eslint';

/** Feature modules, lowest layer first. */
export declare const FEATURES: readonly string[];
/** The `no-restricted-imports` config objects that eslint.config.mjs spreads in last. */
export declare const boundaryConfigs: Linter.Config[];
