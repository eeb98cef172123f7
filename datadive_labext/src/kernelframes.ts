/**
 * Ask the notebook's running kernel, silently, which pandas data frames it holds (with their
 * columns) and which values a column takes. An execute request with empty code, `silent` and
 * `user_expressions`: nothing runs, nothing is printed, the execution count does not move. The
 * expressions return base64 JSON, so their `text/plain` repr is plain to parse.
 */

import type { IKernelFrame } from './formlogic';

/** The part of a kernel connection this needs (Lab's IKernelConnection). */
export interface IExpressionKernel {
  requestExecute(content: {
    code: string;
    silent?: boolean;
    store_history?: boolean;
    user_expressions?: Record<string, string>;
    allow_stdin?: boolean;
    stop_on_error?: boolean;
  }): { done: Promise<{ content: any }> };
}

/** Most columns listed per frame, most values listed per column. */
export const MAX_COLUMNS = 500;
export const MAX_LEVELS = 200;

const ENCODE = (json: string) => `__import__('base64').b64encode(__import__('json').dumps(${json}).encode()).decode()`;

/** The expression that lists the kernel's data frames: [{name, columns, rows}]. */
export function framesExpression(): string {
  return ENCODE(
    `[{'name': k, 'columns': [str(c) for c in v.columns][:${MAX_COLUMNS}], 'rows': int(v.shape[0])} ` +
      `for k, v in list(globals().items()) if not k.startswith('_') and type(v).__name__ == 'DataFrame' ` +
      `and type(v).__module__.startswith('pandas')]`
  );
}

/** A Python string literal of any text (JSON's escapes are valid Python ones). */
export function pyString(text: string): string {
  return JSON.stringify(text).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * The expression giving the distinct values of `column` in the frame `frame` (as text, sorted,
 * at most MAX_LEVELS). Both names enter as string literals, never as code.
 */
export function levelsExpression(frame: string, column: string): string {
  const col = `next((c for c in f.columns if str(c) == ${pyString(column)}), ${pyString(column)})`;
  return `(lambda f: ${ENCODE(`sorted(str(x) for x in f[${col}].dropna().unique()[:${MAX_LEVELS}])`)})(globals()[${pyString(frame)}])`;
}

/** The value of one user expression of an execute reply (decoded JSON), or an Error. */
export function expressionValue(reply: any, key: string): unknown {
  const r = reply?.user_expressions?.[key];
  if (!r) {
    return new Error('the kernel did not evaluate the expression');
  }
  if (r.status !== 'ok') {
    return new Error(`${r.ename ?? 'Error'}: ${r.evalue ?? ''}`.trim());
  }
  const text = String(r.data?.['text/plain'] ?? '').trim();
  const b64 = text.replace(/^'|'$/g, '');
  try {
    const bytes = Uint8Array.from(atob(b64), ch => ch.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    return new Error(`unexpected answer from the kernel: ${text.slice(0, 80)}`);
  }
}

async function evaluate(kernel: IExpressionKernel, expression: string, timeoutMs: number): Promise<unknown> {
  const future = kernel.requestExecute({
    code: '',
    silent: true,
    store_history: false,
    allow_stdin: false,
    stop_on_error: false,
    user_expressions: { value: expression }
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the kernel did not answer within ${timeoutMs / 1000} s (is a cell still running?)`)), timeoutMs);
  });
  try {
    const reply = await Promise.race([future.done, timeout]);
    const value = expressionValue(reply.content, 'value');
    if (value instanceof Error) {
      throw value;
    }
    return value;
  } finally {
    clearTimeout(timer);
  }
}

/** The data frames of the kernel (none if it holds none). */
export async function listFrames(kernel: IExpressionKernel, timeoutMs = 5000): Promise<IKernelFrame[]> {
  const value = await evaluate(kernel, framesExpression(), timeoutMs);
  return Array.isArray(value)
    ? value
        .filter(f => f && typeof f.name === 'string' && Array.isArray(f.columns))
        .map(f => ({ name: f.name, columns: f.columns.map(String), rows: typeof f.rows === 'number' ? f.rows : undefined }))
    : [];
}

/** The distinct values of a column of a kernel data frame. */
export async function frameLevels(kernel: IExpressionKernel, frame: string, column: string, timeoutMs = 5000): Promise<string[]> {
  const value = await evaluate(kernel, levelsExpression(frame, column), timeoutMs);
  return Array.isArray(value) ? value.map(String) : [];
}
