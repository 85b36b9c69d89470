import t from 'tap';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

// The lint (eslint.config.js: typescript-eslint's recommended rules, unused code an error) is part
// of the suite, so CI refuses a change that leaves dead code behind.
t.test('eslint finds no problem in the project', async (t) => {
  const cwd = fileURLToPath(new URL('../..', import.meta.url));
  const eslint = new ESLint({ cwd });
  const results = await eslint.lintFiles(['.']);
  const problems = results.flatMap((r) => r.messages.map((m) => `${r.filePath.slice(cwd.length)}:${m.line}:${m.column} ${m.ruleId ?? ''} ${m.message}`));
  t.ok(results.length > 100, `linted ${results.length} files`);
  t.same(problems, [], 'no lint errors or warnings');
});
