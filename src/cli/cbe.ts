import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ValidationAppError, AppError } from '../common/errors/app-errors.js';
import { ConfigError, loadConfig } from '../config/app-config.js';
import { loadCliEnv, processEnv } from '../config/cli-config.js';
import { CONFIG_VARIABLES } from '../config/config-variables.js';
import { ApiClient } from './api-client.js';
import { CliError, EXIT, EXIT_CODES_HELP, type ExitCode } from './exit-codes.js';
import { formatBytes, formatDuration, formatTable } from './format.js';
import { generatePassword, LocalAdmin } from './local-admin.js';
import { exitCodeOfRun, summarizeRun, watchRun, type RunView } from './run-watch.js';

/** Where the CLI writes; tests pass buffers. */
export interface CliIo {
  out: { write(text: string): void; isTTY: boolean };
  err: { write(text: string): void };
  readStdin(): Promise<string>;
  env: Record<string, string | undefined>;
}

interface GlobalOpts {
  url?: string;
  token?: string;
  json?: boolean;
}

interface Account {
  id: string;
  kind: string;
  name: string;
  state?: string;
}
interface Task {
  id: string;
  name: string;
  sourceAccountId: string;
  sourcePath: string;
  targetAccountId: string;
  targetPath: string;
  enabled: boolean;
  schedule: { kind: string };
}
interface Version {
  id: string;
  seq: number;
  status: string;
  createdAt: string;
  completedAt?: string | null;
  fileCount?: number;
  totalBytes?: number;
}

const processIo = (): CliIo => ({
  out: { write: (t) => process.stdout.write(t), isTTY: process.stdout.isTTY === true },
  err: { write: (t) => process.stderr.write(t) },
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  env: processEnv(),
});

/** `cbe`: runs one command and returns its exit code (bin/cbe.js exits with it). */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<ExitCode> {
  const { program, exitCode } = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return exitCode();
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; a bad command line with 2.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { message, code } = describeError(e);
    io.err.write(`cbe: ${message}\n`);
    return code;
  }
}

function describeError(e: unknown): { message: string; code: ExitCode } {
  if (e instanceof CliError) return { message: e.message, code: e.exitCode };
  if (e instanceof ConfigError) return { message: e.problems.join('; '), code: EXIT.usage };
  if (e instanceof ValidationAppError) return { message: e.message, code: EXIT.usage };
  if (e instanceof AppError) {
    const code = e.status === 404 ? EXIT.notFound : e.status === 409 ? EXIT.conflict : EXIT.failed;
    return { message: e.message, code };
  }
  return { message: e instanceof Error ? e.message : String(e), code: EXIT.failed };
}

function buildProgram(io: CliIo): { program: Command; exitCode: () => ExitCode } {
  const env = loadCliEnv(io.env);
  let exitCode: ExitCode = EXIT.ok;
  const program = new Command('cbe')
    .description('Command line for the cloud backup engine: talks to a running engine over its API')
    .version(readVersion())
    .option('--url <url>', 'engine address (env CBE_URL; default http://localhost:3000)')
    .option('--token <token>', 'API token, Settings > API tokens (env CBE_TOKEN)')
    .option('--json', 'print JSON instead of text')
    .addHelpText('after', `\n${EXIT_CODES_HELP}\n`)
    .exitOverride()
    .showHelpAfterError('(cbe --help lists the commands)')
    .configureOutput({
      writeOut: (s) => io.out.write(s),
      writeErr: (s) => io.err.write(s),
    });
  const globals = () => program.opts<GlobalOpts>();
  const api = () => {
    const g = globals();
    const url = g.url ?? env.url ?? 'http://localhost:3000';
    return new ApiClient(url.replace(/\/$/, ''), g.token ?? env.token);
  };
  const print = (json: unknown, text: () => string) =>
    io.out.write(globals().json ? `${JSON.stringify(json, null, 2)}\n` : text());
  const setExit = (code: ExitCode) => (exitCode = code);
  const inherit = (cmd: Command) =>
    cmd.exitOverride().configureOutput({
      writeOut: (s) => io.out.write(s),
      writeErr: (s) => io.err.write(s),
    });

  // --- accounts ---
  const accounts = inherit(program.command('accounts').description('connected clouds'));
  inherit(accounts.command('list').description('list the connected accounts')).action(async () => {
    const rows = await api().get<Account[]>('/api/accounts');
    print(rows, () =>
      formatTable(
        ['ID', 'KIND', 'NAME', 'STATE'],
        rows.map((a) => [a.id, a.kind, a.name, a.state ?? '']),
      ),
    );
  });

  // --- tasks ---
  const tasks = inherit(program.command('tasks').description('backup tasks'));
  inherit(tasks.command('list').description('list the backup tasks')).action(async () => {
    const rows = await api().get<Task[]>('/api/tasks');
    print(rows, () =>
      formatTable(
        ['ID', 'NAME', 'SCHEDULE', 'PAUSED', 'TARGET'],
        rows.map((t) => [t.id, t.name, t.schedule.kind, t.enabled ? 'no' : 'yes', t.targetPath]),
      ),
    );
  });
  inherit(tasks.command('show <taskId>').description('a task with its next runs')).action(
    async (id: string) => {
      const t = await api().get<Task>(`/api/tasks/${enc(id)}`);
      print(t, () => `${JSON.stringify(t, null, 2)}\n`);
    },
  );
  inherit(
    tasks
      .command('run <taskId>')
      .description('start a backup now ("Run now")')
      .option('-w, --watch', 'follow the run until it ends; the exit code says how it ended'),
  ).action(async (id: string, o: { watch?: boolean }) => {
    const run = await api().post<RunView>(`/api/tasks/${enc(id)}/run`);
    if (!o.watch) {
      print(run, () => `run ${run.id} ${run.status}\n`);
      return;
    }
    if (!globals().json) io.out.write(`run ${run.id} ${run.status}\n`);
    setExit(await follow(run.id));
  });
  for (const [name, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    inherit(
      tasks
        .command(`${name} <taskId>`)
        .description(paused ? 'stop scheduled runs' : 'resume scheduled runs'),
    ).action(async (id: string) => {
      const t = await api().patch<Task>(`/api/tasks/${enc(id)}`, { paused });
      print(t, () => `task ${t.id} ${paused ? 'paused' : 'resumed'}\n`);
    });
  }

  // --- runs ---
  const follow = async (runId: string): Promise<ExitCode> => {
    const run = await watchRun(api(), runId, io.out, { json: Boolean(globals().json) });
    if (globals().json) io.out.write(`${JSON.stringify(run, null, 2)}\n`);
    return exitCodeOfRun(run);
  };
  const runs = inherit(program.command('runs').description('backup, restore and prune runs'));
  inherit(
    runs
      .command('list')
      .description('the latest runs')
      .option('--task <taskId>', 'only this task')
      .option('--limit <n>', 'how many', '20'),
  ).action(async (o: { task?: string; limit: string }) => {
    const rows = await api().get<RunView[]>('/api/runs', { taskId: o.task, limit: o.limit });
    print(rows, () =>
      formatTable(
        ['ID', 'KIND', 'STATUS', 'STARTED', 'DURATION', 'FILES', 'BYTES'],
        rows.map((r) => [
          r.id,
          r.kind,
          r.status,
          r.startedAt,
          r.durationMs === null ? null : formatDuration(r.durationMs),
          r.filesCopied,
          formatBytes(r.bytesCopied),
        ]),
      ),
    );
  });
  inherit(runs.command('show <runId>').description('one run: status, counts, error')).action(
    async (id: string) => {
      const r = await api().get<RunView>(`/api/runs/${enc(id)}`);
      print(r, () => summarizeRun(r));
      setExit(exitCodeOfRun(r));
    },
  );
  inherit(
    runs
      .command('watch <runId>')
      .description('a live progress bar until the run ends; exits 1 if it failed'),
  ).action(async (id: string) => {
    setExit(await follow(id));
  });
  // A run in another state than the verb needs answers 409: exit 6 (conflict), unknown ids exit 5.
  for (const [verb, description, done] of [
    ['pause', 'hold a running run between files (the files in flight finish)', 'pausing'],
    ['resume', 'let a paused run go on', 'resumed'],
    ['cancel', 'stop a queued or running run (the version stays partial)', 'cancelled'],
  ] as const) {
    inherit(runs.command(`${verb} <runId>`).description(description)).action(async (id: string) => {
      const r = await api().post<RunView>(`/api/runs/${enc(id)}/${verb}`);
      print(r, () => `run ${r.id} ${done}\n`);
    });
  }

  // --- versions ---
  const versions = inherit(program.command('versions').description("a task's versions"));
  inherit(versions.command('list <taskId>').description('the versions of a task')).action(
    async (taskId: string) => {
      const rows = await api().get<Version[]>(`/api/tasks/${enc(taskId)}/versions`);
      print(rows, () =>
        formatTable(
          ['ID', 'SEQ', 'STATUS', 'CREATED', 'FILES', 'BYTES'],
          rows.map((v) => [
            v.id,
            v.seq,
            v.status,
            v.createdAt,
            v.fileCount ?? null,
            v.totalBytes === undefined ? null : formatBytes(v.totalBytes),
          ]),
        ),
      );
    },
  );
  inherit(
    versions
      .command('files <versionId>')
      .description('the files a version holds')
      .option('--prefix <folder>', 'only under this folder'),
  ).action(async (id: string, o: { prefix?: string }) => {
    const all: Array<{ path: string; size: number; sha256: string }> = [];
    let afterId: number | undefined;
    for (;;) {
      const page = await api().get<{
        files: Array<{ path: string; size: number; sha256: string }>;
        nextAfterId?: number | null;
      }>(`/api/versions/${enc(id)}/files`, { prefix: o.prefix, afterId, limit: 1000 });
      all.push(...page.files);
      if (!page.nextAfterId || page.files.length === 0) break;
      afterId = page.nextAfterId;
    }
    print(all, () =>
      formatTable(
        ['SIZE', 'SHA-256', 'PATH'],
        all.map((f) => [formatBytes(f.size), f.sha256.slice(0, 12), f.path]),
      ),
    );
  });
  inherit(
    versions
      .command('diff <versionId>')
      .description('what was added, changed and deleted since an older version')
      .requiredOption('--against <olderVersionId>', 'the older version'),
  ).action(async (id: string, o: { against: string }) => {
    const d = await api().get<Record<string, unknown>>(`/api/versions/${enc(id)}/diff`, {
      against: o.against,
    });
    print(d, () => formatDiff(d));
  });

  // --- restore, verify, import ---
  inherit(
    program
      .command('restore <versionId>')
      .description('restore a version (or some of its paths) and follow the run')
      .option('--path <path...>', 'files or folders of the version (default: all of it)')
      .option('--to-account <accountId>', 'destination account (default: where they came from)')
      .option('--to-path <folder>', 'destination folder in that account', '')
      .addOption(
        new Option('--conflict <policy>', 'when a file exists at the destination')
          .choices(['overwrite', 'skip-identical', 'keep-both'])
          .default('skip-identical'),
      )
      .option('--no-watch', 'return once the restore is queued'),
  ).action(
    async (
      id: string,
      o: { path?: string[]; toAccount?: string; toPath: string; conflict: string; watch: boolean },
    ) => {
      const body = {
        paths: o.path,
        conflict: o.conflict,
        ...(o.toAccount ? { destination: { accountId: o.toAccount, path: o.toPath } } : {}),
      };
      const run = await api().post<RunView>(`/api/versions/${enc(id)}/restore`, body);
      if (!o.watch) {
        print(run, () => `restore run ${run.id} ${run.status}\n`);
        return;
      }
      if (!globals().json) io.out.write(`restore run ${run.id} ${run.status}\n`);
      setExit(await follow(run.id));
    },
  );
  inherit(
    program
      .command('verify <taskId>')
      .description("check a task's latest version on its target against the ledger")
      .option('--no-watch', 'return once the verify run is queued'),
  ).action(async (id: string, o: { watch: boolean }) => {
    const client = api();
    // Whatever the parameter is called: /api/tasks/{id}/verify, /api/tasks/{taskId}/verify.
    const path = await client.findPath(/^\/api\/tasks\/\{[^}]+\}\/verify$/, 'post');
    const route = path?.replace(/\{[^}]+\}/, enc(id));
    if (!route)
      throw new CliError(
        'verify is not available on this engine (it has no verify runs yet)',
        EXIT.unavailable,
      );
    const run = await client.post<RunView>(route);
    if (!o.watch) {
      print(run, () => `verify run ${run.id} ${run.status}\n`);
      return;
    }
    if (!globals().json) io.out.write(`verify run ${run.id} ${run.status}\n`);
    setExit(await follow(run.id));
  });
  inherit(
    program
      .command('import')
      .description('rebuild a task and its versions from the manifests on a backup target')
      .requiredOption('--target-account <accountId>', 'the account holding the backups')
      .option('--target-path <folder>', 'the backup folder in it', '')
      .requiredOption('--source-account <accountId>', 'the account the task backs up'),
  ).action(async (o: { targetAccount: string; targetPath: string; sourceAccount: string }) => {
    const r = await api().post<{ task: Task; versions: Version[]; records: number }>(
      '/api/ledger/import',
      {
        targetAccountId: o.targetAccount,
        targetPath: o.targetPath,
        sourceAccountId: o.sourceAccount,
      },
    );
    print(
      r,
      () =>
        `task ${r.task.id} '${r.task.name}': ${r.versions.length} versions, ${r.records} records imported\n`,
    );
  });

  // --- local administration (no engine needed) ---
  const users = inherit(
    program
      .command('users')
      .description(
        "admin recovery on the engine's database (DATABASE_URL / DATA_DIR), no engine needed",
      ),
  );
  const readPassword = async (o: { passwordStdin?: boolean }) => {
    if (!o.passwordStdin) return { password: generatePassword(), generated: true };
    const password = (await io.readStdin()).replace(/\r?\n$/, '');
    return { password, generated: false };
  };
  inherit(
    users
      .command('add <username>')
      .description('create a user (a generated password is printed unless --password-stdin)')
      .addOption(
        new Option('--role <role>', 'admin or user').choices(['admin', 'user']).default('user'),
      )
      .option('--password-stdin', 'read the password from standard input'),
  ).action(async (username: string, o: { role: 'admin' | 'user'; passwordStdin?: boolean }) => {
    const { password, generated } = await readPassword(o);
    const admin = await LocalAdmin.open(loadConfig(io.env));
    try {
      const user = await admin.addUser(username, password, o.role);
      print({ ...user, ...(generated ? { password } : {}) }, () =>
        generated
          ? `user '${user.username}' (${user.role}) created; password: ${password}\n`
          : `user '${user.username}' (${user.role}) created\n`,
      );
    } finally {
      await admin.close();
    }
  });
  inherit(
    users
      .command('reset-password <username>')
      .description('set a new password and sign the user out everywhere')
      .option('--password-stdin', 'read the new password from standard input'),
  ).action(async (username: string, o: { passwordStdin?: boolean }) => {
    const { password, generated } = await readPassword(o);
    const admin = await LocalAdmin.open(loadConfig(io.env));
    try {
      await admin.resetPassword(username, password);
      print({ username, ...(generated ? { password } : {}) }, () =>
        generated
          ? `password of '${username}' reset; new password: ${password}\n`
          : `password of '${username}' reset\n`,
      );
    } finally {
      await admin.close();
    }
  });
  const config = inherit(program.command('config').description("the engine's configuration"));
  inherit(
    config
      .command('check')
      .description('validate the environment as the engine would and show every variable'),
  ).action(() => {
    const rows = CONFIG_VARIABLES.map((v) => {
      const raw = io.env[v.name];
      const value = raw === undefined || raw === '' ? undefined : v.secret ? '(set)' : raw;
      return { name: v.name, value: value ?? null, default: v.default, secret: Boolean(v.secret) };
    });
    let problems: string[] = [];
    try {
      loadConfig(io.env);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems = e.problems;
    }
    print({ ok: problems.length === 0, problems, variables: rows }, () => {
      const table = formatTable(
        ['VARIABLE', 'VALUE'],
        rows.map((r) => [r.name, r.value ?? `(default: ${r.default || 'none'})`]),
      );
      const verdict =
        problems.length === 0
          ? 'configuration OK\n'
          : problems.map((p) => `problem: ${p}\n`).join('');
      return table + '\n' + verdict;
    });
    if (problems.length > 0) setExit(EXIT.usage);
  });
  return { program, exitCode: () => exitCode };
}

function formatDiff(d: Record<string, unknown>): string {
  const lines: string[] = [];
  for (const [key, sign] of [
    ['added', '+'],
    ['changed', '~'],
    ['deleted', '-'],
  ] as const) {
    const list = d[key];
    if (!Array.isArray(list)) continue;
    for (const f of list as Array<{ path?: string } | string>)
      lines.push(`${sign} ${typeof f === 'string' ? f : (f.path ?? JSON.stringify(f))}`);
  }
  return lines.length ? lines.join('\n') + '\n' : 'no differences\n';
}

const enc = encodeURIComponent;

function readVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
    ) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
