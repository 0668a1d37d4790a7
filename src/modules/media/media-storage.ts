import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';

/**
 * Where the bytes of stored media live, by digest. Files under DATA_DIR/media today; an
 * S3-compatible bucket would be another implementation of these two calls.
 */
export abstract class MediaStorage {
  /** Stores the bytes under their digest; storing the same digest again is a no-op. */
  abstract put(sha256: string, ext: string, bytes: Buffer): Promise<void>;
  /** The bytes, or null when nothing is stored under that digest. */
  abstract get(sha256: string, ext: string): Promise<Buffer | null>;
}

export class FileMediaStorage extends MediaStorage {
  constructor(private readonly dir: string) {
    super();
  }

  private path(sha256: string, ext: string): string {
    return join(this.dir, sha256.slice(0, 2), `${sha256}.${ext}`);
  }

  async put(sha256: string, ext: string, bytes: Buffer): Promise<void> {
    const path = this.path(sha256, ext);
    await mkdir(dirname(path), { recursive: true });
    // Written aside and renamed, so a reader never sees half a file under a digest.
    const tmp = `${path}.${randomUUID()}.tmp`;
    await writeFile(tmp, bytes, { mode: 0o640 });
    await rename(tmp, path);
  }

  async get(sha256: string, ext: string): Promise<Buffer | null> {
    try {
      return await readFile(this.path(sha256, ext));
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return null;
      throw err;
    }
  }
}

/** For specs: the same contract in memory. */
export class MemoryMediaStorage extends MediaStorage {
  readonly files = new Map<string, Buffer>();

  put(sha256: string, ext: string, bytes: Buffer): Promise<void> {
    this.files.set(`${sha256}.${ext}`, Buffer.from(bytes));
    return Promise.resolve();
  }

  get(sha256: string, ext: string): Promise<Buffer | null> {
    return Promise.resolve(this.files.get(`${sha256}.${ext}`) ?? null);
  }
}
