import { execFileSync } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';

import { expressionValue, frameLevels, framesExpression, levelsExpression, listFrames, pyString } from '../src/kernelframes';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf-8').toString('base64');
const reply = (value: unknown) => ({ status: 'ok', user_expressions: { value: { status: 'ok', data: { 'text/plain': `'${b64(value)}'` } } } });

/** A fake kernel answering each silent request with `answer(expression)`. */
function fakeKernel(answer: (expr: string) => unknown) {
  const requests: any[] = [];
  return {
    requests,
    requestExecute(content: any) {
      requests.push(content);
      return { done: Promise.resolve({ content: reply(answer(content.user_expressions.value)) }) };
    }
  };
}

describe('asking the kernel silently', () => {
  it('sends an empty, silent request with the expression', async () => {
    const k = fakeKernel(() => [{ name: 'df', columns: ['a', 'b'], rows: 3 }]);
    expect(await listFrames(k)).toEqual([{ name: 'df', columns: ['a', 'b'], rows: 3 }]);
    expect(k.requests[0]).toMatchObject({ code: '', silent: true, store_history: false });
    expect(k.requests[0].user_expressions.value).toBe(framesExpression());
  });
  it('decodes non-ASCII values', async () => {
    const k = fakeKernel(() => ['Zürich', 'Genève']);
    expect(await frameLevels(k, 'df', 'city')).toEqual(['Zürich', 'Genève']);
  });
  it('reports a kernel error', () => {
    const err = expressionValue({ user_expressions: { value: { status: 'error', ename: 'KeyError', evalue: "'df'" } } }, 'value');
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe("KeyError: 'df'");
  });
  it('gives up after the timeout when a cell keeps the kernel busy', async () => {
    const k = { requestExecute: () => ({ done: new Promise<{ content: any }>(() => undefined) }) };
    await expect(listFrames(k, 50)).rejects.toThrow('did not answer');
  });
  it('passes names as string literals, never as code', () => {
    expect(pyString('a"b\\c')).toBe('"a\\"b\\\\c"');
    const expr = levelsExpression("x'); import os; ('", 'col"); os.system("x');
    expect(expr).toContain(`globals()["x'); import os; ('"]`);
  });
});

// The expressions themselves, evaluated by the project's Python with pandas (as a kernel would).
const python = join(__dirname, '..', '..', '.venv', 'bin', 'python');
const run = existsSync(python) ? it : it.skip;

describe('the expressions in a real Python', () => {
  run('lists data frames with their columns and a column’s values', () => {
    const script = [
      'import pandas as pd, base64, json',
      "df = pd.DataFrame({'group': ['b', 'a', None, 'a'], 3: [1, 2, 3, 4]})",
      'not_a_frame = [1, 2]',
      '_hidden = pd.DataFrame()',
      `print(json.loads(base64.b64decode(eval(${JSON.stringify(framesExpression())}))))`,
      `print(json.loads(base64.b64decode(eval(${JSON.stringify(levelsExpression('df', 'group'))}))))`,
      `print(json.loads(base64.b64decode(eval(${JSON.stringify(levelsExpression('df', '3'))}))))`
    ].join('\n');
    const out = execFileSync(python, ['-c', script], { encoding: 'utf-8' }).trim().split('\n');
    expect(out[0]).toBe("[{'name': 'df', 'columns': ['group', '3'], 'rows': 4}]");
    expect(out[1]).toBe("['a', 'b']");
    expect(out[2]).toBe("['1', '2', '3', '4']");
  });
});
