import { createHash, pbkdf2Sync } from 'node:crypto';
import {
  computeVerifier,
  derivePasswordKey,
  SrpClient,
  SrpServer,
} from '../../../../src/connectors/icloud-photos/srp.js';

describe('SRP-6a (Apple GSA variant)', () => {
  const salt = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');

  it('should derive s2k from the raw SHA-256 digest and s2k_fo from its hex string', () => {
    const digest = createHash('sha256').update('pässword').digest();
    expect(
      derivePasswordKey('pässword', salt, 1000, 's2k').equals(
        pbkdf2Sync(digest, salt, 1000, 32, 'sha256'),
      ),
    ).toBe(true);
    expect(
      derivePasswordKey('pässword', salt, 1000, 's2k_fo').equals(
        pbkdf2Sync(Buffer.from(digest.toString('hex'), 'ascii'), salt, 1000, 32, 'sha256'),
      ),
    ).toBe(true);
  });

  it.each(['s2k', 's2k_fo'] as const)(
    'should agree on M1 and M2 when the password is right (%s)',
    (protocol) => {
      const server = new SrpServer(computeVerifier('secret', salt, 500, protocol));
      const client = new SrpClient();
      const { m1, m2 } = client.respond({
        accountName: 'a@b.c',
        password: 'secret',
        salt,
        iterations: 500,
        protocol,
        serverB: server.publicB,
      });
      const serverM2 = server.verify({ accountName: 'a@b.c', salt, clientA: client.publicA, m1 });
      expect(serverM2?.equals(m2)).toBe(true);
    },
  );

  it('should reject M1 when the password is wrong', () => {
    const server = new SrpServer(computeVerifier('secret', salt, 500, 's2k'));
    const client = new SrpClient();
    const { m1 } = client.respond({
      accountName: 'a@b.c',
      password: 'Secret',
      salt,
      iterations: 500,
      protocol: 's2k',
      serverB: server.publicB,
    });
    expect(
      server.verify({ accountName: 'a@b.c', salt, clientA: client.publicA, m1 }),
    ).toBeUndefined();
  });

  it('should reject M1 when the derivation differs (s2k proof against an s2k_fo verifier)', () => {
    const server = new SrpServer(computeVerifier('secret', salt, 500, 's2k_fo'));
    const client = new SrpClient();
    const { m1 } = client.respond({
      accountName: 'a@b.c',
      password: 'secret',
      salt,
      iterations: 500,
      protocol: 's2k',
      serverB: server.publicB,
    });
    expect(
      server.verify({ accountName: 'a@b.c', salt, clientA: client.publicA, m1 }),
    ).toBeUndefined();
  });

  it('should refuse a server value B that is 0 mod N', () => {
    const client = new SrpClient();
    expect(() =>
      client.respond({
        accountName: 'x',
        password: 'y',
        salt,
        iterations: 1,
        protocol: 's2k',
        serverB: Buffer.alloc(256),
      }),
    ).toThrow(/B is 0/);
  });
});
