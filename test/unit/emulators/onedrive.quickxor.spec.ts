import { randomBytes } from 'node:crypto';
import { QuickXorHash } from '../../../src/connectors/hashing/quickxor-hash.js';
import { QuickXor } from '../../../emulators/onedrive/quickxor.js';

/**
 * The emulator hashes with its own quickXorHash, written from Microsoft's published algorithm, so
 * that it checks our connector's instead of sharing it. The two must agree on every length and
 * every way of cutting the input into chunks.
 */
describe('onedrive emulator quickXorHash', () => {
  it('should hash the empty input to zeros', () => {
    expect(new QuickXor().digest()).toBe('AAAAAAAAAAAAAAAAAAAAAAAAAAA=');
  });

  it.each([1, 19, 20, 159, 160, 161, 1000, 65_537, 1_048_583])(
    'should agree with the connector on %i bytes cut into odd chunks',
    (size) => {
      const data = randomBytes(size);
      const ours = new QuickXor();
      for (let at = 0, step = 7; at < size; at += step, step = (step * 3) % 4099 || 1)
        ours.update(data.subarray(at, Math.min(size, at + step)));
      const reference = new QuickXorHash();
      reference.update(data);
      expect(ours.digest()).toBe(reference.digest());
    },
  );
});
