import { INestApplication, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { ApiModule } from 'src/api.module';
import {
  AllExceptionsFilter,
  bodyParserErrors,
  jsonShapeLimit,
} from 'src/common/http-exception.filter';
import { assignRequestId, openRequestContext } from 'src/common/request-context';
import { createValidationPipe } from 'src/common/validation';
import { AppConfig } from 'src/config/app-config';

export const API_PREFIX = 'api/v1';

/** Builds the HTTP application (not yet listening): used by main.ts and by the e2e tests alike. */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.set('trust proxy', config.trustProxy);
  app.use(assignRequestId);
  // No upgrade-insecure-requests: installs on a campus network often serve plain HTTP internally.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.enableCors({ origin: config.corsOrigins, exposedHeaders: ['x-request-id', 'Retry-After'] });
  app.useBodyParser('json', { limit: config.bodyLimit });
  app.useBodyParser('text', { limit: config.bodyLimit, type: 'text/plain' });
  app.use(bodyParserErrors);
  app.use(jsonShapeLimit);
  app.use(openRequestContext);
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      'health',
      { path: 'sites/{*rest}', method: RequestMethod.GET },
      { path: 'media/{*rest}', method: RequestMethod.GET },
    ],
  });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());
  app.enableShutdownHooks();
  setupOpenApi(app);
  return app;
}

function setupOpenApi(app: INestApplication): void {
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Sanshen Gateway')
      .setDescription(
        '三审 publishing gateway: review first, publish after; every decision on record.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, doc);
}
