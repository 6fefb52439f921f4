/** `promise`, or a rejection "<what> within <ms> ms" once `ms` pass (`what` is read then, so it may describe late state). */
export const within = <T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${typeof what === 'string' ? what : what()} within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
