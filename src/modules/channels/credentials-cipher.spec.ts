import { randomBytes } from 'node:crypto';
import { CredentialsCipher } from 'src/modules/channels/credentials-cipher';

describe('CredentialsCipher', () => {
  const cipher = new CredentialsCipher(randomBytes(32));

  it('round-trips credentials and never stores them in clear', () => {
    const env = cipher.encrypt('ch-1', { appId: 'wx123', appSecret: 's3cr3t' });
    expect(env).not.toContain('s3cr3t');
    expect(env).not.toContain(Buffer.from('s3cr3t').toString('base64'));
    expect(cipher.decrypt('ch-1', env)).toEqual({ appId: 'wx123', appSecret: 's3cr3t' });
  });

  it('uses a fresh IV each time', () => {
    expect(cipher.encrypt('ch-1', { a: 1 })).not.toBe(cipher.encrypt('ch-1', { a: 1 }));
  });

  it('refuses a ciphertext moved to another channel, tampered, or under another key', () => {
    const env = cipher.encrypt('ch-1', { secret: 'x' });
    expect(() => cipher.decrypt('ch-2', env)).toThrow();
    const parts = env.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => cipher.decrypt('ch-1', parts.join('.'))).toThrow();
    expect(() => new CredentialsCipher(randomBytes(32)).decrypt('ch-1', env)).toThrow();
  });
});
