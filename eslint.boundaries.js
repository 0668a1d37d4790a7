// Module layering, enforced with the core `no-restricted-imports` rule (see docs/decisions.md).
// CommonJS (with eslint.boundaries.d.ts) so that both eslint.config.mjs and the Jest spec src/lint-boundaries.spec.ts load
// this very object: the spec proves the rules that `npm run lint` runs.

/** Features, lowest first: each may import the bottom layer and the features before it. */
const FEATURES = [
  'audit',
  'departments',
  'users',
  'auth',
  'channels',
  'screening',
  'media',
  'posts',
  'publishing',
  'review',
  'reports',
  'health',
];

/** Everything above the features: demo seed, CLI tools and the entry files at the root of src/. */
const TOP = [
  {
    regex: '^src/(demo|cli)(/|$)',
    message: 'src/demo and src/cli are the top layer: nothing below them imports them.',
  },
  {
    regex: '^src/[^/]+\\.(module|factory)$|^src/(main|worker)$',
    message: 'Entry files at the root of src/ are the top layer: nothing below them imports them.',
  },
];

const ANY_MODULE = {
  regex: '^src/modules(/|$)',
  message: 'src/common, src/config and src/database sit below every feature module.',
};

// Relative paths would slip past the `src/...` patterns, so none may leave its own directory.
const CLIMB_IN_SRC_PATH = {
  regex: '^src/(.*/)?\\.\\.(/|$)',
  message: 'A src/... path must not contain "..".',
};
const CLIMB_TWO = {
  regex: '^(\\./)*\\.\\./\\.\\.(/|$)',
  message: 'Use a src/... path rather than climbing out with ../../.',
};
const CLIMB_ONE = {
  regex: '^(\\./)*\\.\\.(/|$)',
  message: 'Use a src/... path to reach another directory of src/.',
};
const CLIMB = [CLIMB_IN_SRC_PATH, CLIMB_TWO];
const CLIMB_FROM_ROOT = [CLIMB_IN_SRC_PATH, CLIMB_ONE];

const rule = (patterns) => ({
  'no-restricted-imports': ['error', { patterns }],
});

/**
 * One config object per directory (and one more for the files at its root, which also may not
 * climb with a single ../). Flat config replaces a rule's options rather than merging them, so
 * each object carries the whole list for its files and the later, narrower glob wins.
 */
function layer(name, dir, patterns) {
  return [
    { name: `boundaries/${name}`, files: [`${dir}/**/*.ts`], rules: rule([...CLIMB, ...patterns]) },
    {
      name: `boundaries/${name}/root`,
      files: [`${dir}/*.ts`],
      rules: rule([...CLIMB_FROM_ROOT, ...patterns]),
    },
  ];
}

function featurePatterns(index) {
  const allowed = FEATURES.slice(0, index + 1).join('|');
  return [
    {
      regex: `^src/modules/(?!(${allowed})(/|$))`,
      message:
        `src/modules/${FEATURES[index]} may import only the bottom layer and the modules before ` +
        `it: ${FEATURES.slice(0, index).join(', ') || 'none'} (order in eslint.boundaries.js).`,
    },
    ...TOP,
  ];
}

const boundaryConfigs = [
  // Catch-all first: a module missing from FEATURES fails until it is given its place there.
  ...layer('modules/unlisted', 'src/modules', [
    {
      regex: '^src/modules(/|$)',
      message: 'This module is not in the layer list FEATURES in eslint.boundaries.js.',
    },
    ...TOP,
  ]),
  ...FEATURES.flatMap((feature, index) =>
    layer(`modules/${feature}`, `src/modules/${feature}`, featurePatterns(index)),
  ),
  ...layer('common', 'src/common', [
    ANY_MODULE,
    { regex: '^src/database(/|$)', message: 'src/common sits below src/database.' },
    ...TOP,
  ]),
  ...layer('config', 'src/config', [
    ANY_MODULE,
    { regex: '^src/database(/|$)', message: 'src/config sits below src/database.' },
    ...TOP,
  ]),
  ...layer('database', 'src/database', [ANY_MODULE, ...TOP]),
  ...layer('demo', 'src/demo', []),
  ...layer('cli', 'src/cli', []),
  // Entry files at the root of src/ may import anything, but still by src/... paths.
  { name: 'boundaries/src-root', files: ['src/*.ts'], rules: rule(CLIMB) },
  // Migrations are frozen schema steps: they must not follow entity or service code as it changes.
  {
    name: 'boundaries/migrations',
    files: ['migrations/**/*.ts'],
    rules: rule([
      {
        regex: '^src/modules(/|$)',
        message: 'Migrations must not depend on feature code, which keeps changing after them.',
      },
    ]),
  },
];

module.exports = { FEATURES, boundaryConfigs };
