// Paging cursors: opaque strings that carry the listing (chain, group, need_pending) and the position,
// sealed with a per-server key (AES-GCM: encrypted, so clients cannot read or build one, and
// authenticated, so they cannot alter one). A cursor that was tampered with, made up, issued by
// another server instance or for another listing is refused (50100), as WeCom refuses stale cursors.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ListPosition } from './corp-index.ts';

export interface CursorState {
  chainId: string;
  groupid: number;
  needPending: boolean;
  position: ListPosition;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class CursorCodec {
  readonly #key: Buffer;

  constructor(key: Buffer = randomBytes(32)) {
    this.#key = key;
  }

  encode(state: CursorState): string {
    const { phase, seq } = state.position;
    const plain = `${phase}:${seq}:${state.needPending ? 1 : 0}:${state.groupid}:${state.chainId}`;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  decode(cursor: string): CursorState | null {
    if (cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
    const raw = Buffer.from(cursor, 'base64url');
    if (raw.length <= IV_BYTES + TAG_BYTES) return null;
    let plain: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      plain = Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
        decipher.final(),
      ]).toString();
    } catch {
      return null;
    }
    const m = /^([01]):(-?\d+):([01]):(\d+):(.*)$/s.exec(plain);
    if (!m) return null;
    return {
      position: { phase: m[1] === '1' ? 1 : 0, seq: Number(m[2]) },
      needPending: m[3] === '1',
      groupid: Number(m[4]),
      chainId: m[5]!,
    };
  }
}
