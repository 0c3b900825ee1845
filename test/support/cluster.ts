import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname ?? '.', '..', '..');
/** Inside node_modules so the compiled files resolve the project's packages. */
const OUT = join(ROOT, 'node_modules', '.cache', `cbe-cluster-${process.pid}`);

let built: string | undefined;

/**
 * Transpiles src/ and the worker entry to JavaScript (no type check: `npm run lint` does that),
 * so the cluster tests can run real worker processes in a second or two.
 */
export function buildClusterWorker(): string {
  if (built) return built;
  const files = [
    ...walk(join(ROOT, 'src')),
    ...['cluster-worker.ts', 'slow-local-connector.ts', 'faulty-connector.ts'].map((f) =>
      join(ROOT, 'test', 'support', f),
    ),
  ];
  for (const file of files) {
    const out = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: {
        target: ts.ScriptTarget.ES2023,
        module: ts.ModuleKind.ES2022,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        esModuleInterop: true,
      },
    });
    const dest = join(OUT, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, out.outputText);
  }
  writeFileSync(join(OUT, 'package.json'), '{"type":"module"}\n');
  built = join(OUT, 'test', 'support', 'cluster-worker.js');
  return built;
}

export function removeClusterBuild(): void {
  rmSync(OUT, { recursive: true, force: true });
  built = undefined;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return walk(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Run ids this worker started executing, from its log. */
  executed(): string[];
  kill(signal: NodeJS.Signals): Promise<void>;
}

export async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const entry = buildClusterWorker();
  const child = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env: { ...process.env, ...env, ROLE: 'worker' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  for (let i = 0; !out.includes('worker ready'); i++) {
    if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}:\n${out}`);
    if (i > 600) throw new Error(`worker did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    output: () => out,
    executed: () => [...out.matchAll(/executing run ([0-9a-f-]{36})/g)].map((m) => m[1]!),
    kill: async (signal) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}
