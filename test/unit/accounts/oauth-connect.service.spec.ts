import { jest } from '@jest/globals';
import type { AccountsService, AccountView } from '../../../src/accounts/accounts.service.js';
import {
  InMemoryOAuthStateStore,
  OAUTH_STATE_TTL_MS,
  OAuthConnectService,
} from '../../../src/accounts/oauth-connect.service.js';
import type {
  ConnectorDescriptor,
  OAuthFlow,
} from '../../../src/connectors/connector-descriptor.js';
import { ConnectorRegistry } from '../../../src/connectors/connector.registry.js';
import { FakeClock } from '../../support/fake-clock.js';

function fakeFlow(): OAuthFlow {
  return {
    authorizeUrl: ({ state, redirectUri }) =>
      `https://consent.example/?state=${state}&redirect_uri=${encodeURIComponent(redirectUri)}`,
    exchangeCode: async () => ({ config: {}, secrets: { refreshToken: 'rt-1' } }),
  };
}

const descriptor: ConnectorDescriptor = {
  kind: 'fake-cloud',
  displayName: 'Fake cloud',
  description: 'test',
  options: [
    { key: 'clientId', label: 'id', help: '', type: 'string', required: true },
    { key: 'clientSecret', label: 'secret', help: '', type: 'string', secret: true },
    { key: 'refreshToken', label: 'rt', help: '', type: 'string', secret: true },
  ],
  capabilities: {} as ConnectorDescriptor['capabilities'],
  create: () => {
    throw new Error('not used');
  },
  oauth: fakeFlow(),
};

function setup() {
  const clock = new FakeClock();
  const created: unknown[] = [];
  const accounts = {
    createConnected: jest.fn(async (input: unknown) => {
      created.push(input);
      return { id: 'acc-1' } as AccountView;
    }),
    // The access policy (endpoint overrides are an admin's) is AccountsService's: allowed here.
    checkAccess: jest.fn(async () => undefined),
  } as unknown as AccountsService;
  const sut = new OAuthConnectService(
    accounts,
    new ConnectorRegistry([descriptor]),
    { 'fake-cloud': { defaults: { clientId: 'app', clientSecret: 's3cret' }, envByOption: {} } },
    'https://backup.example',
    new InMemoryOAuthStateStore(clock),
    clock,
  );
  return { sut, clock, created };
}

describe('OAuthConnectService', () => {
  it('should register the callback under the public URL when it builds the consent URL', async () => {
    const { sut } = setup();
    const { authorizeUrl } = await sut.start({ kind: 'fake-cloud', name: 'x' });
    expect(new URL(authorizeUrl).searchParams.get('redirect_uri')).toBe(
      'https://backup.example/api/accounts/oauth/callback',
    );
  });

  it('should answer 400 when the state comes back after 10 minutes', async () => {
    const { sut, clock, created } = setup();
    const { authorizeUrl, nonce } = await sut.start({ kind: 'fake-cloud', name: 'x' });
    const state = new URL(authorizeUrl).searchParams.get('state')!;
    await clock.sleep(OAUTH_STATE_TTL_MS + 1);
    await expect(sut.complete({ code: 'c', state, nonce })).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/expired/),
    });
    expect(created).toHaveLength(0);
  });

  it('should store the app secret beside the tokens when the flow completes', async () => {
    const { sut, clock, created } = setup();
    const { authorizeUrl, nonce } = await sut.start({ kind: 'fake-cloud', name: 'x' });
    const state = new URL(authorizeUrl).searchParams.get('state')!;
    await clock.sleep(OAUTH_STATE_TTL_MS - 1);
    await sut.complete({ code: 'c', state, nonce });
    expect(created).toEqual([
      expect.objectContaining({
        settings: {
          config: { clientId: 'app' },
          secrets: { clientSecret: 's3cret', refreshToken: 'rt-1' },
        },
      }),
    ]);
  });

  it("should not pair the server's app secret with a client id the user brings", async () => {
    const { sut, created } = setup();
    const { authorizeUrl, nonce } = await sut.start({
      kind: 'fake-cloud',
      name: 'x',
      options: { clientId: 'theirs' },
    });
    const state = new URL(authorizeUrl).searchParams.get('state')!;
    await sut.complete({ code: 'c', state, nonce });
    expect(created).toEqual([
      expect.objectContaining({
        settings: { config: { clientId: 'theirs' }, secrets: { refreshToken: 'rt-1' } },
      }),
    ]);
  });

  it('should finish a flow only for the signed-in user who started it, and give them the account', async () => {
    const { sut, created } = setup();
    const { authorizeUrl, nonce } = await sut.start({
      kind: 'fake-cloud',
      name: 'x',
      ownerId: 'user-a',
    });
    const state = new URL(authorizeUrl).searchParams.get('state')!;
    await expect(sut.complete({ code: 'c', state, nonce, userId: 'user-b' })).rejects.toMatchObject(
      {
        status: 400,
        message: expect.stringMatching(/belongs to another signed-in user/),
      },
    );
    // The state was spent by that attempt: single use, even when the attempt failed.
    await expect(sut.complete({ code: 'c', state, nonce, userId: 'user-a' })).rejects.toMatchObject(
      {
        message: expect.stringMatching(/already used/),
      },
    );
    expect(created).toHaveLength(0);
    const again = await sut.start({ kind: 'fake-cloud', name: 'x', ownerId: 'user-a' });
    const state2 = new URL(again.authorizeUrl).searchParams.get('state')!;
    await sut.complete({ code: 'c', state: state2, nonce: again.nonce, userId: 'user-a' });
    expect(created).toEqual([expect.objectContaining({ ownerId: 'user-a' })]);
  });
});
