import { createDigest } from '../../../../src/connectors/hashing/digests.js';
import { QuickXorHash } from '../../../../src/connectors/hashing/quickxor-hash.js';

// Known vectors: protocols/onedrive.md section 3 (empty, "hello world") and rclone's published
// QuickXorHash test table (backend/onedrive/quickxorhash/quickxorhash_test.go), input and output
// both base64. They cover the wrap past bit 159 (16+ bytes) and several 160-byte cycles (222, 333).
const VECTORS: Array<{ input: string; expected: string }> = [
  { input: '', expected: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
  { input: 'Sg==', expected: 'SgAAAAAAAAAAAAAAAQAAAAAAAAA=' },
  { input: 'tbQ=', expected: 'taAFAAAAAAAAAAAAAgAAAAAAAAA=' },
  { input: 'jRRDVA==', expected: 'jaDAEKgAAAAAAAAABAAAAAAAAAA=' },
  { input: '2fuxhBJXtpWFe8dOfdGeHw==', expected: 'O9tHLAghgSvYohKFyMMxnNCHaHg=' },
  { input: 'T6LYJIfDh81JrAK309H2JMJTXis=', expected: 'zBTHrspn3mEcohlJdIUAbjGNaNg=' },
  {
    input: 'NbYXsp5/K6mR+NmHwExjvWeWDJFnXTKWVlzYHoesp2E=',
    expected: 'wjuAuWDiq04qDt1R8hHWDDcwVoQ=',
  },
  {
    input:
      'jyibxJSzO6ZiZ0O1qe3tG/bvIAYssvukh9suIT5wEy1JBINVgPiqdsTW0cOpP0aUfP7mgqLfADkzI/m/GgCuVhr8oFLrOCoTx1/psBOWwhltCbhUx51Icm9aH8tY4Z3ccU+6BKpYQkLCy0B/A9Zc',
    expected: 'hZfLIilSITC6N3e3tQ/iSgEzkto=',
  },
  {
    input:
      'PfxMcUd0vIW6VbHG/uj/Y0W6qEoKmyBD0nYebEKazKaKG+UaDqBEcmQjbfQeVnVLuodMoPp7P7TR1htX5n2VnkHh22xDyoJ8C/ZQKiSNqQfXvh83judf4RVr9exJCud8Uvgip6aVZTaPrJHVjQhMCp/dEnGvqg0oN5OVkM2qqAXvA0teKUDhgNM71sDBVBCGXxNOR2bpbD1iM4dnuT0ey4L+loXEHTL0fqMeUcEi2asgImnlNakwenDzz0x57aBwyq3AspCFGB1ncX4yYCr/OaCcS5OKi/00WH+wNQU3',
    expected: 'QX/YEpG0gDsmhEpCdWhsxDzsfVE=',
  },
  {
    input:
      'w0LGhqU1WXFbdavqDE4kAjEzWLGGzmTNikzqnsiXHx2KRReKVTxkv27u3UcEz9+lbMvYl4xFf2Z4aE1xRBBNd1Ke5C0zToSaYw5o4B/7X99nKK2/XaUX1byLow2aju2XJl2OpKpJg+tSJ2fmjIJTkfuYUz574dFX6/VXxSxwGH/xQEAKS5TCsBK3CwnuG1p5SAsQq3gGVozDWyjEBcWDMdy8/AIFrj/y03Lfc/RNRCQTAfZbnf2QwV7sluw4fH3XJr07UoD0YqN+7XZzidtrwqMY26fpLZnyZjnBEt1FAZWO7RnKG5asg8xRk9YaDdedXdQSJAOy6bWEWlABj+tVAigBxavaluUH8LOj+yfCFldJjNLdi90fVHkUD/m4Mr5OtmupNMXPwuG3EQlqWUVpQoYpUYKLsk7a5Mvg6UFkiH596y5IbJEVCI1Kb3D1',
    expected: 'e3+wo77iKcILiZegnzyUNcjCdoQ=',
  },
];

function hashOf(data: Buffer, piece = data.length || 1): string {
  const sut = new QuickXorHash();
  for (let i = 0; i < data.length; i += piece) sut.update(data.subarray(i, i + piece));
  return sut.digest();
}

describe('QuickXorHash', () => {
  it.each(VECTORS.map((v) => [Buffer.from(v.input, 'base64').length, v] as const))(
    'should match the known vector when hashing %i bytes at once',
    (_len, v) => {
      expect(hashOf(Buffer.from(v.input, 'base64'))).toBe(v.expected);
    },
  );

  it.each([1, 3, 7, 64, 159, 161])(
    'should give the same value when fed in pieces of %i bytes',
    (piece) => {
      for (const v of VECTORS)
        expect(hashOf(Buffer.from(v.input, 'base64'), piece)).toBe(v.expected);
    },
  );

  it('should hash ASCII "hello world" to the value in the protocol brief', () => {
    expect(hashOf(Buffer.from('hello world'))).toBe('aCgDG9jwBhDc4Q1yawMZAAAAAAA=');
  });

  it('should produce a 28-character base64 value when the input spans many 160-byte cycles', () => {
    const data = Buffer.alloc(1_000_003, 0xa5);
    const value = hashOf(data, 4096);
    expect(value).toHaveLength(28);
    expect(value).toBe(hashOf(data, 999));
  });

  it('should be what createDigest returns for the quickXor kind', () => {
    const d = createDigest('quickXor');
    d.update(Buffer.from('hello world'));
    expect(d.digest()).toBe('aCgDG9jwBhDc4Q1yawMZAAAAAAA=');
  });

  it('should fold long inputs a word at a time to the same value as a byte loop, aligned or not', () => {
    // The reference: the byte-per-lane definition, one XOR per input byte.
    const reference = (data: Uint8Array): string => {
      const hasher = new QuickXorHash();
      for (let i = 0; i < data.length; i++) hasher.update(Buffer.from([data[i]!]));
      return hasher.digest();
    };
    const backing = Buffer.alloc(300_007 + 8); // fresh, so its offset 0 is 8-aligned
    for (let i = 0; i < backing.length; i++) backing[i] = (i * 2654435761) >>> 24;
    for (const offset of [0, 1, 2, 3, 4]) {
      const data = backing.subarray(offset, offset + 300_007);
      const expected = reference(data);
      for (const piece of [data.length, 65_536, 1_000, 160, 4_097]) {
        expect([offset, piece, hashOf(data, piece)]).toEqual([offset, piece, expected]);
      }
    }
  });
});
