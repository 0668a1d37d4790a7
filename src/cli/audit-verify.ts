import 'reflect-metadata';
import { createPublicKey, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig } from 'src/config/app-config';
import { ConfigError } from 'src/config/environment';
import { dataSourceOptions } from 'src/database/data-source-options';
import { parseCheckpointDocument, publicKeyOf } from 'src/modules/audit/checkpoint-signature';
import {
  describeCheckpointVerification,
  verifyCheckpointFile,
} from 'src/modules/audit/checkpoint-verify';

/**
 * `npm run audit:verify -- --checkpoint FILE [--public-key PEMFILE]`: checks a
 * saved checkpoint's signature and recomputes the audit chain of DATABASE_URL
 * against it. Exit 0: intact; 1: tampering found; 2: could not check.
 */
function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

class UsageError extends Error {}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function readPublicKey(path: string): KeyObject {
  try {
    return publicKeyOf(createPublicKey(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new UsageError(
      `cannot read a public key from ${path}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

async function main(): Promise<number> {
  const file = argValue('checkpoint');
  if (!file) {
    throw new UsageError('usage: npm run audit:verify -- --checkpoint FILE [--public-key PEMFILE]');
  }
  const checkpoint = parseCheckpointDocument(readJson(file));
  const keyFile = argValue('public-key');
  const config = AppConfig.fromEnv();
  const [publicKey, keySource] = keyFile
    ? [readPublicKey(keyFile), `public key file ${resolve(keyFile)}`]
    : [
        publicKeyOf(config.auditSigningKey),
        process.env.AUDIT_SIGNING_KEY
          ? 'public half of AUDIT_SIGNING_KEY'
          : `public half of ${join(config.dataDir, 'audit-signing-key.pem')}`,
      ];
  const ds = new DataSource(dataSourceOptions(config.database));
  await ds.initialize();
  try {
    const result = await verifyCheckpointFile(ds, checkpoint, publicKey);
    process.stdout.write(describeCheckpointVerification(result, keySource).join('\n') + '\n');
    return result.ok ? 0 : 1;
  } finally {
    await ds.destroy();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const label =
      e instanceof ConfigError
        ? 'Configuration error'
        : e instanceof UsageError
          ? 'audit:verify'
          : 'audit:verify failed';
    process.stderr.write(`${label}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
