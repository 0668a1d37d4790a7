import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CliModule } from 'src/cli/cli.module';
import { AppConfig } from 'src/config/app-config';
import { ConfigError } from 'src/config/environment';
import { UsersService } from 'src/modules/users/users.service';

/**
 * `npm run admin:create -- --username NAME`: creates the first administrator on
 * any database (or resets that user's password and gives it the admin role).
 * The password comes from ADMIN_PASSWORD, else it is asked on the terminal.
 */
function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

async function askHidden(prompt: string): Promise<string> {
  if (!process.stdin.isTTY)
    throw new Error('ADMIN_PASSWORD is not set and there is no terminal to ask on');
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stdout.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  process.stdout.write(prompt);
  muted = true;
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stdout.write('\n');
  return answer;
}

async function main(): Promise<void> {
  const username = argValue('username');
  if (!username || !/^[A-Za-z0-9_.-]{3,64}$/.test(username)) {
    throw new Error('usage: npm run admin:create -- --username NAME (3-64 letters, digits, _ . -)');
  }
  const password = process.env.ADMIN_PASSWORD ?? (await askHidden(`Password for ${username}: `));
  if (password.length < 10) throw new Error('the password must be at least 10 characters');
  const config = AppConfig.fromEnv({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(config), {
    logger: ['error'],
  });
  try {
    const { user, created } = await app.get(UsersService).ensureAdmin(username, password);
    process.stdout.write(
      `${created ? 'Created administrator' : 'Reset password and admin role of'} ${user.username} (${user.id})\n`,
    );
  } finally {
    await app.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(
    `${e instanceof ConfigError ? 'Configuration error' : 'admin:create failed'}: ${e instanceof Error ? e.message : String(e)}\n`,
  );
  process.exit(1);
});
