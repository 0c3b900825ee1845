import { CliError, EXIT, type ExitCode } from './exit-codes.js';

/** The engine's HTTP API with an API token, errors mapped to exit codes. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const qs = Object.entries(query)
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    return this.request<T>('GET', qs ? `${path}?${qs}` : path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }

  /**
   * The first path of the engine's OpenAPI document that matches `pattern` for `method`
   * (`/api/tasks/{id}/verify`), or undefined: how the CLI asks an engine what it offers.
   */
  async findPath(pattern: RegExp, method: string): Promise<string | undefined> {
    const doc = await this.request<{ paths?: Record<string, Record<string, unknown>> }>(
      'GET',
      '/api/docs/openapi.json',
    );
    return Object.entries(doc.paths ?? {}).find(
      ([path, ops]) => pattern.test(path) && ops[method.toLowerCase()] !== undefined,
    )?.[0];
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.token) {
      throw new CliError(
        'no API token: pass --token or set CBE_TOKEN (create one in Settings > API tokens)',
        EXIT.unauthorized,
      );
    }
    let res: Response;
    try {
      res = await this.fetchFn(this.baseUrl + path, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new CliError(
        `cannot reach the engine at ${this.baseUrl} (${cause}): is it running? (--url, CBE_URL)`,
        EXIT.unreachable,
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) return json as T;
    const payload = (json ?? {}) as { message?: unknown; problems?: unknown };
    const problems = Array.isArray(payload.problems) ? payload.problems.map(String) : [];
    const message =
      problems.length > 0
        ? problems.join('; ')
        : typeof payload.message === 'string'
          ? payload.message
          : `${res.status} ${res.statusText}`;
    throw new CliError(`${method} ${path.split('?')[0]}: ${message}`, exitCodeFor(res.status));
  }
}

export function exitCodeFor(status: number): ExitCode {
  if (status === 400 || status === 422) return EXIT.usage;
  if (status === 401 || status === 403) return EXIT.unauthorized;
  if (status === 404) return EXIT.notFound;
  if (status === 409 || status === 423) return EXIT.conflict;
  return EXIT.failed;
}
