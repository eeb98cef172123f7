// Hand-edit detection on a page without Web Crypto (plain HTTP, a host other than localhost):
// the hash comes from the server extension and tells the same cells apart.
import { createHash } from 'crypto';

import { isHandEdited, setServerHasher, sourceHash } from '../src/generatedcells';
import { routeClient } from './fakeclient';

const sha = (text: string) => 'sha256:' + createHash('sha256').update(text, 'utf8').digest('hex');

describe('source hash without Web Crypto', () => {
  const crypto = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  beforeEach(() => {
    Object.defineProperty(globalThis, 'crypto', { value: { getRandomValues: () => undefined }, configurable: true, writable: true });
  });
  afterEach(() => {
    setServerHasher(null);
    if (crypto) {
      Object.defineProperty(globalThis, 'crypto', crypto);
    } else {
      delete (globalThis as any).crypto;
    }
  });

  it('asks the server extension, and still tells a hand-edited cell from a generated one', async () => {
    const asked: any[] = [];
    const client = routeClient((route, init) => {
      asked.push({ route, method: init.method, body: JSON.parse(init.body as string) });
      return { hash: sha(JSON.parse(init.body as string).source) };
    });
    setServerHasher(source => client.sourceHash(source));
    expect(await sourceHash('df.describe()')).toBe(sha('df.describe()'));
    expect(asked).toEqual([{ route: 'api/source-hash', method: 'POST', body: { source: 'df.describe()' } }]);
    const meta = { template: 'describe', version: '1', values: {}, source_hash: sha('df.describe()') };
    expect(await isHandEdited('df.describe()', meta)).toBe(false);
    expect(await isHandEdited('df.describe()  # mine', meta)).toBe(true);
  });

  it('says why when there is neither Web Crypto nor a server to ask', async () => {
    await expect(sourceHash('x = 1')).rejects.toThrow(/Web Crypto/);
  });
});
