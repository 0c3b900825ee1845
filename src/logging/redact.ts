/**
 * Keeps secrets out of log lines. Three layers, because a secret can reach a line three ways:
 * as a field (`{ password }`: the key says so), inside a message (`Bearer cbe_...`, a URL with
 * `user:pass@` or `?access_token=`: the shape says so), or as a value the engine knows from its
 * configuration (SMTP_PASSWORD, SECRET_KEY, ...: the exact text is replaced wherever it appears).
 */
const SECRET_KEY_NAME =
  /pass(word|phrase)?$|secret|token|authorization|cookie|api[-_]?key|access[-_]?key|credential|session[-_]?id|private[-_]?key|signature/i;

const MASK = '[redacted]';

const MESSAGE_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // Authorization headers and bare API tokens of this engine.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, `$1 ${MASK}`],
  [/\bcbe_[A-Za-z0-9_-]{8,}/g, MASK],
  // user:password@ in URLs (DATABASE_URL, REDIS_URL, webhook URLs).
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^@\s/]*@/gi, `$1:${MASK}@`],
  // Secret-looking query parameters and key=value pairs.
  [
    /\b(access_token|refresh_token|id_token|token|code|state|password|passwd|secret|client_secret|api_key|apikey|key|signature|X-Amz-Signature|X-Amz-Credential)=([^&\s"']+)/gi,
    `$1=${MASK}`,
  ],
  // AWS access key ids.
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, MASK],
];

/** Replaces secrets in a string; `known` are exact values (8+ characters) to mask. */
export function redactText(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const value of known) if (value.length >= 8) out = out.split(value).join(MASK);
  for (const [re, by] of MESSAGE_PATTERNS) out = out.replace(re, by);
  return out;
}

/** A copy of `value` with secret-named keys masked and strings scrubbed (depth-limited). */
export function redactValue(value: unknown, known: readonly string[] = [], depth = 0): unknown {
  if (typeof value === 'string') return redactText(value, known);
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (value instanceof Error) {
    const code = (value as Error & { code?: unknown }).code;
    return {
      type: value.name,
      message: redactText(value.message, known),
      stack: value.stack ? redactText(value.stack, known) : undefined,
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, known, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      SECRET_KEY_NAME.test(k) && v !== undefined && v !== null && v !== ''
        ? MASK
        : redactValue(v, known, depth + 1);
  }
  return out;
}
