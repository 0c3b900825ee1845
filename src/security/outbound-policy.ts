import { lookup } from 'node:dns/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Agent } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

/**
 * Addresses that are not the public internet: this machine, the LAN, link-local (cloud metadata
 * at 169.254.169.254), carrier-grade NAT, documentation, multicast and reserved ranges
 * (IANA special-purpose registries, as request-filtering-agent's ipaddr.js ranges).
 */
const NON_PUBLIC: ReadonlyArray<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001::', 23, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

/** A user named an address the policy refuses; the API answers 400 naming the field. */
export class OutboundRefusedError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

export type Resolver = (host: string) => Promise<string[]>;

const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Where a non-admin user may point the engine (webhooks, WebDAV, S3, SFTP): public addresses,
 * plus what the admin allow-lists in OUTBOUND_ALLOW. Names are checked after DNS resolution
 * (every address of the name must pass), and the agents re-check each connection, so a redirect
 * or a DNS answer that changed since the check is refused too.
 */
export class OutboundPolicy {
  private readonly blocked = new BlockList();
  private readonly allowed = new BlockList();

  constructor(
    private readonly allowList: readonly string[],
    private readonly resolve: Resolver = systemResolver,
  ) {
    for (const [net, bits, type] of NON_PUBLIC) this.blocked.addSubnet(net, bits, type);
    for (const entry of allowList) {
      const [ip, bits] = entry.split('/');
      const type = isIP(ip!) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.allowed.addAddress(ip!, type);
      else this.allowed.addSubnet(ip!, Number(bits), type);
    }
  }

  /** Whether a non-admin may connect to this IP address. */
  isAllowedAddress(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    const type = family === 6 ? 'ipv6' : 'ipv4';
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    if (mapped) return this.isAllowedAddress(mapped);
    if (this.allowed.check(address, type)) return true;
    return !this.blocked.check(address, type);
  }

  /** Refuses a host name or address that resolves to a refused address (or does not resolve). */
  async checkHost(host: string, field: string): Promise<void> {
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    let addresses: string[];
    if (isIP(bare)) addresses = [bare];
    else {
      try {
        addresses = await this.resolve(bare);
      } catch {
        throw new OutboundRefusedError(field, `${field}: the host '${bare}' does not resolve`);
      }
    }
    const refused = addresses.find((a) => !this.isAllowedAddress(a));
    if (refused !== undefined || addresses.length === 0) {
      throw new OutboundRefusedError(
        field,
        `${field}: '${bare}' is a private, loopback or link-local address; ask an admin to allow it (OUTBOUND_ALLOW)`,
      );
    }
  }

  /** Same for an http(s) URL; other schemes are refused. */
  async checkUrl(url: string, field: string): Promise<void> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new OutboundRefusedError(field, `${field}: '${url.slice(0, 200)}' is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new OutboundRefusedError(field, `${field}: only http and https URLs are allowed`);
    }
    await this.checkHost(u.hostname, field);
  }

  /**
   * A TCP connection to host:port for a protocol whose library would resolve the name itself
   * (SSH): the name is resolved and checked here on every connection, and the socket is
   * connected to the checked address, so a DNS answer that changed since the account was opened
   * (rebinding) reaches nothing.
   */
  async connect(host: string, port: number, field: string, timeoutMs = 10_000): Promise<Socket> {
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    let addresses: string[];
    if (isIP(bare)) addresses = [bare];
    else {
      try {
        addresses = await this.resolve(bare);
      } catch {
        throw new OutboundRefusedError(field, `${field}: the host '${bare}' does not resolve`);
      }
    }
    const address = addresses[0];
    if (address === undefined || addresses.some((a) => !this.isAllowedAddress(a))) {
      throw new OutboundRefusedError(
        field,
        `${field}: '${bare}' is a private, loopback or link-local address; ask an admin to allow it (OUTBOUND_ALLOW)`,
      );
    }
    return new Promise<Socket>((resolve, reject) => {
      const socket = tcpConnect({ host: address, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new Error(`${bare}:${port} did not accept a connection within ${timeoutMs / 1000} s`),
        );
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', onError);
        resolve(socket);
      });
      const onError = (e: Error) => {
        clearTimeout(timer);
        reject(e);
      };
      socket.once('error', onError);
    });
  }

  /** An agent that re-checks every connection it opens (request-filtering-agent). */
  agentFor(url: string, options: { timeoutMs?: number } = {}): Agent {
    const opts = {
      allowIPAddressList: [...this.allowList],
      timeout: options.timeoutMs,
      keepAlive: false,
    };
    return url.startsWith('https:')
      ? new RequestFilteringHttpsAgent(opts)
      : new RequestFilteringHttpAgent(opts);
  }
}
