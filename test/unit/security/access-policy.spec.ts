import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationAppError } from '../../../src/common/errors/app-errors.js';
import type { SecurityConfig } from '../../../src/config/app-config.js';
import { localConnectorDescriptor } from '../../../src/connectors/local/index.js';
import { AccessPolicy } from '../../../src/security/access-policy.js';
import { OutboundPolicy } from '../../../src/security/outbound-policy.js';

describe('AccessPolicy: local folders', () => {
  let dir: string;
  const users: Record<string, { username: string; role: string }> = {
    a: { username: 'admin', role: 'admin' },
    u: { username: 'alice', role: 'user' },
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-policy-'));
    await mkdir(join(dir, 'grants', 'alice', 'photos'), { recursive: true });
    await mkdir(join(dir, 'grants', 'bob'), { recursive: true });
    await mkdir(join(dir, 'data'), { recursive: true });
    await symlink(join(dir, 'grants', 'bob'), join(dir, 'grants', 'alice', 'bob'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const policy = (grants: SecurityConfig['localRoots']) =>
    new AccessPolicy(
      { localRoots: grants, outboundAllow: [], forbiddenPaths: [join(dir, 'data')] },
      async (id) => users[id],
      { get: async () => undefined },
      new OutboundPolicy([]),
    );
  const check = (sut: AccessPolicy, root: string, owner: string | null) =>
    sut.checkAccount(localConnectorDescriptor, { config: { root }, secrets: {} }, owner);

  it('should give a user their {user} folder and nothing else, links resolved', async () => {
    const sut = policy([{ path: join(dir, 'grants', '{user}') }]);
    await expect(check(sut, join(dir, 'grants', 'alice', 'photos'), 'u')).resolves.toBeUndefined();
    await expect(
      check(sut, join(dir, 'grants', 'alice', 'new', 'x'), 'u'),
    ).resolves.toBeUndefined();
    await expect(check(sut, join(dir, 'grants', 'bob'), 'u')).rejects.toBeInstanceOf(
      ValidationAppError,
    );
    await expect(check(sut, join(dir, 'grants', 'alice', 'bob'), 'u')).rejects.toThrow(
      /outside the folders an admin granted you/,
    );
  });

  it('should honour a grant for one user only', async () => {
    const sut = policy([{ path: join(dir, 'grants', 'bob'), user: 'bob' }]);
    await expect(check(sut, join(dir, 'grants', 'bob'), 'u')).rejects.toThrow(/none is granted/);
  });

  it("should let admins and pre-user accounts use any folder but the engine's own", async () => {
    const sut = policy([]);
    await expect(check(sut, join(dir, 'grants', 'bob'), 'a')).resolves.toBeUndefined();
    await expect(check(sut, join(dir, 'grants', 'bob'), null)).resolves.toBeUndefined();
    for (const root of [dir, join(dir, 'data'), join(dir, 'data', 'x'), '/']) {
      await expect(check(sut, root, 'a')).rejects.toThrow(/engine's own files/);
    }
  });

  it('should treat the account of a deleted owner as a plain user', async () => {
    await expect(check(policy([]), join(dir, 'grants', 'bob'), 'gone')).rejects.toThrow(
      /none is granted/,
    );
  });
});
