import { execFileSync } from 'node:child_process';
import { ESLint, Linter } from 'eslint';
import * as tseslint from 'typescript-eslint';
import { boundaryConfigs, FEATURES } from '../eslint.boundaries';

/**
 * The module layering holds only while `npm run lint` fails on a forbidden import. Snippets are
 * linted with the very boundary config objects that eslint.config.mjs uses, under the parser alone:
 * type-aware rules would build a whole program per snippet, and Jest cannot load the .mjs config.
 */
const root = `${__dirname}/..`;
const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [
    { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
    ...boundaryConfigs,
  ],
});

async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  const fatal = result.messages.filter((m) => m.fatal);
  if (fatal.length > 0) throw new Error(fatal.map((m) => m.message).join('\n'));
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const importing = (from: string) => `import { x } from '${from}';\nexport const y = x;\n`;

describe('module boundaries', () => {
  it.each([
    ['posts importing review', 'src/modules/posts/x.ts', 'src/modules/review/post-state-machine'],
    ['posts importing publishing', 'src/modules/posts/dto/x.ts', 'src/modules/publishing/a'],
    ['users importing auth', 'src/modules/users/users.service.ts', 'src/modules/auth/passwords'],
    ['database importing a module', 'src/database/entities.ts', 'src/modules/audit/e.entity'],
    ['common importing database', 'src/common/x.ts', 'src/database/db-errors'],
    ['config importing database', 'src/config/x.ts', 'src/database/transactions'],
    ['a module importing the CLI', 'src/modules/reports/x.ts', 'src/cli/admin-create'],
    ['a module importing the demo seed', 'src/modules/health/x.ts', 'src/demo/seed'],
    ['a module importing an entry file', 'src/modules/health/x.ts', 'src/app.module'],
    ['a ../../ climb', 'src/modules/posts/dto/x.ts', '../../review/decision.entity'],
    ['a ../../ climb from the root of a module', 'src/modules/posts/x.ts', '../../common/x'],
    ['a ../ climb out of a module', 'src/modules/posts/x.ts', '../review/decision.entity'],
    ['a ../ climb out of src/common', 'src/common/x.ts', '../database/db-errors'],
    ['a .. inside a src/ path', 'src/modules/review/x.ts', 'src/modules/review/../reports/x'],
    ['a module missing from the layer list', 'src/modules/newcomer/x.ts', 'src/modules/audit/a'],
    ['a migration importing a module', 'migrations/1-X.ts', 'src/modules/posts/post.entity'],
  ])('rejects %s', async (_, file, source) => {
    expect(await boundaryErrors(file, importing(source))).not.toEqual([]);
  });

  it('rejects re-exports and type-only imports as well', async () => {
    const reExport = "export { x } from 'src/modules/review/x';\n";
    const typeOnly = "import type { X } from 'src/modules/review/x';\nexport type Y = X;\n";
    expect(await boundaryErrors('src/modules/posts/x.ts', reExport)).not.toEqual([]);
    expect(await boundaryErrors('src/modules/posts/x.ts', typeOnly)).not.toEqual([]);
  });

  it.each([
    ['review importing posts', 'src/modules/review/x.ts', 'src/modules/posts/post.entity'],
    [
      'reports importing every module before it',
      'src/modules/reports/x.ts',
      'src/modules/review/x',
    ],
    ['a module importing itself', 'src/modules/audit/x.ts', 'src/modules/audit/audit.service'],
    ['a module importing the bottom', 'src/modules/audit/x.ts', 'src/database/transactions'],
    ['database importing common and config', 'src/database/x.ts', 'src/config/app-config'],
    ['common importing config', 'src/common/x.ts', 'src/config/app-config'],
    ['a ../ within a module', 'src/modules/publishing/adapters/x.ts', '../publication.entity'],
    ['a sibling file', 'src/modules/posts/x.ts', './dto/post.dto'],
    ['the demo seed importing modules', 'src/demo/seed.ts', 'src/modules/health/x'],
    ['the CLI importing anything', 'src/cli/x.ts', 'src/app.module'],
    ['an entry file importing anything', 'src/worker.ts', 'src/modules/publishing/x'],
    ['a test importing anything', 'test/x.e2e-spec.ts', 'src/database/entities'],
    ['a bench importing anything', 'bench/x.bench.ts', 'src/modules/screening/matcher'],
  ])('allows %s', async (_, file, source) => {
    expect(await boundaryErrors(file, importing(source))).toEqual([]);
  });

  it('lets every listed module import every module before it, and none after it', async () => {
    for (const [i, feature] of FEATURES.entries()) {
      for (const [j, other] of FEATURES.entries()) {
        const errors = await boundaryErrors(
          `src/modules/${feature}/x.ts`,
          importing(`src/modules/${other}/x`),
        );
        expect([feature, other, errors.length > 0]).toEqual([feature, other, j > i]);
      }
    }
  });

  it('is the rule that the real config applies', async () => {
    // A later object in eslint.config.mjs must not replace the boundary rule for any layer. The
    // real config is ESM, which Jest's module system cannot import, so a plain node reads it.
    const files = [
      ...FEATURES.map((f) => `src/modules/${f}/x.ts`),
      'src/modules/posts/dto/x.ts',
      'src/modules/unlisted/x.ts',
      'src/common/x.ts',
      'src/config/x.ts',
      'src/database/x.ts',
      'src/cli/x.ts',
      'src/demo/x.ts',
      'src/main.ts',
      'migrations/1-X.ts',
    ];
    const script = `
      const { ESLint } = require('eslint');
      const eslint = new ESLint();
      Promise.all(${JSON.stringify(files)}.map((f) => eslint.calculateConfigForFile(f)))
        .then((cs) => process.stdout.write(JSON.stringify(cs.map((c) => c.rules['no-restricted-imports']))));`;
    const real = JSON.parse(
      execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }),
    ) as unknown[];
    const expected = await Promise.all(
      files.map(async (f) => {
        const config = (await eslint.calculateConfigForFile(f)) as Linter.Config;
        return config.rules?.['no-restricted-imports'];
      }),
    );
    expect(expected.every((rule) => Array.isArray(rule) && rule[0] === 2)).toBe(true);
    expect(real).toEqual(expected);
  });
});
