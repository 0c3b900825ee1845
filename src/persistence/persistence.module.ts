import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config.js';
import { Database } from './database.js';
import { dataSourceOptions } from './data-source-options.js';

/** The database (SQLite embedded, PostgreSQL in a cluster) and its transaction helper. */
@Global()
@Module({})
export class PersistenceModule {
  static forRoot(config: DatabaseConfig): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [TypeOrmModule.forRootAsync({ useFactory: () => dataSourceOptions(config) })],
      providers: [
        {
          provide: Database,
          useFactory: (ds: DataSource) => new Database(ds),
          inject: [DataSource],
        },
      ],
      exports: [Database],
    };
  }
}
