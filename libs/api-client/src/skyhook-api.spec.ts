import { subscriptionsGet, subscriptionsList } from './generated';
import { SkyhookApiError, skyhookApi } from './skyhook-api';

function recordingFetch(answer: (request: Request) => Response | Promise<Response>) {
  const seen: Request[] = [];
  const fetchImpl = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    seen.push(request);
    return Promise.resolve(answer(request));
  };
  return { seen, fetchImpl };
}

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('skyhookApi', () => {
  it('sends the credential as a bearer token to the base URL, with the query serialised', async () => {
    const { seen, fetchImpl } = recordingFetch(() => json(200, { data: [], nextCursor: null }));
    const client = skyhookApi({
      baseUrl: 'https://skyhook.example.com/',
      credential: 'sk_test',
      fetch: fetchImpl,
    });
    const { data } = await subscriptionsList({
      client,
      throwOnError: true,
      query: { limit: 5, status: 'active' },
    });
    expect(data).toEqual({ data: [], nextCursor: null });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('https://skyhook.example.com/v1/subscriptions?limit=5&status=active');
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer sk_test');
  });

  it("throws the api's refusal as a SkyhookApiError with status, code, message and details", async () => {
    const { fetchImpl } = recordingFetch(() =>
      json(404, { error: { code: 'NOT_FOUND', message: 'no subscription sub_x', details: { id: 'sub_x' } } }),
    );
    const client = skyhookApi({ baseUrl: 'http://127.0.0.1:3000', credential: 'sk_test', fetch: fetchImpl });
    const refused = await subscriptionsGet({ client, throwOnError: true, path: { id: 'sub_x' } }).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(SkyhookApiError);
    expect(refused).toMatchObject({
      message: 'GET /v1/subscriptions/sub_x failed with 404: NOT_FOUND: no subscription sub_x',
      method: 'GET',
      path: '/v1/subscriptions/sub_x',
      status: 404,
      code: 'NOT_FOUND',
      details: { id: 'sub_x' },
    });
  });

  it("names a page that is not the api's by its first words, and a 2xx that is not JSON", async () => {
    const proxyPage = recordingFetch(
      () => new Response('<html>\n  <h1>502 Bad Gateway</h1>\n</html>', { status: 502 }),
    );
    const behindProxy = skyhookApi({ baseUrl: 'http://x', credential: 'k', fetch: proxyPage.fetchImpl });
    await expect(subscriptionsList({ client: behindProxy, throwOnError: true })).rejects.toMatchObject({
      status: 502,
      code: undefined,
      detail: '<html> <h1>502 Bad Gateway</h1> </html>',
    });

    const notJson = recordingFetch(
      () => new Response('hello', { status: 200, headers: { 'content-type': 'application/json' } }),
    );
    const wrongUrl = skyhookApi({ baseUrl: 'http://x', credential: 'k', fetch: notJson.fetchImpl });
    await expect(subscriptionsList({ client: wrongUrl, throwOnError: true })).rejects.toThrow(
      'the api answered GET /v1/subscriptions with a body that is not JSON',
    );
  });

  it('says the api cannot be reached, with the socket error code, and gives up after the timeout', async () => {
    const refused = skyhookApi({
      baseUrl: 'http://127.0.0.1:1',
      credential: 'k',
      fetch: () =>
        Promise.reject(
          new TypeError('fetch failed', {
            cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
          }),
        ),
    });
    await expect(subscriptionsList({ client: refused, throwOnError: true })).rejects.toMatchObject({
      message: 'cannot reach the api at http://127.0.0.1:1: ECONNREFUSED',
      status: undefined,
    });

    const silent = skyhookApi({
      baseUrl: 'http://127.0.0.1:1',
      credential: 'k',
      timeoutMs: 50,
      // Answers only when the request is abandoned, as a stalled server would.
      fetch: (_input, init) =>
        new Promise<Response>((_resolve, reject) =>
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error)),
        ),
    });
    await expect(subscriptionsList({ client: silent, throwOnError: true })).rejects.toThrow(
      'cannot reach the api at http://127.0.0.1:1: no answer within 0.05 s',
    );
  });
});
