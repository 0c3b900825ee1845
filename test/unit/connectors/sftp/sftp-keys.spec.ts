import ssh2 from 'ssh2';
import { ParsedKeyCache } from '../../../../src/connectors/sftp/sftp.keys.js';

// An encrypted OpenSSH key, as users paste them (bcrypt-pbkdf with few rounds, to keep the test fast).
const { private: encrypted } = ssh2.utils.generateKeyPairSync('ed25519', {
  passphrase: 'correct horse',
  cipher: 'aes256-ctr',
  rounds: 2,
});

describe('ParsedKeyCache', () => {
  it('should decrypt a key once and hand the same parsed key to the next connection', () => {
    const sut = new ParsedKeyCache();

    const first = sut.get(encrypted, 'correct horse');
    const second = sut.get(encrypted, 'correct horse');

    expect(first.isPrivateKey()).toBe(true);
    expect(second).toBe(first);
    expect(sut.size).toBe(1);
  });

  it('should parse again when the key was not used for longer than its time to live', () => {
    let now = 0;
    const sut = new ParsedKeyCache(() => now);
    const first = sut.get(encrypted, 'correct horse');

    now += 16 * 60_000;
    const later = sut.get(encrypted, 'correct horse');

    expect(later).not.toBe(first);
    expect(later.getPublicSSH().equals(first.getPublicSSH())).toBe(true);
  });

  it('should throw as ssh2 does when the passphrase is wrong, and keep nothing', () => {
    const sut = new ParsedKeyCache();

    expect(() => sut.get(encrypted, 'wrong')).toThrow(/Cannot parse privateKey/);
    expect(sut.size).toBe(0);
  });
});
