// Generated from the engine's OpenAPI document by scripts/api-types.ts: do not edit.
// Regenerate with `npm run api:types` after changing a controller or a DTO.
export interface paths {
  '/api/health': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['HealthController_health'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/connectors': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['HealthController_connectors'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/auth/session': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['AuthController_session'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/auth/setup': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['AuthController_setup'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/auth/login': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['AuthController_login'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/auth/logout': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['AuthController_logout'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/auth/password': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['AuthController_password'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/users': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['UsersController_list'];
    put?: never;
    post: operations['UsersController_create'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/users/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    delete: operations['UsersController_remove'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tokens': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['TokensController_list'];
    put?: never;
    post: operations['TokensController_create'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tokens/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    delete: operations['TokensController_remove'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/accounts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['AccountsController_list'];
    put?: never;
    post: operations['AccountsController_create'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/accounts/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['AccountsController_get'];
    put?: never;
    post?: never;
    delete: operations['AccountsController_remove'];
    options?: never;
    head?: never;
    patch: operations['AccountsController_update'];
    trace?: never;
  };
  '/api/accounts/{id}/browse': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['AccountsController_browse'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/accounts/connect': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['ConnectController_connect'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/accounts/{kind}/authorize': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['ConnectController_authorize'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/accounts/oauth/callback': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['ConnectController_callback'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/accounts/icloud/sign-in': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['ConnectController_signIn'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/accounts/{id}/icloud/code': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['ConnectController_submitCode'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/accounts/{id}/icloud/request-code': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['ConnectController_requestCode'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tasks': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['TasksController_list'];
    put?: never;
    post: operations['TasksController_create'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tasks/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['TasksController_get'];
    put?: never;
    post?: never;
    delete: operations['TasksController_remove'];
    options?: never;
    head?: never;
    patch: operations['TasksController_update'];
    trace?: never;
  };
  '/api/tasks/{id}/run': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['TasksController_run'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tasks/{id}/versions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['TasksController_versionsOf'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/runs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['RunsController_list'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/runs/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['RunsController_get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/runs/{id}/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['RunsController_events'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/runs/{id}/cancel': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['RunsController_cancel'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/runs/{id}/pause': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['RunsController_pause'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/runs/{id}/resume': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['RunsController_resume'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/runs/{id}/stream': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['RunStreamController_stream'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/versions/{id}/approve': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['VersionsController_approve'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/versions/{id}/approve/preview': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['VersionsController_approvePreview'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/versions/{id}/discard': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['VersionsController_discard'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/versions/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['VersionsController_get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/versions/{id}/files': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['VersionsController_files'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/versions/{id}/thumbnail': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['VersionsController_thumbnail'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/schedules/preview': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['SchedulesController_preview'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/settings/smtp': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['SettingsController_getSmtp'];
    put: operations['SettingsController_putSmtp'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/settings/smtp/test': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['SettingsController_testSmtp'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/versions/{id}/restore': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['RestoreController_restore'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/versions/{id}/tree': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['RestoreController_tree'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/versions/{id}/diff': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['RestoreController_diff'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tasks/{id}/retention': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put: operations['RetentionController_retention'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tasks/{id}/prune/preview': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['RetentionController_prunePreview'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tasks/{id}/prune': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['RetentionController_prune'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/versions/{id}/verify': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['VerifyController_verifyVersion'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tasks/{id}/verify': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['VerifyController_verifyTask'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/accounts/{id}/verify': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['VerifyController_verifyTarget'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/ledger/import': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['LedgerController_importLedger'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/settings/local-roots': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['SecuritySettingsController_get'];
    put: operations['SecuritySettingsController_put'];
    post?: never;
    delete: operations['SecuritySettingsController_reset'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/dashboard': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['DashboardController_overview'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/dashboard/runs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['DashboardController_runs'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/health/live': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['HealthController_live'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/health/ready': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['HealthController_ready'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/health/accounts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['HealthController_accounts'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['MetricsController_scrape'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    OptionSpecView: {
      key: string;
      label: string;
      help: string;
      /** @enum {string} */
      type: 'string' | 'number' | 'boolean';
      required?: boolean;
      default?: string | number | boolean;
      /** @description Stored encrypted, never returned */
      secret?: boolean;
      advanced?: boolean;
      choices?: string[];
      /** @enum {string} */
      target?: 'local-folder' | 'server-url' | 'server-host' | 'admin-endpoint';
    };
    CapabilitiesView: {
      /** @description Hash kinds the cloud reports */
      hashes: string[];
      verifiesWrites?: string;
      rangedReads: boolean;
      changeFeed: boolean;
      serverSideCopy: boolean;
      writable: boolean;
      readOnlyReason?: string;
      preservesModifiedTime: boolean;
      maxFileSize?: number;
      uploadChunkSize?: number;
      listPageSize?: number;
    };
    ConnectorInfoView: {
      /** @example local */
      kind: string;
      displayName: string;
      description: string;
      options: components['schemas']['OptionSpecView'][];
      capabilities: components['schemas']['CapabilitiesView'];
      /** @description Connected by signing in with the provider (OAuth) */
      oauth: boolean;
    };
    UserSummaryView: {
      id: string;
      username: string;
      /** @enum {string} */
      role: 'admin' | 'user';
    };
    SessionView: {
      setupRequired: boolean;
      /** @description While setup is required: whether the token from the engine log is needed */
      setupTokenRequired?: boolean;
      user: components['schemas']['UserSummaryView'] | null;
      csrfToken: string | null;
    };
    SetupDto: {
      /** @example admin */
      username: string;
      /** @description 8 to 1024 characters */
      password: string;
      /** @description Printed in the engine log at start; needed when the engine listens beyond loopback */
      setupToken?: string;
    };
    SignedInView: {
      user: components['schemas']['UserSummaryView'];
      csrfToken: string;
    };
    LoginDto: {
      /** @example admin */
      username: string;
      password: string;
      /**
       * @description Where to go after signing in; only a path on this site is honoured
       * @example /#/tasks
       */
      next?: string;
    };
    LoginView: {
      user: components['schemas']['UserSummaryView'];
      csrfToken: string;
      /** @description Where to go next: a local path */
      redirect: string;
    };
    ChangePasswordDto: {
      currentPassword: string;
      /** @description 8 to 1024 characters */
      newPassword: string;
    };
    UserView: {
      id: string;
      username: string;
      /** @enum {string} */
      role: 'admin' | 'user';
      /** Format: date-time */
      createdAt: string;
    };
    CreateUserDto: {
      /** @example admin */
      username: string;
      /** @description 8 to 1024 characters */
      password: string;
      /** @enum {string} */
      role: 'admin' | 'user';
    };
    TokenView: {
      id: string;
      name: string;
      /** Format: date-time */
      createdAt: string;
      /** Format: date-time */
      lastUsedAt: string | null;
    };
    CreateTokenDto: {
      /** @example nightly script */
      name: string;
    };
    CreatedTokenView: {
      id: string;
      name: string;
      /** @description The token itself (cbe_...): shown this once, never again */
      token: string;
      /** Format: date-time */
      createdAt: string;
    };
    CreateAccountDto: {
      /**
       * @description Connector kind, as listed by GET /api/connectors
       * @example local
       */
      kind: string;
      /** @example External drive */
      name: string;
      /**
       * @description Connector options (see GET /api/connectors)
       * @example {
       *       "root": "/mnt/backup"
       *     }
       */
      options: Record<string, never>;
    };
    AccountView: {
      id: string;
      /** @example local */
      kind: string;
      name: string;
      /** @description The connector options; secrets are never included */
      options: {
        [key: string]: string | number | boolean;
      };
      /** @enum {string} */
      state: 'connected' | 'needs-reauth' | 'awaiting-code' | 'error';
      stateMessage: string | null;
      /** Format: date-time */
      createdAt: string;
      /** Format: date-time */
      updatedAt: string;
    };
    UpdateAccountDto: {
      name?: string;
      /** @description Options to change; secrets left empty keep their stored value */
      options?: Record<string, never>;
    };
    EntryView: {
      path: string;
      name: string;
      /** @enum {string} */
      kind: 'file' | 'folder';
      size?: number;
      /** Format: date-time */
      modifiedAt?: string;
    };
    StartConnectDto: {
      /**
       * @description A connector kind that connects through OAuth
       * @example dropbox
       */
      kind: string;
      /**
       * @description Name of the new account; optional when accountId is given
       * @example My Dropbox
       */
      name?: string;
      /**
       * @description Connector options; clientId/clientSecret default to the server configuration
       * @example {
       *       "clientId": "abc123"
       *     }
       */
      options?: Record<string, never>;
      /** @description Re-authenticate this existing account instead */
      accountId?: string;
    };
    AuthorizeUrlView: {
      /** @description The provider's consent page: open it in the browser */
      authorizeUrl: string;
    };
    ICloudSignInDto: {
      /**
       * @description Optional when accountId is given
       * @example Family photos
       */
      name?: string;
      /**
       * @description Optional when accountId is given
       * @example me@icloud.com
       */
      appleId?: string;
      /** @description Apple ID password; never returned nor logged */
      password: string;
      /** @description Other iCloud Photos options (see GET /api/connectors) */
      options?: Record<string, never>;
      /** @description Sign this existing account in again */
      accountId?: string;
      /**
       * @description Keep the password sealed in the vault so runs can sign in again without you
       * @default true
       */
      rememberPassword: boolean;
    };
    ICloudSignInView: {
      /** @enum {string} */
      state: 'connected' | 'needs-code';
      account: components['schemas']['AccountView'];
    };
    ICloudCodeDto: {
      /** @example 123456 */
      code: string;
    };
    FilterDto: {
      /** @enum {string} */
      mode: 'all' | 'include' | 'exclude';
      /** @description Extensions, case-insensitive: a list or one comma-separated string ("jpg, heic, mov") */
      extensions?: string[] | string;
    };
    ScheduleDto: {
      /** @enum {string} */
      kind: 'none' | 'daily' | 'weekly' | 'monthly' | 'cron';
      /**
       * @description HH:MM local time (daily, weekly, monthly)
       * @example 02:30
       */
      time?: string;
      /**
       * @description weekly: mon..sun
       * @example [
       *       "mon",
       *       "thu"
       *     ]
       */
      weekdays?: string[];
      /** @description monthly; a day the month lacks runs on its last day */
      dayOfMonth?: number;
      /**
       * @description cron: five fields
       * @example 30 2 * * 1-5
       */
      cron?: string;
      /**
       * @description IANA time zone
       * @example Europe/Berlin
       */
      timezone?: string;
    };
    NotificationsDto: {
      /**
       * @example [
       *       "me@example.com"
       *     ]
       */
      emails?: string[];
      /** @enum {string} */
      on?: 'failure' | 'completion' | 'always';
      /** @example https://hooks.example.com/backup */
      webhookUrl?: Record<string, never> | null;
    };
    DeletionGuardDto: {
      /**
       * @description false turns the guard off for this task
       * @default true
       */
      enabled: boolean;
      /**
       * @description hold a version when more than this percent of the files went away...
       * @default 50
       */
      percent: number;
      /**
       * @description ...and more than this many files
       * @default 20
       */
      minFiles: number;
      /**
       * @description count changed files with the deleted ones
       * @default true
       */
      countChanged: boolean;
      /**
       * @description hold when the source lists nothing where it held files
       * @default true
       */
      holdWhenEmptied: boolean;
    };
    VerifySettingsDto: {
      /**
       * @description percent of the stored copies read back and compared by SHA-256
       * @default 0
       */
      readPercent: number;
      /**
       * @description read every file back after writing it and compare its SHA-256, on targets that report no hash (local, WebDAV, SFTP)
       * @default false
       */
      readBackAfterWrite: boolean;
      /** @description when verify runs start on their own */
      schedule?: components['schemas']['ScheduleDto'] | null;
    };
    CreateTaskDto: {
      /** @example Photos to the NAS */
      name: string;
      sourceAccountId: string;
      /**
       * @description Folder in the source account ('' = its root)
       * @example Photos
       */
      sourcePath?: string;
      targetAccountId: string;
      /** @example Backups/Photos */
      targetPath?: string;
      filter?: components['schemas']['FilterDto'];
      /** @description Files transferred at the same time */
      concurrency?: number;
      enabled?: boolean;
      /** @description true: no scheduled runs (the same switch as enabled=false) */
      paused?: boolean;
      schedule?: components['schemas']['ScheduleDto'];
      /** @description After downtime, run a missed slot once at start-up */
      catchUp?: boolean;
      notifications?: components['schemas']['NotificationsDto'];
      /** @description null puts the defaults back */
      deletionGuard?: components['schemas']['DeletionGuardDto'] | null;
      verify?: components['schemas']['VerifySettingsDto'];
    };
    TaskFilterView: {
      /** @enum {string} */
      mode: 'all' | 'include' | 'exclude';
      extensions: string[];
    };
    RetentionView: {
      keepLast?: number;
      keepDaily?: number;
      keepWeekly?: number;
      keepMonthly?: number;
    };
    ScheduleView: {
      /** @enum {string} */
      kind: 'none' | 'daily' | 'weekly' | 'monthly' | 'cron';
      /** @example 02:30 */
      time?: string;
      weekdays?: string[];
      dayOfMonth?: number;
      cron?: string;
      /** @example Europe/Paris */
      timezone?: string;
      /** @description Monthly schedules: what a day past the month end means */
      monthEndRule?: string;
      /** @description What a time skipped or repeated by a DST change means */
      dstRule?: string;
    };
    NotificationsView: {
      emails: string[];
      /** @example failure */
      on: string;
      webhookUrl: string | null;
    };
    DeletionGuardView: {
      enabled: boolean;
      percent: number;
      minFiles: number;
      countChanged: boolean;
      holdWhenEmptied: boolean;
    };
    TaskVerifyView: {
      readPercent: number;
      readBackAfterWrite: boolean;
      schedule: components['schemas']['ScheduleView'];
      /** @description Single task answers only: the next verify runs (ISO 8601 with offset) */
      nextRuns?: string[];
    };
    TaskView: {
      id: string;
      name: string;
      sourceAccountId: string;
      sourcePath: string;
      targetAccountId: string;
      targetPath: string;
      filter: components['schemas']['TaskFilterView'];
      concurrency: number;
      retention: components['schemas']['RetentionView'] | null;
      enabled: boolean;
      /** @description The same switch as enabled, inverted */
      paused: boolean;
      schedule: components['schemas']['ScheduleView'];
      catchUp: boolean;
      notifications: components['schemas']['NotificationsView'];
      deletionGuard: components['schemas']['DeletionGuardView'];
      verify: components['schemas']['TaskVerifyView'];
      /** Format: date-time */
      createdAt: string;
      /** Format: date-time */
      updatedAt: string;
      /** @description Single task answers only (not the list): the next scheduled runs */
      nextRuns?: string[];
    };
    UpdateTaskDto: {
      /** @example Photos to the NAS */
      name?: string;
      sourceAccountId?: string;
      /**
       * @description Folder in the source account ('' = its root)
       * @example Photos
       */
      sourcePath?: string;
      targetAccountId?: string;
      /** @example Backups/Photos */
      targetPath?: string;
      filter?: components['schemas']['FilterDto'];
      /** @description Files transferred at the same time */
      concurrency?: number;
      enabled?: boolean;
      /** @description true: no scheduled runs (the same switch as enabled=false) */
      paused?: boolean;
      schedule?: components['schemas']['ScheduleDto'];
      /** @description After downtime, run a missed slot once at start-up */
      catchUp?: boolean;
      notifications?: components['schemas']['NotificationsDto'];
      /** @description null puts the defaults back */
      deletionGuard?: components['schemas']['DeletionGuardDto'] | null;
      verify?: components['schemas']['VerifySettingsDto'];
    };
    RunDestinationView: {
      accountId: string;
      path: string;
    };
    RunParamsView: {
      versionId?: string;
      paths?: string[];
      destination?: components['schemas']['RunDestinationView'];
      /** @enum {string} */
      conflict?: 'overwrite' | 'skip-identical' | 'keep-both';
      readPercent?: number;
    };
    RunView: {
      id: string;
      taskId: string;
      /** @enum {string} */
      kind: 'backup' | 'restore' | 'prune' | 'verify';
      /** @enum {string} */
      trigger: 'manual' | 'schedule' | 'catch-up';
      /** @enum {string} */
      status:
        | 'queued'
        | 'running'
        | 'completed'
        | 'warning'
        | 'failed'
        | 'offline'
        | 'cancelled'
        | 'skipped';
      /** @enum {string} */
      phase: 'queued' | 'planning' | 'transferring' | 'committing' | 'paused' | 'done';
      filesTotal: number;
      filesCopied: number;
      filesUnchanged: number;
      filesFiltered: number;
      filesFailed: number;
      bytesTotal: number;
      bytesCopied: number;
      bytesUnchanged: number;
      retries: number;
      versionId: string | null;
      params: components['schemas']['RunParamsView'] | null;
      errorMessage: string | null;
      /** Format: date-time */
      scheduledFor?: string | null;
      /** Format: date-time */
      createdAt: string;
      /** Format: date-time */
      startedAt: string | null;
      /** Format: date-time */
      finishedAt: string | null;
      durationMs: number | null;
    };
    VersionView: {
      id: string;
      taskId: string;
      runId: string;
      seq: number;
      /** @enum {string} */
      status: 'running' | 'partial' | 'complete' | 'held' | 'discarded' | 'damaged';
      storageFolder: string;
      manifestPath: string | null;
      fileCount: number;
      totalBytes: number;
      /** Format: date-time */
      createdAt: string;
      /** Format: date-time */
      completedAt: string | null;
      statusReason: string | null;
      skippedCount: number;
      /** Format: date-time */
      verifiedAt: string | null;
    };
    RunEventView: {
      id: number;
      runId: string;
      /** @enum {string} */
      level: 'error' | 'retry' | 'warning' | 'info';
      path: string | null;
      code: string | null;
      message: string;
      /** Format: date-time */
      at: string;
    };
    ApprovalVersionView: {
      id: string;
      seq: number;
      status: string;
    };
    ApprovalPreviewView: {
      policy: components['schemas']['RetentionView'] | null;
      versions: components['schemas']['ApprovalVersionView'][];
      files: number;
      bytes: number;
    };
    VersionFileView: {
      path: string;
      size: number;
      sha256: string;
      /** Format: date-time */
      modifiedAt: string | null;
      /** @description Where the bytes are on the target */
      storedPath: string;
      storedInVersion: number;
    };
    VersionFilesView: {
      files: components['schemas']['VersionFileView'][];
      /** @description afterId of the next page */
      nextAfterId: number | null;
    };
    ScheduleRulesView: {
      monthEnd: string;
      dst: string;
    };
    SchedulePreviewView: {
      schedule: components['schemas']['ScheduleView'];
      /** @description ISO 8601 with the zone offset */
      nextRuns: string[];
      rules: components['schemas']['ScheduleRulesView'];
    };
    SmtpView: {
      /** @enum {string} */
      source: 'settings' | 'environment' | 'none';
      host: string | null;
      port: number | null;
      /** @enum {string|null} */
      tls: 'none' | 'starttls' | 'tls' | null;
      user: string | null;
      from: string | null;
      /** @description The password itself is never returned */
      hasPassword: boolean;
    };
    SmtpSettingsDto: {
      /** @example smtp.example.com */
      host: string;
      /**
       * @description default: 465 for tls, else 587
       * @example 587
       */
      port?: number;
      /**
       * @default starttls
       * @enum {string}
       */
      tls: 'none' | 'starttls' | 'tls';
      user?: Record<string, never> | null;
      /** @description Stored sealed, never returned; omit to keep the stored one, null to remove it */
      password?: Record<string, never> | null;
      /** @example Backups <backup@example.com> */
      from: string;
    };
    SmtpTestDto: {
      /**
       * @example [
       *       "me@example.com"
       *     ]
       */
      to: string[];
    };
    SmtpTestView: {
      sent: boolean;
      to: string[];
    };
    RestoreDestinationDto: {
      /** @description Account to restore into */
      accountId: string;
      /** @description Folder in that account ('' = its root) */
      path?: string;
    };
    RestoreDto: {
      /** @description Files or folders of the version; none = the whole version */
      paths?: string[];
      /** @description Default: the original account and folder */
      destination?: components['schemas']['RestoreDestinationDto'];
      /**
       * @default skip-identical
       * @enum {string}
       */
      conflict: 'overwrite' | 'skip-identical' | 'keep-both';
    };
    TreeFileView: {
      name: string;
      path: string;
      size: number;
      sha256: string;
      /** Format: date-time */
      modifiedAt: string | null;
      /** @description The seq of the version that stored these bytes */
      storedInVersion: number;
    };
    VersionTreeView: {
      path: string;
      folders: string[];
      files: components['schemas']['TreeFileView'][];
      truncated: boolean;
    };
    VersionDiffView: {
      added: string[];
      changed: string[];
      deleted: string[];
    };
    RetentionDto: {
      keepLast?: number;
      keepDaily?: number;
      keepWeekly?: number;
      keepMonthly?: number;
    };
    TaskRetentionView: {
      retention: components['schemas']['RetentionView'] | null;
    };
    PruneVersionView: {
      id: string;
      seq: number;
      status: string;
      /** Format: date-time */
      createdAt: string;
    };
    PrunePreviewView: {
      policy: components['schemas']['RetentionView'] | null;
      versions: components['schemas']['PruneVersionView'][];
      files: number;
      bytes: number;
    };
    VerifyDto: {
      /**
       * @description Share of the stored copies read back and compared by SHA-256 (0-100).
       * @default 0
       */
      readPercent: number;
    };
    ImportLedgerDto: {
      /** @description Account that holds the backup (its manifests) */
      targetAccountId: string;
      /** @description Folder of the backup on that account */
      targetPath?: string;
      /** @description Account the backup was taken from (where a restore goes back to) */
      sourceAccountId: string;
      sourcePath?: string;
      name?: string;
    };
    LocalRootsDto: {
      /**
       * @description Folders non-admin users may use for local accounts; {user} is the username, name=/path one user only
       * @example [
       *       "/srv/backups/{user}",
       *       "alice=/home/alice/backup"
       *     ]
       */
      roots: string[];
    };
    ProtectedVersionView: {
      versionId: string;
      seq: number;
      runId: string;
      /** Format: date-time */
      completedAt: string | null;
      fileCount: number;
      totalBytes: number;
    };
    HeldVersionView: {
      id: string;
      seq: number;
      /** Format: date-time */
      createdAt: string;
    };
    RunOutcomeView: {
      id: string;
      /** @enum {string} */
      kind: 'backup' | 'restore' | 'prune' | 'verify';
      /** @enum {string} */
      status:
        | 'queued'
        | 'running'
        | 'completed'
        | 'warning'
        | 'failed'
        | 'offline'
        | 'cancelled'
        | 'skipped';
      /** Format: date-time */
      createdAt: string;
      /** Format: date-time */
      finishedAt: string | null;
    };
    TaskHealthView: {
      task: components['schemas']['TaskView'];
      lastBackup: components['schemas']['RunView'] | null;
      lastVerify: components['schemas']['RunView'] | null;
      lastSuccess: components['schemas']['ProtectedVersionView'] | null;
      /** Format: date-time */
      nextRun: string | null;
      heldVersions: components['schemas']['HeldVersionView'][];
      storedBytes: number;
      recentRuns: components['schemas']['RunOutcomeView'][];
    };
    TargetUsageView: {
      accountId: string;
      storedBytes: number;
      taskIds: string[];
    };
    DashboardView: {
      tasks: components['schemas']['TaskHealthView'][];
      targets: components['schemas']['TargetUsageView'][];
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  HealthController_health: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  HealthController_connectors: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ConnectorInfoView'][];
        };
      };
    };
  };
  AuthController_session: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SessionView'];
        };
      };
    };
  };
  AuthController_setup: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['SetupDto'];
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SignedInView'];
        };
      };
    };
  };
  AuthController_login: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['LoginDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['LoginView'];
        };
      };
    };
  };
  AuthController_logout: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  AuthController_password: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ChangePasswordDto'];
      };
    };
    responses: {
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  UsersController_list: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['UserView'][];
        };
      };
    };
  };
  UsersController_create: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CreateUserDto'];
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['UserView'];
        };
      };
    };
  };
  UsersController_remove: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  TokensController_list: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TokenView'][];
        };
      };
    };
  };
  TokensController_create: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CreateTokenDto'];
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['CreatedTokenView'];
        };
      };
    };
  };
  TokensController_remove: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  AccountsController_list: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AccountView'][];
        };
      };
    };
  };
  AccountsController_create: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CreateAccountDto'];
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AccountView'];
        };
      };
    };
  };
  AccountsController_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AccountView'];
        };
      };
    };
  };
  AccountsController_remove: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  AccountsController_update: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['UpdateAccountDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AccountView'];
        };
      };
    };
  };
  AccountsController_browse: {
    parameters: {
      query?: {
        /** @description Folder to list ('' = the account's root) */
        path?: string;
      };
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['EntryView'][];
        };
      };
    };
  };
  ConnectController_connect: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['StartConnectDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AuthorizeUrlView'];
        };
      };
    };
  };
  ConnectController_authorize: {
    parameters: {
      query?: {
        /** @description Name of the new account */
        name?: string;
        /** @description Re-authenticate this existing account instead */
        accountId?: string;
      };
      header?: never;
      path: {
        kind: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  ConnectController_callback: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  ConnectController_signIn: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ICloudSignInDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ICloudSignInView'];
        };
      };
    };
  };
  ConnectController_submitCode: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ICloudCodeDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ICloudSignInView'];
        };
      };
    };
  };
  ConnectController_requestCode: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ICloudSignInView'];
        };
      };
    };
  };
  TasksController_list: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TaskView'][];
        };
      };
    };
  };
  TasksController_create: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CreateTaskDto'];
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TaskView'];
        };
      };
    };
  };
  TasksController_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TaskView'];
        };
      };
    };
  };
  TasksController_remove: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  TasksController_update: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['UpdateTaskDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TaskView'];
        };
      };
    };
  };
  TasksController_run: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunView'];
        };
      };
    };
  };
  TasksController_versionsOf: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['VersionView'][];
        };
      };
    };
  };
  RunsController_list: {
    parameters: {
      query?: {
        taskId?: string;
        limit?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunView'][];
        };
      };
    };
  };
  RunsController_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunView'];
        };
      };
    };
  };
  RunsController_events: {
    parameters: {
      query?: {
        level?: 'error' | 'retry' | 'warning' | 'info';
        afterId?: number;
        limit?: number;
      };
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunEventView'][];
        };
      };
    };
  };
  RunsController_cancel: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunView'];
        };
      };
    };
  };
  RunsController_pause: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunView'];
        };
      };
    };
  };
  RunsController_resume: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunView'];
        };
      };
    };
  };
  RunStreamController_stream: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  VersionsController_approve: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['VersionView'];
        };
      };
    };
  };
  VersionsController_approvePreview: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ApprovalPreviewView'];
        };
      };
    };
  };
  VersionsController_discard: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['VersionView'];
        };
      };
    };
  };
  VersionsController_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['VersionView'];
        };
      };
    };
  };
  VersionsController_files: {
    parameters: {
      query?: {
        /** @description Only files under this folder of the version */
        prefix?: string;
        afterId?: number;
        limit?: number;
      };
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['VersionFilesView'];
        };
      };
    };
  };
  VersionsController_thumbnail: {
    parameters: {
      query: {
        /** @description The file in the version, e.g. "2024/IMG_0001.jpg" */
        path: string;
        /** @description Longest side */
        size?: number;
      };
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  SchedulesController_preview: {
    parameters: {
      query: {
        kind: 'none' | 'daily' | 'weekly' | 'monthly' | 'cron';
        time?: string;
        weekdays?: string;
        dayOfMonth?: number;
        cron?: string;
        timezone?: string;
        count?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SchedulePreviewView'];
        };
      };
    };
  };
  SettingsController_getSmtp: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SmtpView'];
        };
      };
    };
  };
  SettingsController_putSmtp: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['SmtpSettingsDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SmtpView'];
        };
      };
    };
  };
  SettingsController_testSmtp: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['SmtpTestDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SmtpTestView'];
        };
      };
    };
  };
  RestoreController_restore: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['RestoreDto'];
      };
    };
    responses: {
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunView'];
        };
      };
    };
  };
  RestoreController_tree: {
    parameters: {
      query?: {
        /** @description Folder of the version ('' = its root) */
        path?: string;
      };
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['VersionTreeView'];
        };
      };
    };
  };
  RestoreController_diff: {
    parameters: {
      query: {
        /** @description The other version to compare with */
        against: string;
      };
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['VersionDiffView'];
        };
      };
    };
  };
  RetentionController_retention: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['RetentionDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TaskRetentionView'];
        };
      };
    };
  };
  RetentionController_prunePreview: {
    parameters: {
      query?: {
        keepLast?: number;
        keepDaily?: number;
        keepWeekly?: number;
        keepMonthly?: number;
      };
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PrunePreviewView'];
        };
      };
    };
  };
  RetentionController_prune: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunView'];
        };
      };
    };
  };
  VerifyController_verifyVersion: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['VerifyDto'];
      };
    };
    responses: {
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunView'];
        };
      };
    };
  };
  VerifyController_verifyTask: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['VerifyDto'];
      };
    };
    responses: {
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunView'];
        };
      };
    };
  };
  VerifyController_verifyTarget: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['VerifyDto'];
      };
    };
    responses: {
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunView'][];
        };
      };
    };
  };
  LedgerController_importLedger: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ImportLedgerDto'];
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  SecuritySettingsController_get: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  SecuritySettingsController_put: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['LocalRootsDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  SecuritySettingsController_reset: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  DashboardController_overview: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DashboardView'];
        };
      };
    };
  };
  DashboardController_runs: {
    parameters: {
      query?: {
        taskId?: string;
        kind?: 'backup' | 'restore' | 'prune' | 'verify';
        status?:
          | 'queued'
          | 'running'
          | 'completed'
          | 'warning'
          | 'failed'
          | 'offline'
          | 'cancelled'
          | 'skipped';
        /** @description Runs created at or after this instant (ISO 8601) */
        from?: string;
        /** @description Runs created before this instant (ISO 8601) */
        to?: string;
        limit?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunView'][];
        };
      };
    };
  };
  HealthController_live: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The process is up */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  HealthController_ready: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Database (migrated), Redis in a cluster and DATA_DIR are fine */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description A check failed; `error` says which and why */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  HealthController_accounts: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  MetricsController_scrape: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Prometheus text format 0.0.4 */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': string;
        };
      };
    };
  };
}
