import { open, readFile, rename, rm } from 'node:fs/promises';
import { z } from 'zod';
import { lazySchema } from '../../devices/index.js';
import { TetherError } from '../../common/index.js';
import type { VerdictRecord } from './types.js';

/**
 * Where the state library keeps the last verdict between runs (issue 10). Narrow on purpose:
 * the SQLite edge store implements it; tests use the in-memory or the file store.
 */
export interface HealthStore {
  load(): Promise<VerdictRecord | undefined>;
  save(record: VerdictRecord): Promise<void>;
}

/** The persisted verdict could not be read back (it is then treated as absent by the start-up check). */
export class HealthStoreCorruptError extends TetherError {
  readonly code = 'HEALTH_STORE_CORRUPT';
}

const buildVerdictRecordSchema = () =>
  z.object({
    verdict: z.enum(['Healthy', 'Degraded', 'Unhealthy']),
    reasons: z.array(z.string()),
    statusString: z.string(),
    at: z.iso.datetime(),
  });
export const verdictRecordSchema = lazySchema(buildVerdictRecordSchema);

export class MemoryHealthStore implements HealthStore {
  record: VerdictRecord | undefined;
  saves = 0;
  constructor(initial?: VerdictRecord) {
    this.record = initial;
  }
  load(): Promise<VerdictRecord | undefined> {
    return Promise.resolve(this.record === undefined ? undefined : structuredClone(this.record));
  }
  save(record: VerdictRecord): Promise<void> {
    this.record = structuredClone(record);
    this.saves++;
    return Promise.resolve();
  }
}

/** One JSON file, replaced atomically (write + fsync a temp file, then rename) so a crash never leaves half a record. */
export class FileHealthStore implements HealthStore {
  constructor(readonly path: string) {}

  async load(): Promise<VerdictRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new HealthStoreCorruptError(`cannot read ${this.path}`, { cause: e });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new HealthStoreCorruptError(`${this.path} is not JSON`, { cause: e });
    }
    const parsed = verdictRecordSchema.safeParse(json);
    if (!parsed.success)
      throw new HealthStoreCorruptError(`${this.path}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }

  async save(record: VerdictRecord): Promise<void> {
    const tmp = `${this.path}.tmp-${process.pid}`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(record));
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }
}
