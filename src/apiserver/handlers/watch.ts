/**
 * WATCH: a stream of JSON lines `{type, object}` (apiserver/pkg/endpoints/handlers/watch.go).
 * From a resourceVersion (events after it), from "now with initial state" (unset/"0"), with
 * bookmarks, timeoutSeconds, an ERROR event with a 410 Expired Status when the revision was
 * compacted, and selector transitions mapped to ADDED/DELETED like the watch cache does.
 */
import { randomInt } from 'node:crypto';
import { Errors } from '../errors.js';
import { metaOf } from '../meta.js';
import { apiVersionOf, listPrefix, objectKey } from '../resources.js';
import { boolParam } from '../requestinfo.js';
import { negotiate, render, writeError } from '../respond.js';
import type { JsonObject, WatchEvent } from '../storage/types.js';
import { type HandlerContext, namespaceOf } from './context.js';
import { listObjects, parseListParams } from './list.js';

type Out = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: JsonObject };

export async function handleWatch(ctx: HandlerContext): Promise<void> {
  const form = negotiate(ctx.req, ctx.query);
  if (form === undefined) {
    writeError(ctx.res, Errors.notAcceptable(['application/json', 'application/json;stream=watch']));
    return;
  }
  const p = parseListParams(ctx);
  if (!p.ok) {
    writeError(ctx.res, p.error);
    return;
  }
  const { r, store } = ctx;
  const ns = namespaceOf(ctx);
  // A legacy /watch/.../name path or GET .../name?watch=1 watches one object.
  const single = ctx.info.name;
  const match =
    single === ''
      ? p.value.match
      : (o: JsonObject): boolean => metaOf(o)['name'] === single && p.value.match(o);
  const rvParam = ctx.query.get('resourceVersion') ?? '';
  const sendInitial = boolParam(ctx.query, 'sendInitialEvents');
  const bookmarks = boolParam(ctx.query, 'allowWatchBookmarks');
  let from: number;
  let initial: JsonObject[] = [];
  if (rvParam === '' || rvParam === '0' || sendInitial) {
    // "Get state and start at most recent": synthetic ADDED for what exists now.
    const page = listObjects(store, r, ns, {
      ...p.value,
      match,
      limit: 0,
      continueToken: undefined,
      revision: undefined,
    });
    if (!page.ok) {
      writeError(ctx.res, page.error);
      return;
    }
    initial = page.value.items;
    from = page.value.revision;
  } else {
    from = Number(rvParam);
    if (!Number.isInteger(from) || from < 0) {
      writeError(ctx.res, Errors.badRequest(`invalid resource version: ${rvParam}`));
      return;
    }
  }
  const prefix = single !== '' ? objectKey(r, ns, single) : listPrefix(r, ns);
  const w = store.storage.watch(prefix, { fromRevision: from, maxBuffered: ctx.watch.maxBuffered });
  ctx.res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  ctx.res.flushHeaders();
  const encode = (ev: Out): string => {
    let object = ev.object;
    if (form.kind !== 'object' && (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED'))
      object = render(r, form, [ev.object], undefined);
    return `${JSON.stringify({ type: ev.type, object })}\n`;
  };
  const send = async (ev: Out): Promise<void> => {
    if (ctx.res.destroyed || ctx.res.writableEnded) return;
    if (!ctx.res.write(encode(ev))) {
      // Backpressure: stop pulling events so the storage buffer fills and a watcher that
      // cannot keep up is closed ('SLOW'), never slowing writers or other watchers.
      await new Promise<void>((resolve) => {
        const done = (): void => {
          ctx.res.off('drain', done);
          ctx.res.off('close', done);
          resolve();
        };
        ctx.res.on('drain', done);
        ctx.res.on('close', done);
      });
    }
  };
  if (!w.ok) {
    const e =
      w.error.code === 'COMPACTED'
        ? Errors.expired(`too old resource version: ${from} (${store.storage.compactedRevision()})`)
        : store.storageError(r, '', w.error);
    await send({ type: 'ERROR', object: e.toStatus() });
    ctx.res.end();
    return;
  }
  const watcher = w.value;
  const stopCount = ctx.watch.onWatchStart();
  const bookmark = (rev: number, annotations?: JsonObject): Out => ({
    type: 'BOOKMARK',
    object: {
      kind: r.kind,
      apiVersion: apiVersionOf(r),
      metadata: { resourceVersion: String(rev), ...(annotations === undefined ? {} : { annotations }) },
    },
  });
  let lastSent = from;
  let idle = false;
  const timers: NodeJS.Timeout[] = [];
  const close = (): void => {
    watcher.close();
  };
  const timeoutRaw = ctx.query.get('timeoutSeconds');
  const min = ctx.watch.minRequestTimeoutSeconds;
  const timeoutS =
    timeoutRaw !== null && Number(timeoutRaw) > 0 ? Number(timeoutRaw) : min + randomInt(min + 1);
  timers.push(setTimeout(close, timeoutS * 1000));
  ctx.signal.addEventListener('abort', close, { once: true });
  ctx.res.on('close', close);
  // A watcher the store closed as too slow is cut off at once, even while blocked on a full
  // socket (upstream's cacher: "Forcing watcher close due to unresponsiveness").
  timers.push(
    setInterval(() => {
      if (watcher.closedReason === 'SLOW') {
        ctx.logger.warn({ resource: r.resource, user: ctx.user.name }, 'watch closed: consumer too slow');
        ctx.res.destroy();
      }
    }, 200),
  );
  if (bookmarks) {
    timers.push(
      setInterval(() => {
        // Only when the stream is idle is every event up to the store's revision delivered.
        const rev = idle ? Math.max(lastSent, watcher.progressRevision) : lastSent;
        void send(bookmark(rev));
      }, ctx.watch.bookmarkIntervalMs),
    );
  }
  try {
    for (const o of initial) await send({ type: 'ADDED', object: o });
    if (sendInitial && bookmarks) await send(bookmark(from, { 'k8s.io/initial-events-end': 'true' }));
    const it = watcher[Symbol.asyncIterator]();
    for (;;) {
      idle = true;
      const next = await it.next();
      idle = false;
      if (next.done === true) break;
      const out = translate(next.value, (so) => store.toApi(r, so), match);
      lastSent = eventRevision(next.value);
      if (out !== undefined) await send(out);
    }
    if (watcher.closedReason === 'SLOW') ctx.res.destroy();
  } finally {
    for (const t of timers) clearTimeout(t);
    ctx.signal.removeEventListener('abort', close);
    watcher.close();
    stopCount();
    if (!ctx.res.writableEnded) ctx.res.end();
  }
}

function eventRevision(ev: WatchEvent): number {
  return ev.object.modRevision;
}

/** Selector transitions: entering the selection is ADDED, leaving it is DELETED (cacher semantics). */
function translate(
  ev: WatchEvent,
  toApi: (so: WatchEvent['object']) => JsonObject,
  match: (o: JsonObject) => boolean,
): Out | undefined {
  const cur = toApi(ev.object);
  switch (ev.type) {
    case 'ADDED':
      return match(cur) ? { type: 'ADDED', object: cur } : undefined;
    case 'DELETED':
      return match(cur) ? { type: 'DELETED', object: cur } : undefined;
    case 'MODIFIED': {
      const now = match(cur);
      const before = match(toApi(ev.previous));
      if (now && before) return { type: 'MODIFIED', object: cur };
      if (now) return { type: 'ADDED', object: cur };
      if (before) return { type: 'DELETED', object: cur };
      return undefined;
    }
  }
}
