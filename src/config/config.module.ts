import { Global, Module, type DynamicModule } from '@nestjs/common';
import { systemClock, type Clock } from '../common/clock.js';
import { APP_CONFIG, CLOCK } from '../tokens.js';
import type { AppConfig } from './app-config.js';

/** The validated configuration and the clock, for every module (`@Inject(APP_CONFIG)`, `CLOCK`). */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig, clock: Clock = systemClock): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: CLOCK, useValue: clock },
      ],
      exports: [APP_CONFIG, CLOCK],
    };
  }
}
