import type { Connector } from '../connectors/connector.js';
import type { RetryEvent } from '../connectors/pacer/pacer.js';

/** Opens connectors for accounts; the engine never knows which concrete cloud it talks to. */
export interface ConnectorProvider {
  open(accountId: string, opts: { onRetry?: (e: RetryEvent) => void }): Promise<Connector>;
  noteConnectorFailure(accountId: string, error: unknown): Promise<void>;
  noteConnectorSuccess(accountId: string): Promise<void>;
}
