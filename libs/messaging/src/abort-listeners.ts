/**
 * Node's EventTarget compares each new listener with every listener already on the target, so
 * when thousands of waiting records each add their own 'abort' listener to one shared stop
 * signal, adding and removing them costs O(n²) (it was the dispatcher's largest CPU cost under
 * load). These helpers keep one real listener per signal with a Set of callbacks behind it.
 */
const callbacksBySignal = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `callback` once when `signal` aborts (at once if it already has). Returns the function
 * that unregisters it; call that when the wait it guards ends another way.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  if (signal.aborted) {
    callback();
    return () => undefined;
  }
  let callbacks = callbacksBySignal.get(signal);
  if (callbacks === undefined) {
    const registered = new Set<() => void>();
    callbacks = registered;
    callbacksBySignal.set(signal, registered);
    signal.addEventListener(
      'abort',
      () => {
        callbacksBySignal.delete(signal);
        for (const registeredCallback of registered) registeredCallback();
        registered.clear();
      },
      { once: true },
    );
  }
  // A wrapper, so that registering the same function twice still calls it twice.
  const entry = () => callback();
  const target = callbacks;
  target.add(entry);
  return () => target.delete(entry);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      resolve();
    }, ms);
    const unsubscribe = onAbort(signal, () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    });
  });
}
