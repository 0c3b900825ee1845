import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../../src/common/clock.js';
import { FatalError } from '../../../src/connectors/connector.errors.js';
import { sftpConnectorDescriptor } from '../../../src/connectors/sftp/index.js';
import { AccessPolicy } from '../../../src/security/access-policy.js';
import { OutboundPolicy } from '../../../src/security/outbound-policy.js';

/**
 * Issue 19, outbound policy for SFTP: the host was checked when the account was opened, then
 * ssh2 resolved the name again itself on each connection. A name whose DNS answer changes
 * between the two (rebinding: public first, loopback next) reached an internal SSH port.
 */
describe('SFTP host checked on every connection (DNS rebinding)', () => {
  let inside: Server;
  let port: number;
  const accepted: Socket[] = [];
  const users: Record<string, { username: string; role: string }> = {
    a: { username: 'admin', role: 'admin' },
    u: { username: 'mallory', role: 'user' },
  };

  beforeAll(async () => {
    // The "internal" SSH port: it must see no connection at all.
    inside = createServer((s) => {
      accepted.push(s);
      s.destroy();
    });
    await new Promise<void>((r) => inside.listen(0, '127.0.0.1', r));
    port = (inside.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => inside.close(() => r())));

  it("should refuse the connection when the name's second answer is a refused address", async () => {
    // 'localhost' as the attacker's name: a public address at the check, loopback afterwards
    // (what the system resolver, which ssh2 uses, answers too).
    const lookups: string[] = [];
    const outbound = new OutboundPolicy([], async (host) => {
      lookups.push(host);
      return lookups.length === 1 ? ['93.184.216.34'] : ['127.0.0.1'];
    });
    const access = new AccessPolicy(
      { localRoots: [], outboundAllow: [], forbiddenPaths: [] },
      async (id) => users[id],
      { get: async () => undefined },
      outbound,
    );
    const settings = {
      config: { host: 'localhost', port, username: 'x', root: '/' },
      secrets: { password: 'p' },
    };
    await expect(
      access.checkAccount(sftpConnectorDescriptor, settings, 'u'),
    ).resolves.toBeUndefined();

    const connector = sftpConnectorDescriptor.create(settings, {
      clock: systemClock,
      saveSecrets: async () => undefined,
      outboundConnect: await access.outboundConnectFor('u'),
    });
    const err = await connector.stat('x').catch((e: unknown) => e);
    await connector.close?.();

    expect(err).toBeInstanceOf(FatalError);
    expect((err as Error).message).toMatch(/private, loopback or link-local/);
    expect(lookups).toEqual(['localhost', 'localhost']);
    expect(accepted).toHaveLength(0);
  });

  it("should connect admins' accounts directly, without the check", async () => {
    const access = new AccessPolicy(
      { localRoots: [], outboundAllow: [], forbiddenPaths: [] },
      async (id) => users[id],
      { get: async () => undefined },
      new OutboundPolicy([]),
    );
    expect(await access.outboundConnectFor('a')).toBeUndefined();
  });
});
