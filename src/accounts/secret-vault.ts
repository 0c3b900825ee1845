import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeKey, type SecretsConfig } from '../config/app-config.js';

const FORMAT = 'v1';

export class VaultError extends Error {}

/**
 * Encrypts secrets at rest with AES-256-GCM (random 96-bit IV per value, auth tag checked on
 * read). The key comes from SECRET_KEY or a key file created on first start with mode 0600.
 */
export class SecretVault {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): SecretVault {
    if (key.length !== 32) throw new VaultError('the vault key must be 32 bytes');
    return new SecretVault(key);
  }

  static open(config: SecretsConfig): SecretVault {
    if (config.key) {
      const key = decodeKey(config.key);
      if (!key) throw new VaultError('SECRET_KEY must be 32 bytes (64 hex characters or base64)');
      return new SecretVault(key);
    }
    if (!existsSync(config.keyFile)) {
      mkdirSync(dirname(config.keyFile), { recursive: true, mode: 0o700 });
      writeFileSync(config.keyFile, randomBytes(32).toString('hex') + '\n', {
        mode: 0o600,
        flag: 'wx',
      });
    }
    const mode = statSync(config.keyFile).mode & 0o777;
    if ((mode & 0o077) !== 0) chmodSync(config.keyFile, 0o600);
    const key = decodeKey(readFileSync(config.keyFile, 'utf8'));
    if (!key) throw new VaultError(`key file ${config.keyFile} does not hold a 32-byte key`);
    return new SecretVault(key);
  }

  seal(secrets: Record<string, string>): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
    return [
      FORMAT,
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      body.toString('base64'),
    ].join(':');
  }

  open(sealed: string): Record<string, string> {
    const [format, iv, tag, body] = sealed.split(':');
    if (format !== FORMAT || !iv || !tag || body === undefined) {
      throw new VaultError('sealed secret has an unknown format');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as Record<string, string>;
    } catch (e) {
      throw new VaultError('cannot decrypt a stored secret: wrong SECRET_KEY or damaged data', {
        cause: e,
      });
    }
  }
}
