// A real DatadiveClient whose HTTP is a function of (route under datadive/, init, query): the
// tests see the requests the typed `call` makes, as the server would.
import { DatadiveClient } from '../src/api';

export function routeClient(answer: (route: string, init: RequestInit & { body?: any }, query: Record<string, string>) => any): DatadiveClient {
  const client = new DatadiveClient({ baseUrl: 'http://h' } as any);
  (client as any).fetchUrl = async (url: string, init: RequestInit = {}) => {
    const u = new URL(url);
    const route = u.pathname.replace(/^\/datadive\//, '');
    return answer(route, init, Object.fromEntries(u.searchParams));
  };
  return client;
}
