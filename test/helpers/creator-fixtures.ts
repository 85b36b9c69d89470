// The set-up the commerce and authorization-matrix e2e tests share: two creators (Alice, who owns a
// stream, and Bob, another creator), products on that stream, and the token-by-token matrix check.
import type { Test } from 'tap';
import { ADMIN, type TestServer } from './server.js';

type ApiAnswer = Awaited<ReturnType<TestServer['api']>>;

export interface AliceAndBob {
  alice: ApiAnswer;
  bob: ApiAnswer;
  /** Alice's token and creator id. */
  A: string;
  cid: string;
  /** Bob's token. */
  B: string;
  /** The id of Alice's stream. */
  stream: string;
}

/** Creates the creators alice and bob, then a stream of Alice's titled `title`. */
export async function aliceAndBob(srv: TestServer, title: string): Promise<AliceAndBob> {
  const alice = await srv.api('POST', '/v1/creators', { handle: 'alice', displayName: 'Alice' });
  const bob = await srv.api('POST', '/v1/creators', { handle: 'bob', displayName: 'Bob' });
  const A = alice.json.token as string;
  const stream = (await srv.api('POST', '/v1/streams', { title }, A)).json.id as string;
  return { alice, bob, A, cid: alice.json.id as string, B: bob.json.token as string, stream };
}

/** Adds a product to the stream with the token given; resolves to its id. */
export async function addProduct(srv: TestServer, stream: string, token: string, title: string, url: string): Promise<string> {
  return (await srv.api('POST', `/v1/streams/${stream}/products`, { title, url }, token)).json.id as string;
}

/** Who calls, in the authorization matrices: no token, a wrong one, a shopper, another creator, the owner, the operator. */
export type Who = 'none' | 'wrong' | 'shopper' | 'other' | 'owner' | 'operator';

export interface MatrixRoute {
  name: string;
  call: (tok: string | null) => Promise<{ status: number; json: any }>;
  expect: Record<Who, number>;
}

/** The matrix's tokens: a new shopper's (Sam), Bob's as the other creator, Alice's as the owner. */
export async function matrixTokens(srv: TestServer, fx: AliceAndBob): Promise<Record<Who, string | null>> {
  const shopper = await srv.api('POST', '/v1/shoppers', { displayName: 'Sam' }, null);
  return { none: null, wrong: 'ct_wrong', shopper: shopper.json.token, other: fx.B, owner: fx.A, operator: ADMIN };
}

/** Calls every route as every caller: the expected status, a coded error for each refusal, never a stack trace. */
export async function checkMatrix(t: Test, tokens: Record<Who, string | null>, routes: MatrixRoute[]): Promise<void> {
  for (const r of routes) {
    for (const who of Object.keys(tokens) as Who[]) {
      const res = await r.call(tokens[who]);
      t.equal(res.status, r.expect[who], `${r.name} as ${who}`);
      if (res.status >= 400) t.match(res.json, { error: { code: /^SHOWCASE_ERR_/ } }, 'coded error');
      t.notMatch(JSON.stringify(res.json ?? ''), /at .*\.ts:\d+|node_modules/, 'no stack trace');
    }
  }
}
