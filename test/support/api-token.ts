/**
 * For tests and tools that drive an engine process over HTTP, like a script would: sign in with
 * the admin's password, then create an API token and use it as `Authorization: Bearer`.
 */
export const ENGINE_ADMIN = { username: 'admin', password: 'admin-password-1' };

/** Env that makes a fresh engine create ENGINE_ADMIN on its first start. */
export const ENGINE_ADMIN_ENV = {
  ADMIN_USERNAME: ENGINE_ADMIN.username,
  ADMIN_PASSWORD: ENGINE_ADMIN.password,
};

export async function createApiToken(
  baseUrl: string,
  user: { username: string; password: string } = ENGINE_ADMIN,
): Promise<string> {
  const login = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(user),
  });
  if (!login.ok) throw new Error(`sign-in failed: ${login.status} ${await login.text()}`);
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const created = await fetch(`${baseUrl}/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
    body: JSON.stringify({ name: 'test harness' }),
  });
  if (!created.ok)
    throw new Error(`token creation failed: ${created.status} ${await created.text()}`);
  return ((await created.json()) as { token: string }).token;
}
