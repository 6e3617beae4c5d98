/**
 * Everything a bench run starts (child processes, temp dirs) registers its undo here; run.ts
 * runs the list on success, error, SIGINT/SIGTERM and its own hard deadline, newest first.
 */
type Undo = () => void | Promise<void>;

const undos: { name: string; undo: Undo }[] = [];

/** Registers an undo; the returned function runs it now (once) and unregisters it. */
export function onCleanup(name: string, undo: Undo): () => Promise<void> {
  const entry = { name, undo };
  undos.push(entry);
  return async () => {
    const i = undos.indexOf(entry);
    if (i < 0) return;
    undos.splice(i, 1);
    await undo();
  };
}

export async function cleanupAll(): Promise<void> {
  while (undos.length > 0) {
    const { name, undo } = undos.pop()!;
    try {
      await undo();
    } catch (err) {
      console.error(`cleanup of ${name} failed: ${(err as Error).message}`);
    }
  }
}
