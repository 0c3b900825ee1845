import { hasInteractiveSignIn } from '../../../src/connectors/capabilities.js';
import { SignInRefusedError } from '../../../src/connectors/connector.errors.js';
import { CONNECTOR_DESCRIPTORS } from '../../../src/connectors/connector.registry.js';
import { ICloudSignInError } from '../../../src/connectors/icloud-photos/icloud-photos.errors.js';

describe('interactive sign-in capability', () => {
  it('should be declared by iCloud Photos only, naming the Apple ID as who signs in', () => {
    const withSignIn = CONNECTOR_DESCRIPTORS.filter(hasInteractiveSignIn);

    expect(withSignIn.map((d) => [d.kind, d.interactiveSignIn.identityOption])).toEqual([
      ['icloud-photos', 'appleId'],
    ]);
  });

  it("should let the accounts module read Apple's refusals as generic sign-in refusals", () => {
    const e = new ICloudSignInError('wrong-code', 'The verification code is incorrect.');

    expect(e).toBeInstanceOf(SignInRefusedError);
    expect((e as SignInRefusedError).reason).toBe('wrong-code');
  });
});
