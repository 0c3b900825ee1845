import { createOAuthClient } from '../../../../src/connectors/google-drive/google-drive.client.js';
import { googleDriveOAuthFlow } from '../../../../src/connectors/google-drive/google-drive.oauth.js';
import {
  DEFAULT_AUTHORIZE_URL,
  DEFAULT_REVOKE_URL,
  DEFAULT_TOKEN_URL,
  DRIVE_SCOPE,
} from '../../../../src/connectors/google-drive/google-drive.options.js';

describe('googleDriveOAuthFlow.authorizeUrl', () => {
  it("should build the URL google-auth-library's generateAuthUrl builds, without loading it", () => {
    for (const authorizeUrl of [DEFAULT_AUTHORIZE_URL, 'http://127.0.0.1:4010/o/oauth2/auth']) {
      const config = { clientId: '1234-abc.apps.googleusercontent.com', authorizeUrl };
      const req = {
        state: 'st/1 +&=',
        redirectUri: 'http://127.0.0.1:3000/api/connect/callback?x=1',
        codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      };
      const library = createOAuthClient({
        clientId: config.clientId,
        clientSecret: '',
        tokenUrl: DEFAULT_TOKEN_URL,
        authorizeUrl,
        revokeUrl: DEFAULT_REVOKE_URL,
      }).generateAuthUrl({
        redirect_uri: req.redirectUri,
        response_type: 'code',
        scope: [DRIVE_SCOPE],
        access_type: 'offline',
        prompt: 'consent',
        include_granted_scopes: true,
        state: req.state,
        code_challenge: req.codeChallenge,
        code_challenge_method: 'S256' as never,
      });
      expect(googleDriveOAuthFlow.authorizeUrl({ ...req, config })).toBe(library);
    }
  });

  it('should refuse a flow without a client id', () => {
    expect(() =>
      googleDriveOAuthFlow.authorizeUrl({
        state: 's',
        redirectUri: 'http://x/cb',
        codeChallenge: 'c',
        config: {},
      }),
    ).toThrow(/client id is missing/);
  });
});
