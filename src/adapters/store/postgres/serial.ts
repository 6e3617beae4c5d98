/**
 * Runs async jobs one after another in call order: writes that must apply in the order they were
 * issued (AlarmStore) cannot race on different pooled connections. A failed job fails alone.
 */
export function serialQueue(): <T>(job: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(job: () => Promise<T>): Promise<T> => {
    const result = tail.then(job, job);
    tail = result.catch(() => undefined);
    return result;
  };
}
