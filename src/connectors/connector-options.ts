import type {
  ConnectorConfig,
  ConnectorDescriptor,
  ConnectorSecrets,
  ConnectorSettings,
  OptionSpec,
} from './connector-descriptor.js';

export class InvalidOptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'InvalidOptionsError';
  }
}

/**
 * Checks raw account settings against a connector's option schema: unknown keys, missing required
 * ones and wrong types are reported together, each naming the key. Defaults fill the gaps.
 * Secrets are split from plain config so they can go to the vault.
 */
export function validateConnectorOptions(
  descriptor: ConnectorDescriptor,
  input: Record<string, unknown>,
  previous?: ConnectorSettings,
): ConnectorSettings {
  const problems: string[] = [];
  const config: ConnectorConfig = {};
  const secrets: ConnectorSecrets = {};
  const known = new Map(descriptor.options.map((o) => [o.key, o]));
  for (const key of Object.keys(input)) {
    if (!known.has(key)) problems.push(`options.${key} is not an option of '${descriptor.kind}'`);
  }
  for (const spec of descriptor.options) {
    const raw = input[spec.key];
    const kept = spec.secret ? previous?.secrets[spec.key] : previous?.config[spec.key];
    const value = raw === undefined || raw === '' ? (kept ?? spec.default) : raw;
    if (value === undefined) {
      if (spec.required) problems.push(`options.${spec.key} is required (${spec.label})`);
      continue;
    }
    const problem = typeProblem(spec, value);
    if (problem) {
      problems.push(`options.${spec.key} ${problem}`);
      continue;
    }
    if (spec.secret) secrets[spec.key] = String(value);
    else config[spec.key] = value as string | number | boolean;
  }
  if (problems.length > 0) throw new InvalidOptionsError(problems);
  // Secrets that are not user options (OAuth tokens) survive an update untouched.
  for (const [k, v] of Object.entries(previous?.secrets ?? {})) if (!(k in secrets)) secrets[k] = v;
  return { config, secrets };
}

function typeProblem(spec: OptionSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      if (spec.choices && !spec.choices.includes(value)) {
        return `must be one of ${spec.choices.join(', ')}`;
      }
      return undefined;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a number';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
  }
}

/** Config with secrets masked, for API answers and logs. */
export function publicOptions(
  descriptor: ConnectorDescriptor,
  settings: ConnectorSettings,
): ConnectorConfig {
  const out: ConnectorConfig = { ...settings.config };
  for (const spec of descriptor.options) {
    if (spec.secret && settings.secrets[spec.key] !== undefined) out[spec.key] = '********';
  }
  return out;
}
