import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ConnectorRegistry } from './connector.registry.js';

/** The registry of connector kinds (tests add their own, such as a slow local connector). */
@Global()
@Module({})
export class ConnectorsModule {
  static forRoot(registry: ConnectorRegistry = new ConnectorRegistry()): DynamicModule {
    return {
      module: ConnectorsModule,
      providers: [{ provide: ConnectorRegistry, useValue: registry }],
      exports: [ConnectorRegistry],
    };
  }
}
