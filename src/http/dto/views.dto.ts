import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

// The shapes of the API's answers, for the OpenAPI document only (the controllers build them with
// the functions of ../views.ts and the services). test/e2e/openapi.e2e-spec.ts checks that every
// property a real answer carries is described here, so the two cannot drift apart silently.

const DATE = { type: String, format: 'date-time' } as const;
const RUN_STATUSES = [
  'queued',
  'running',
  'completed',
  'warning',
  'failed',
  'offline',
  'cancelled',
  'skipped',
];
const RUN_KINDS = ['backup', 'restore', 'prune', 'verify'];

export class AccountView {
  @ApiProperty() id!: string;
  @ApiProperty({ example: 'local' }) kind!: string;
  @ApiProperty() name!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
    description: 'The connector options; secrets are never included',
  })
  options!: Record<string, string | number | boolean>;
  @ApiProperty({ enum: ['connected', 'needs-reauth', 'awaiting-code', 'error'] })
  state!: 'connected' | 'needs-reauth' | 'awaiting-code' | 'error';
  @ApiProperty({ type: String, nullable: true }) stateMessage!: string | null;
  @ApiProperty(DATE) createdAt!: string;
  @ApiProperty(DATE) updatedAt!: string;
}

export class EntryView {
  @ApiProperty() path!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['file', 'folder'] }) kind!: 'file' | 'folder';
  @ApiPropertyOptional() size?: number;
  @ApiPropertyOptional(DATE) modifiedAt?: string;
}

export class TaskFilterView {
  @ApiProperty({ enum: ['all', 'include', 'exclude'] }) mode!: 'all' | 'include' | 'exclude';
  @ApiProperty({ type: [String] }) extensions!: string[];
}

export class RetentionView {
  @ApiPropertyOptional() keepLast?: number;
  @ApiPropertyOptional() keepDaily?: number;
  @ApiPropertyOptional() keepWeekly?: number;
  @ApiPropertyOptional() keepMonthly?: number;
}

export class ScheduleView {
  @ApiProperty({ enum: ['none', 'daily', 'weekly', 'monthly', 'cron'] })
  kind!: 'none' | 'daily' | 'weekly' | 'monthly' | 'cron';
  @ApiPropertyOptional({ example: '02:30' }) time?: string;
  @ApiPropertyOptional({ type: [String] }) weekdays?: string[];
  @ApiPropertyOptional() dayOfMonth?: number;
  @ApiPropertyOptional() cron?: string;
  @ApiPropertyOptional({ example: 'Europe/Paris' }) timezone?: string;
  @ApiPropertyOptional({ description: 'Monthly schedules: what a day past the month end means' })
  monthEndRule?: string;
  @ApiPropertyOptional({ description: 'What a time skipped or repeated by a DST change means' })
  dstRule?: string;
}

export class NotificationsView {
  @ApiProperty({ type: [String] }) emails!: string[];
  @ApiProperty({ example: 'failure' }) on!: string;
  @ApiProperty({ type: String, nullable: true }) webhookUrl!: string | null;
}

export class DeletionGuardView {
  @ApiProperty() enabled!: boolean;
  @ApiProperty() percent!: number;
  @ApiProperty() minFiles!: number;
  @ApiProperty() countChanged!: boolean;
  @ApiProperty() holdWhenEmptied!: boolean;
}

export class TaskVerifyView {
  @ApiProperty() readPercent!: number;
  @ApiProperty() readBackAfterWrite!: boolean;
  @ApiProperty({ type: ScheduleView }) schedule!: ScheduleView;
  @ApiPropertyOptional({
    type: [String],
    description: 'Single task answers only: the next verify runs (ISO 8601 with offset)',
  })
  nextRuns?: string[];
}

export class TaskView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() sourceAccountId!: string;
  @ApiProperty() sourcePath!: string;
  @ApiProperty() targetAccountId!: string;
  @ApiProperty() targetPath!: string;
  @ApiProperty({ type: TaskFilterView }) filter!: TaskFilterView;
  @ApiProperty() concurrency!: number;
  @ApiProperty({ type: RetentionView, nullable: true }) retention!: RetentionView | null;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ description: 'The same switch as enabled, inverted' }) paused!: boolean;
  @ApiProperty({ type: ScheduleView }) schedule!: ScheduleView;
  @ApiProperty() catchUp!: boolean;
  @ApiProperty({ type: NotificationsView }) notifications!: NotificationsView;
  @ApiProperty({ type: DeletionGuardView }) deletionGuard!: DeletionGuardView;
  @ApiProperty({ type: TaskVerifyView }) verify!: TaskVerifyView;
  @ApiProperty(DATE) createdAt!: string;
  @ApiProperty(DATE) updatedAt!: string;
  @ApiPropertyOptional({
    type: [String],
    description: 'Single task answers only (not the list): the next scheduled runs',
  })
  nextRuns?: string[];
}

export class RunDestinationView {
  @ApiProperty() accountId!: string;
  @ApiProperty() path!: string;
}

/** What a restore or verify run was asked to do. */
export class RunParamsView {
  @ApiPropertyOptional() versionId?: string;
  @ApiPropertyOptional({ type: [String] }) paths?: string[];
  @ApiPropertyOptional({ type: RunDestinationView }) destination?: RunDestinationView;
  @ApiPropertyOptional({ enum: ['overwrite', 'skip-identical', 'keep-both'] })
  conflict?: 'overwrite' | 'skip-identical' | 'keep-both';
  @ApiPropertyOptional() readPercent?: number;
}

export class RunView {
  @ApiProperty() id!: string;
  @ApiProperty() taskId!: string;
  @ApiProperty({ enum: RUN_KINDS }) kind!: 'backup' | 'restore' | 'prune' | 'verify';
  @ApiProperty({ enum: ['manual', 'schedule', 'catch-up'] })
  trigger!: 'manual' | 'schedule' | 'catch-up';
  @ApiProperty({ enum: RUN_STATUSES })
  status!:
    'queued' | 'running' | 'completed' | 'warning' | 'failed' | 'offline' | 'cancelled' | 'skipped';
  @ApiProperty({ enum: ['queued', 'planning', 'transferring', 'committing', 'paused', 'done'] })
  phase!: 'queued' | 'planning' | 'transferring' | 'committing' | 'paused' | 'done';
  @ApiProperty() filesTotal!: number;
  @ApiProperty() filesCopied!: number;
  @ApiProperty() filesUnchanged!: number;
  @ApiProperty() filesFiltered!: number;
  @ApiProperty() filesFailed!: number;
  @ApiProperty() bytesTotal!: number;
  @ApiProperty() bytesCopied!: number;
  @ApiProperty() bytesUnchanged!: number;
  @ApiProperty() retries!: number;
  @ApiProperty({ type: String, nullable: true }) versionId!: string | null;
  @ApiProperty({ type: RunParamsView, nullable: true }) params!: RunParamsView | null;
  @ApiProperty({ type: String, nullable: true }) errorMessage!: string | null;
  @ApiPropertyOptional({ ...DATE, nullable: true }) scheduledFor?: string | null;
  @ApiProperty(DATE) createdAt!: string;
  @ApiProperty({ ...DATE, nullable: true }) startedAt!: string | null;
  @ApiProperty({ ...DATE, nullable: true }) finishedAt!: string | null;
  @ApiProperty({ type: Number, nullable: true }) durationMs!: number | null;
}

export class VersionView {
  @ApiProperty() id!: string;
  @ApiProperty() taskId!: string;
  @ApiProperty() runId!: string;
  @ApiProperty() seq!: number;
  @ApiProperty({ enum: ['running', 'partial', 'complete', 'held', 'discarded', 'damaged'] })
  status!: 'running' | 'partial' | 'complete' | 'held' | 'discarded' | 'damaged';
  @ApiProperty() storageFolder!: string;
  @ApiProperty({ type: String, nullable: true }) manifestPath!: string | null;
  @ApiProperty() fileCount!: number;
  @ApiProperty() totalBytes!: number;
  @ApiProperty(DATE) createdAt!: string;
  @ApiProperty({ ...DATE, nullable: true }) completedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) statusReason!: string | null;
  @ApiProperty() skippedCount!: number;
  @ApiProperty({ ...DATE, nullable: true }) verifiedAt!: string | null;
}

export class RunOutcomeView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: RUN_KINDS }) kind!: 'backup' | 'restore' | 'prune' | 'verify';
  @ApiProperty({ enum: RUN_STATUSES }) status!: RunView['status'];
  @ApiProperty(DATE) createdAt!: string;
  @ApiProperty({ ...DATE, nullable: true }) finishedAt!: string | null;
}

export class ProtectedVersionView {
  @ApiProperty() versionId!: string;
  @ApiProperty() seq!: number;
  @ApiProperty() runId!: string;
  @ApiProperty({ ...DATE, nullable: true }) completedAt!: string | null;
  @ApiProperty() fileCount!: number;
  @ApiProperty() totalBytes!: number;
}

export class HeldVersionView {
  @ApiProperty() id!: string;
  @ApiProperty() seq!: number;
  @ApiProperty(DATE) createdAt!: string;
}

export class TaskHealthView {
  @ApiProperty({ type: TaskView }) task!: TaskView;
  @ApiProperty({ type: RunView, nullable: true }) lastBackup!: RunView | null;
  @ApiProperty({ type: RunView, nullable: true }) lastVerify!: RunView | null;
  @ApiProperty({ type: ProtectedVersionView, nullable: true })
  lastSuccess!: ProtectedVersionView | null;
  @ApiProperty({ ...DATE, nullable: true }) nextRun!: string | null;
  @ApiProperty({ type: [HeldVersionView] }) heldVersions!: HeldVersionView[];
  @ApiProperty() storedBytes!: number;
  @ApiProperty({ type: [RunOutcomeView] }) recentRuns!: RunOutcomeView[];
}

export class TargetUsageView {
  @ApiProperty() accountId!: string;
  @ApiProperty() storedBytes!: number;
  @ApiProperty({ type: [String] }) taskIds!: string[];
}

export class DashboardView {
  @ApiProperty({ type: [TaskHealthView] }) tasks!: TaskHealthView[];
  @ApiProperty({ type: [TargetUsageView] }) targets!: TargetUsageView[];
}

export class UserSummaryView {
  @ApiProperty() id!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ enum: ['admin', 'user'] }) role!: 'admin' | 'user';
}

export class SessionView {
  @ApiProperty() setupRequired!: boolean;
  @ApiPropertyOptional({
    description: 'While setup is required: whether the token from the engine log is needed',
  })
  setupTokenRequired?: boolean;
  @ApiProperty({ type: UserSummaryView, nullable: true }) user!: UserSummaryView | null;
  @ApiProperty({ type: String, nullable: true }) csrfToken!: string | null;
}

export class SignedInView {
  @ApiProperty({ type: UserSummaryView }) user!: UserSummaryView;
  @ApiProperty() csrfToken!: string;
}

export class LoginView extends SignedInView {
  @ApiProperty({ description: 'Where to go next: a local path' }) redirect!: string;
}

export class UserView extends UserSummaryView {
  @ApiProperty(DATE) createdAt!: string;
}

export class TokenView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty(DATE) createdAt!: string;
  @ApiProperty({ ...DATE, nullable: true }) lastUsedAt!: string | null;
}

export class CreatedTokenView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'The token itself (cbe_...): shown this once, never again' })
  token!: string;
  @ApiProperty(DATE) createdAt!: string;
}

export class RunEventView {
  @ApiProperty() id!: number;
  @ApiProperty() runId!: string;
  @ApiProperty({ enum: ['error', 'retry', 'warning', 'info'] })
  level!: 'error' | 'retry' | 'warning' | 'info';
  @ApiProperty({ type: String, nullable: true }) path!: string | null;
  @ApiProperty({ type: String, nullable: true }) code!: string | null;
  @ApiProperty() message!: string;
  @ApiProperty(DATE) at!: string;
}

export class VersionDiffView {
  @ApiProperty({ type: [String] }) added!: string[];
  @ApiProperty({ type: [String] }) changed!: string[];
  @ApiProperty({ type: [String] }) deleted!: string[];
}

export class TreeFileView {
  @ApiProperty() name!: string;
  @ApiProperty() path!: string;
  @ApiProperty() size!: number;
  @ApiProperty() sha256!: string;
  @ApiProperty({ ...DATE, nullable: true }) modifiedAt!: string | null;
  @ApiProperty({ description: 'The seq of the version that stored these bytes' })
  storedInVersion!: number;
}

export class VersionTreeView {
  @ApiProperty() path!: string;
  @ApiProperty({ type: [String] }) folders!: string[];
  @ApiProperty({ type: [TreeFileView] }) files!: TreeFileView[];
  @ApiProperty() truncated!: boolean;
}

export class VersionFileView {
  @ApiProperty() path!: string;
  @ApiProperty() size!: number;
  @ApiProperty() sha256!: string;
  @ApiProperty({ ...DATE, nullable: true }) modifiedAt!: string | null;
  @ApiProperty({ description: 'Where the bytes are on the target' }) storedPath!: string;
  @ApiProperty() storedInVersion!: number;
}

export class VersionFilesView {
  @ApiProperty({ type: [VersionFileView] }) files!: VersionFileView[];
  @ApiProperty({ type: Number, nullable: true, description: 'afterId of the next page' })
  nextAfterId!: number | null;
}

export class ApprovalVersionView {
  @ApiProperty() id!: string;
  @ApiProperty() seq!: number;
  @ApiProperty() status!: string;
}

export class ApprovalPreviewView {
  @ApiProperty({ type: RetentionView, nullable: true }) policy!: RetentionView | null;
  @ApiProperty({ type: [ApprovalVersionView] }) versions!: ApprovalVersionView[];
  @ApiProperty() files!: number;
  @ApiProperty() bytes!: number;
}

export class TaskRetentionView {
  @ApiProperty({ type: RetentionView, nullable: true }) retention!: RetentionView | null;
}

export class PruneVersionView extends ApprovalVersionView {
  @ApiProperty(DATE) createdAt!: string;
}

export class PrunePreviewView {
  @ApiProperty({ type: RetentionView, nullable: true }) policy!: RetentionView | null;
  @ApiProperty({ type: [PruneVersionView] }) versions!: PruneVersionView[];
  @ApiProperty() files!: number;
  @ApiProperty() bytes!: number;
}

export class ScheduleRulesView {
  @ApiProperty() monthEnd!: string;
  @ApiProperty() dst!: string;
}

export class SchedulePreviewView {
  @ApiProperty({ type: ScheduleView }) schedule!: ScheduleView;
  @ApiProperty({ type: [String], description: 'ISO 8601 with the zone offset' })
  nextRuns!: string[];
  @ApiProperty({ type: ScheduleRulesView }) rules!: ScheduleRulesView;
}

const OPTION_VALUE = { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] };

export class OptionSpecView {
  @ApiProperty() key!: string;
  @ApiProperty() label!: string;
  @ApiProperty() help!: string;
  @ApiProperty({ enum: ['string', 'number', 'boolean'] }) type!: 'string' | 'number' | 'boolean';
  @ApiPropertyOptional() required?: boolean;
  @ApiPropertyOptional(OPTION_VALUE) default?: string | number | boolean;
  @ApiPropertyOptional({ description: 'Stored encrypted, never returned' }) secret?: boolean;
  @ApiPropertyOptional() advanced?: boolean;
  @ApiPropertyOptional({ type: [String] }) choices?: string[];
  @ApiPropertyOptional({ enum: ['local-folder', 'server-url', 'server-host', 'admin-endpoint'] })
  target?: 'local-folder' | 'server-url' | 'server-host' | 'admin-endpoint';
}

export class CapabilitiesView {
  @ApiProperty({ type: [String], description: 'Hash kinds the cloud reports' }) hashes!: string[];
  @ApiPropertyOptional() verifiesWrites?: string;
  @ApiProperty() rangedReads!: boolean;
  @ApiProperty() changeFeed!: boolean;
  @ApiProperty() serverSideCopy!: boolean;
  @ApiProperty() writable!: boolean;
  @ApiPropertyOptional() readOnlyReason?: string;
  @ApiProperty() preservesModifiedTime!: boolean;
  @ApiPropertyOptional() maxFileSize?: number;
  @ApiPropertyOptional() uploadChunkSize?: number;
  @ApiPropertyOptional() listPageSize?: number;
}

export class ConnectorInfoView {
  @ApiProperty({ example: 'local' }) kind!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: [OptionSpecView] }) options!: OptionSpecView[];
  @ApiProperty({ type: CapabilitiesView }) capabilities!: CapabilitiesView;
  @ApiProperty({ description: 'Connected by signing in with the provider (OAuth)' })
  oauth!: boolean;
}

export class SmtpView {
  @ApiProperty({ enum: ['settings', 'environment', 'none'] })
  source!: 'settings' | 'environment' | 'none';
  @ApiProperty({ type: String, nullable: true }) host!: string | null;
  @ApiProperty({ type: Number, nullable: true }) port!: number | null;
  @ApiProperty({ enum: ['none', 'starttls', 'tls'], nullable: true })
  tls!: 'none' | 'starttls' | 'tls' | null;
  @ApiProperty({ type: String, nullable: true }) user!: string | null;
  @ApiProperty({ type: String, nullable: true }) from!: string | null;
  @ApiProperty({ description: 'The password itself is never returned' }) hasPassword!: boolean;
}

export class SmtpTestView {
  @ApiProperty() sent!: boolean;
  @ApiProperty({ type: [String] }) to!: string[];
}

export class AuthorizeUrlView {
  @ApiProperty({ description: "The provider's consent page: open it in the browser" })
  authorizeUrl!: string;
}

export class ICloudSignInView {
  @ApiProperty({ enum: ['connected', 'needs-code'] }) state!: 'connected' | 'needs-code';
  @ApiProperty({ type: AccountView }) account!: AccountView;
}
