import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { Client, type AuthMethod, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import type { ConnectorSecrets } from '../connector-descriptor.js';
import type { Pacer } from '../pacer/pacer.js';
import { HostKeyMismatchError, mapSftpError } from './sftp.errors.js';
import { ParsedKeyCache } from './sftp.keys.js';
import type { SftpConnectorOptions } from './sftp.options.js';

/** OpenSSH's fingerprint format: 'SHA256:' + unpadded base64 of the SHA-256 of the key blob. */
export function fingerprintOf(hostKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`;
}

interface Session {
  ssh: Client;
  sftp: SFTPWrapper;
}

/**
 * One SSH connection with one SFTP channel per connector, opened on first use and again after it
 * drops. The host key is checked on every connection: the pinned fingerprint must match; with
 * none pinned, the first key seen is pinned (saved through `saveSecrets`) and enforced afterwards.
 */
export class SftpSession {
  private current: Promise<Session> | undefined;
  private pinned: string | undefined;

  constructor(
    private readonly options: SftpConnectorOptions,
    readonly pacer: Pacer,
    private readonly saveSecrets: (s: ConnectorSecrets) => Promise<void>,
    /**
     * Connects for ssh2 when the owner is restricted (ConnectorContext.outboundConnect): the host
     * is resolved and checked on every connection, ssh2 never resolves it itself.
     */
    private readonly connectSocket?: (host: string, port: number) => Promise<Socket>,
    /** Decrypted private keys, shared by the connectors of the process (see ParsedKeyCache). */
    private readonly keys: ParsedKeyCache = new ParsedKeyCache(),
  ) {
    this.pinned = options.hostKeyFingerprint;
  }

  /** Runs `fn` with the SFTP channel through the pacer; errors leave it mapped. */
  call<T>(
    label: string,
    what: string,
    fn: (sftp: SFTPWrapper) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.pacer.call(
      label,
      async () => {
        try {
          return await fn(await this.sftp());
        } catch (e) {
          throw mapSftpError(e, what);
        }
      },
      signal,
    );
  }

  async sftp(): Promise<SFTPWrapper> {
    if (!this.current) {
      const p = this.open();
      this.current = p;
      // A failed or dropped connection is forgotten, so the next call connects again.
      const forget = () => {
        if (this.current === p) this.current = undefined;
      };
      p.then((s) => s.ssh.once('close', forget), forget);
    }
    return (await this.current).sftp;
  }

  async close(): Promise<void> {
    const cur = this.current;
    this.current = undefined;
    if (!cur) return;
    const s = await cur.catch(() => undefined);
    s?.ssh.end();
  }

  private async open(): Promise<Session> {
    const o = this.options;
    const sock = this.connectSocket ? await this.connectSocket(o.host, o.port) : undefined;
    let seen: string | undefined;
    let mismatch = false;
    // ssh2's own order ('none', password, key), with the key parsed once per process, not per
    // connection (ParsedKeyCache): ssh2 would decrypt it again at every connect.
    const key = o.privateKey ? this.keys.get(o.privateKey, o.passphrase) : undefined;
    const auth: AuthMethod[] = [
      { type: 'none', username: o.username },
      ...(o.password !== undefined
        ? [{ type: 'password', username: o.username, password: o.password } as AuthMethod]
        : []),
      ...(key ? [{ type: 'publickey', username: o.username, key } as AuthMethod] : []),
    ];
    const config: ConnectConfig = {
      host: o.host,
      port: o.port,
      username: o.username,
      authHandler: auth,
      sock,
      readyTimeout: 20_000,
      keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer) => {
        seen = fingerprintOf(key);
        if (this.pinned !== undefined && this.pinned !== seen) {
          mismatch = true;
          return false;
        }
        return true;
      },
    };
    return new Promise<Session>((resolve, reject) => {
      const ssh = new Client();
      let settled = false;
      const fail = (e: unknown) => {
        if (settled) return;
        settled = true;
        ssh.end();
        if (mismatch)
          reject(
            new HostKeyMismatchError(
              `the SSH host key of ${o.host}:${o.port} changed: expected ${this.pinned}, the server shows ${seen}. ` +
                'If the server was reinstalled, clear the pinned fingerprint of this account; otherwise someone may be intercepting the connection.',
              { cause: e },
            ),
          );
        else reject(e);
      };
      ssh.once('error', fail);
      ssh.once('ready', () => {
        ssh.sftp((err, sftp) => {
          if (err) return fail(err);
          settled = true;
          ssh.on('error', () => undefined); // surfaces through the pending SFTP calls instead
          resolve({ ssh, sftp });
          if (this.pinned === undefined && seen !== undefined) {
            this.pinned = seen;
            void this.saveSecrets({ hostKeyFingerprint: seen }).catch(() => undefined);
          }
        });
      });
      ssh.connect(config);
      // Nagle's algorithm held back each small SFTP request (OPEN, CLOSE, SETSTAT...) until the
      // previous packet was acknowledged, ~40 ms of delayed ACK on loopback: 2,000 small files
      // took 60.7 s with it and 18.9 s without (issue #21). The socket exists once connect()
      // returns; Node applies the flag when it connects.
      if (!sock) ssh.setNoDelay(true);
    });
  }
}
