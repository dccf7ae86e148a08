import { errorMessage } from '../common/index.js';

/**
 * Runs until SIGINT/SIGTERM, then stops cleanly (a second signal forces exit). Components unref
 * their timers so they never hold a test process open; a daemon must live on while it waits (an
 * edge in back-off with nothing else scheduled would otherwise exit).
 */
export function untilSignal(stop: () => Promise<void>): void {
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let stopping = false;
  const onSignal = (sig: string): void => {
    if (stopping) process.exit(130);
    stopping = true;
    clearInterval(keepAlive);
    console.error(`\n${sig}: stopping…`);
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(`error while stopping: ${errorMessage(e)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
