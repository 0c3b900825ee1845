import { createHash } from 'node:crypto';
import ssh2, { type ParsedKey } from 'ssh2';

/** How long a decrypted key is kept after its last use: a daily or hourly task reuses it. */
const KEY_TTL_MS = 15 * 60_000;
/** Keys kept at most (accounts with a private key used within the TTL). */
const KEYS_MAX = 64;

/**
 * Private keys as ssh2 parsed them, by the key text and passphrase. Decrypting an OpenSSH key
 * with a passphrase runs bcrypt-pbkdf in JavaScript: ~300 ms of CPU per connection on this
 * machine, paid by every backup run to an SFTP target (a no-change run of 1,000 files to SFTP
 * spent more CPU on it than on the rest of the run, issue #21). Entries are keyed by a SHA-256 of
 * key and passphrase (a changed key or passphrase is another entry), dropped KEY_TTL_MS after
 * their last use, and never leave the process; the key text and passphrase themselves are held
 * by the connector for as long as it lives anyway.
 */
export class ParsedKeyCache {
  private readonly keys = new Map<string, { key: ParsedKey; usedAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The parsed private key; throws what ssh2 would at connect when it cannot be parsed. */
  get(privateKey: string, passphrase: string | undefined): ParsedKey {
    const t = this.now();
    for (const [id, e] of this.keys) if (t - e.usedAt > KEY_TTL_MS) this.keys.delete(id);
    const id = createHash('sha256')
      .update(privateKey)
      .update('\0')
      .update(passphrase ?? '')
      .digest('base64');
    const hit = this.keys.get(id);
    if (hit) {
      hit.usedAt = t;
      return hit.key;
    }
    const parsed = ssh2.utils.parseKey(privateKey, passphrase);
    if (parsed instanceof Error) throw new Error(`Cannot parse privateKey: ${parsed.message}`);
    // OpenSSH's newer format stores one key (ssh2 answers with a list of one).
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key?.isPrivateKey())
      throw new Error('privateKey value does not contain a (valid) private key');
    if (this.keys.size >= KEYS_MAX) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(id, { key, usedAt: t });
    return key;
  }

  get size(): number {
    return this.keys.size;
  }
}
