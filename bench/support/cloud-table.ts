/**
 * One entry per cloud the round-trip benchmark can drive: how to turn what its emulator host
 * reports into the engine's account options, and which option is the product's chunk size.
 * Adding a cloud is one entry here (plus its case in emulator-host.ts).
 */
import { CONNECTOR_DESCRIPTORS } from '../../src/connectors/connector.registry.js';
import type { EmulatorKind } from './emulator-host.js';

export interface CloudBenchEntry {
  kind: Exclude<EmulatorKind, 'icloud-photos'>;
  /** The option whose product default sets the bytes per upload request. */
  chunkOption: string;
  accountOptions(info: Record<string, unknown>): Record<string, unknown>;
}

type Creds = Record<string, string | number | undefined>;

export const CLOUD_BENCH_ENTRIES: readonly CloudBenchEntry[] = [
  {
    kind: 'dropbox',
    chunkOption: 'uploadChunkSize',
    accountOptions: (info) => {
      const c = info.credentials as Creds;
      const h = info.hosts as Record<string, string>;
      return {
        clientId: c.clientId,
        clientSecret: c.clientSecret,
        refreshToken: c.refreshToken,
        accessToken: c.accessToken,
        accessTokenExpiresAt: c.accessTokenExpiresAt,
        apiBaseUrl: h.api,
        contentBaseUrl: h.content,
        notifyBaseUrl: h.notify,
        authorizeBaseUrl: h.www,
      };
    },
  },
  {
    kind: 'google-drive',
    chunkOption: 'uploadChunkSize',
    accountOptions: (info) => {
      const c = info.credentials as Creds;
      return {
        clientId: c.clientId,
        clientSecret: c.clientSecret,
        refreshToken: c.refreshToken,
        accessToken: c.accessToken,
        accessTokenExpiresAt: String(c.accessTokenExpiresAt),
        apiBaseUrl: c.apiBaseUrl,
        tokenUrl: c.tokenUrl,
        authorizeUrl: c.authorizeUrl,
        revokeUrl: c.revokeUrl,
      };
    },
  },
  {
    kind: 'onedrive',
    chunkOption: 'uploadFragmentSize',
    accountOptions: (info) => {
      const c = info.credentials as Creds;
      return {
        clientId: c.clientId,
        ...(c.clientSecret ? { clientSecret: c.clientSecret } : {}),
        tenant: 'common',
        graphBaseUrl: info.baseUrl,
        authorityBaseUrl: info.baseUrl,
        refreshToken: c.refreshToken,
        accessToken: c.accessToken,
        accessTokenExpiresAt: String(c.accessTokenExpiresAt),
      };
    },
  },
];

/** The entry for a cloud, or why it cannot run (not in the table, or not registered). */
export function cloudEntry(kind: string): CloudBenchEntry {
  const entry = CLOUD_BENCH_ENTRIES.find((e) => e.kind === kind);
  if (!entry) {
    throw new Error(
      `--cloud must be one of ${CLOUD_BENCH_ENTRIES.map((e) => e.kind).join(', ')} (got '${kind}')`,
    );
  }
  if (!CONNECTOR_DESCRIPTORS.some((d) => d.kind === kind)) {
    throw new Error(`the '${kind}' connector is not in src/connectors/connector.registry.ts yet`);
  }
  return entry;
}

/** The product default of an option of a registered connector (what an account gets). */
export function productDefault(kind: string, key: string): unknown {
  return CONNECTOR_DESCRIPTORS.find((d) => d.kind === kind)?.options.find((o) => o.key === key)
    ?.default;
}
