/**
 * The API client: every request goes through `request()`, so the sign-in work can add its CSRF
 * header and its 401 handling in one place (`apiHooks`).
 *
 * Request bodies' enums come from the generated types (api.generated.ts, `npm run api:types`);
 * the OpenAPI document types no responses yet, so the response shapes below are still written
 * by hand.
 */
import type { components } from './api.generated.js';

type Schemas = components['schemas'];

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  problems?: string[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    /** Seconds from a `Retry-After` header (429), when the server sent one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(body.message || `${status} ${body.error}`);
  }

  /** Each problem starts with the field it names (`filter.extensions: ...`). */
  get problems(): string[] {
    return this.body.problems?.length ? this.body.problems : [this.body.message];
  }
}

export interface ApiHooks {
  /** Called before every request, e.g. to add an `X-CSRF-Token` header. */
  beforeRequest?: (headers: Headers, method: string) => void;
  /** Called when the API answers 401 (signed out), with the path that was asked for. */
  onUnauthorized?: (error: ApiError, path: string) => void;
  /** Called when the API refuses the CSRF token (403): the session changed in another tab. */
  onCsrfRejected?: (error: ApiError) => void;
}

export const apiHooks: ApiHooks = {};

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers = new Headers({ accept: 'application/json' });
  if (body !== undefined) headers.set('content-type', 'application/json');
  apiHooks.beforeRequest?.(headers, method);
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, {
      statusCode: 0,
      error: 'Network error',
      message: `the server cannot be reached (${(e as Error).message})`,
    });
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const b = (json ?? {}) as Partial<ErrorBody>;
    const err = new ApiError(
      res.status,
      {
        statusCode: res.status,
        error: b.error ?? res.statusText,
        message: b.message ?? (text.slice(0, 200) || res.statusText),
        problems: Array.isArray(b.problems) ? b.problems : undefined,
      },
      retryAfter(res.headers.get('retry-after')),
    );
    if (res.status === 401) apiHooks.onUnauthorized?.(err, path);
    if (res.status === 403 && /^CSRF token/i.test(err.body.message)) {
      apiHooks.onCsrfRejected?.(err);
      throw new ApiError(403, {
        ...err.body,
        message: 'you signed in again in another tab: try once more',
        problems: undefined,
      });
    }
    throw err;
  }
  return json as T;
}

/** `Retry-After` is either seconds or an HTTP date. */
function retryAfter(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

const q = (params: Record<string, string | number | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) s.set(k, String(v));
  const out = s.toString();
  return out ? `?${out}` : '';
};
const id = encodeURIComponent;

// ---- types (what the API answers) -------------------------------------------------------------

export type Account = Schemas['AccountView'];
export type AccountState = Account['state'];

export type OptionSpec = Schemas['OptionSpecView'];

export type ConnectorInfo = Schemas['ConnectorInfoView'];

export type Entry = Schemas['EntryView'];

export type ScheduleKind = Schemas['ScheduleDto']['kind'];

export type Schedule = Schemas['ScheduleView'];

export type Retention = Schemas['RetentionView'];

/** `nextRuns` (and `verify.nextRuns`) only on single-task answers, not in the list. */
export type Task = Schemas['TaskView'];

export type TaskInput = Partial<{
  name: string;
  sourceAccountId: string;
  sourcePath: string;
  targetAccountId: string;
  targetPath: string;
  filter: { mode: string; extensions: string };
  concurrency: number;
  enabled: boolean;
  schedule: Schedule;
  catchUp: boolean;
  notifications: { emails: string[]; on: string; webhookUrl: string | null };
  deletionGuard: Partial<DeletionGuard> | null;
  verify: { readPercent?: number; readBackAfterWrite?: boolean; schedule?: Schedule | null };
}>;

/** A task's deletion guard: on by default; `enabled: false` turns it off. */
export type DeletionGuard = Schemas['DeletionGuardView'];

export type RunStatus = Run['status'];

export type RunCounters = Pick<
  Run,
  | 'filesTotal'
  | 'filesCopied'
  | 'filesUnchanged'
  | 'filesFiltered'
  | 'filesFailed'
  | 'bytesTotal'
  | 'bytesCopied'
  | 'bytesUnchanged'
  | 'retries'
>;

/** A file being copied now, from a run's progress events (`files`). */
export interface InFlightFile {
  path: string;
  size: number | null;
  bytes: number;
}

export type RunKind = Run['kind'];

/**
 * The schema's `params` covers restore and verify runs alike; the screens read it for restores
 * only, where the engine always sends versionId, paths and conflict.
 */
export type RestoreRunParams = Required<
  Pick<Schemas['RunParamsView'], 'versionId' | 'paths' | 'conflict'>
> &
  Pick<Schemas['RunParamsView'], 'destination'>;
export type Run = Omit<Schemas['RunView'], 'params'> & { params: RestoreRunParams | null };

export type RunOutcome = Schemas['RunOutcomeView'];

/** One task on the dashboard (`GET /api/dashboard`). */
export type TaskHealth = Schemas['TaskHealthView'];

export type Dashboard = Schemas['DashboardView'];

export interface RunFilter {
  taskId?: string;
  kind?: string;
  status?: string;
  from?: string;
  to?: string;
}

export type VersionDiff = Schemas['VersionDiffView'];

export type RunEvent = Schemas['RunEventView'];

export type Version = Schemas['VersionView'];

/** `GET /api/versions/:id/approve/preview`: what a prune would remove once it is approved. */
export type ApprovalPreview = Schemas['ApprovalPreviewView'];

export type VersionTree = Schemas['VersionTreeView'];

export type ConflictPolicy = Schemas['RestoreDto']['conflict'];

export type SmtpView = Schemas['SmtpView'];

export type Role = Schemas['CreateUserDto']['role'];

export type User = Schemas['UserSummaryView'];

export type UserView = Schemas['UserView'];

export type Session = Schemas['SessionView'];

export type SignedIn = Schemas['SignedInView'];

export type ApiToken = Schemas['TokenView'];

// ---- endpoints --------------------------------------------------------------------------------

export const api = {
  auth: {
    session: () => request<Session>('GET', '/api/auth/session'),
    setup: (b: { username: string; password: string; setupToken?: string }) =>
      request<SignedIn>('POST', '/api/auth/setup', b),
    login: (b: { username: string; password: string; next?: string }) =>
      request<Schemas['LoginView']>('POST', '/api/auth/login', b),
    logout: () => request<void>('POST', '/api/auth/logout'),
    changePassword: (b: { currentPassword: string; newPassword: string }) =>
      request<void>('POST', '/api/auth/password', b),
  },
  users: {
    list: () => request<UserView[]>('GET', '/api/users'),
    create: (b: { username: string; password: string; role: Role }) =>
      request<UserView>('POST', '/api/users', b),
    remove: (userId: string) => request<void>('DELETE', `/api/users/${id(userId)}`),
  },
  tokens: {
    list: () => request<ApiToken[]>('GET', '/api/tokens'),
    create: (name: string) => request<Schemas['CreatedTokenView']>('POST', '/api/tokens', { name }),
    remove: (tokenId: string) => request<void>('DELETE', `/api/tokens/${id(tokenId)}`),
  },
  connectors: () => request<ConnectorInfo[]>('GET', '/api/connectors'),
  accounts: {
    list: () => request<Account[]>('GET', '/api/accounts'),
    get: (accountId: string) => request<Account>('GET', `/api/accounts/${id(accountId)}`),
    create: (b: { kind: string; name: string; options: Record<string, unknown> }) =>
      request<Account>('POST', '/api/accounts', b),
    update: (accountId: string, b: { name?: string; options?: Record<string, unknown> }) =>
      request<Account>('PATCH', `/api/accounts/${id(accountId)}`, b),
    remove: (accountId: string) => request<void>('DELETE', `/api/accounts/${id(accountId)}`),
    browse: (accountId: string, path: string) =>
      request<Entry[]>('GET', `/api/accounts/${id(accountId)}/browse${q({ path })}`),
    connect: (b: {
      kind: string;
      name?: string;
      accountId?: string;
      options?: Record<string, unknown>;
    }) => request<Schemas['AuthorizeUrlView']>('POST', '/api/accounts/connect', b),
    icloudSignIn: (b: {
      name?: string;
      appleId?: string;
      password: string;
      accountId?: string;
      rememberPassword?: boolean;
      options?: Record<string, unknown>;
    }) => request<Schemas['ICloudSignInView']>('POST', '/api/accounts/icloud/sign-in', b),
    icloudCode: (accountId: string, code: string) =>
      request<Schemas['ICloudSignInView']>('POST', `/api/accounts/${id(accountId)}/icloud/code`, {
        code,
      }),
    icloudRequestCode: (accountId: string) =>
      request<unknown>('POST', `/api/accounts/${id(accountId)}/icloud/request-code`),
  },
  tasks: {
    list: () => request<Task[]>('GET', '/api/tasks'),
    get: (taskId: string) => request<Task>('GET', `/api/tasks/${id(taskId)}`),
    create: (b: TaskInput) => request<Task>('POST', '/api/tasks', b),
    update: (taskId: string, b: TaskInput) => request<Task>('PATCH', `/api/tasks/${id(taskId)}`, b),
    remove: (taskId: string) => request<void>('DELETE', `/api/tasks/${id(taskId)}`),
    run: (taskId: string) => request<Run>('POST', `/api/tasks/${id(taskId)}/run`),
    versions: (taskId: string) => request<Version[]>('GET', `/api/tasks/${id(taskId)}/versions`),
    retention: (taskId: string, b: Retention) =>
      request<Schemas['TaskRetentionView']>('PUT', `/api/tasks/${id(taskId)}/retention`, b),
  },
  schedules: {
    preview: (s: Schedule) =>
      request<Schemas['SchedulePreviewView']>(
        'GET',
        `/api/schedules/preview${q({
          kind: s.kind,
          time: s.time,
          weekdays: s.weekdays?.join(','),
          dayOfMonth: s.dayOfMonth,
          cron: s.cron,
          timezone: s.timezone,
          count: 3,
        })}`,
      ),
  },
  dashboard: {
    overview: () => request<Dashboard>('GET', '/api/dashboard'),
    runs: (f: RunFilter) => request<Run[]>('GET', `/api/dashboard/runs${q({ ...f, limit: 200 })}`),
  },
  runs: {
    list: (taskId?: string) => request<Run[]>('GET', `/api/runs${q({ taskId, limit: 100 })}`),
    get: (runId: string) => request<Run>('GET', `/api/runs/${id(runId)}`),
    events: (runId: string) => request<RunEvent[]>('GET', `/api/runs/${id(runId)}/events`),
    cancel: (runId: string) => request<Run>('POST', `/api/runs/${id(runId)}/cancel`),
    pause: (runId: string) => request<Run>('POST', `/api/runs/${id(runId)}/pause`),
    resume: (runId: string) => request<Run>('POST', `/api/runs/${id(runId)}/resume`),
    streamUrl: (runId: string) => `/api/runs/${id(runId)}/stream`,
  },
  versions: {
    get: (versionId: string) => request<Version>('GET', `/api/versions/${id(versionId)}`),
    /** What approving a held version would let the task's retention prune (nothing deleted). */
    approvePreview: (versionId: string) =>
      request<ApprovalPreview>('GET', `/api/versions/${id(versionId)}/approve/preview`),
    /** A small JPEG of an image in the version (longest side `size`). */
    thumbnailUrl: (versionId: string, path: string, size = 96) =>
      `/api/versions/${id(versionId)}/thumbnail${q({ path, size })}`,
    approve: (versionId: string) =>
      request<Version>('POST', `/api/versions/${id(versionId)}/approve`),
    discard: (versionId: string) =>
      request<Version>('POST', `/api/versions/${id(versionId)}/discard`),
    files: (versionId: string, afterId?: number) =>
      request<Schemas['VersionFilesView']>(
        'GET',
        `/api/versions/${id(versionId)}/files${q({ afterId, limit: 500 })}`,
      ),
    diff: (versionId: string, against: string) =>
      request<VersionDiff>('GET', `/api/versions/${id(versionId)}/diff${q({ against })}`),
    tree: (versionId: string, path: string) =>
      request<VersionTree>('GET', `/api/versions/${id(versionId)}/tree${q({ path })}`),
    restore: (
      versionId: string,
      b: {
        paths?: string[];
        destination?: { accountId: string; path: string };
        conflict: ConflictPolicy;
      },
    ) => request<Run>('POST', `/api/versions/${id(versionId)}/restore`, b),
  },
  settings: {
    smtp: () => request<SmtpView>('GET', '/api/settings/smtp'),
    saveSmtp: (b: {
      host: string;
      port?: number;
      tls: string;
      user: string | null;
      password?: string | null;
      from: string;
    }) => request<SmtpView>('PUT', '/api/settings/smtp', b),
    testSmtp: (to: string[]) =>
      request<Schemas['SmtpTestView']>('POST', '/api/settings/smtp/test', { to }),
  },
};
