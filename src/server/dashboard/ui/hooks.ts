/** Loading API answers into views: the last answer stays on screen while the next one loads. */
import { createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import { TokenNeeded } from "./api.ts";

/** What every view reads: a refresh counter (bumped by the poll and by a new token) and the hook to ask for the token. */
export const Live = createContext<{ tick: number; askToken: () => void }>({ tick: 0, askToken: () => {} });

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  /** True until the first answer for the current key. */
  loading: boolean;
}

/**
 * Runs `load` whenever `key` or the refresh tick changes. A stale answer (its key no longer
 * current) is dropped; on a refresh of the same key the old data stays until the new arrives.
 */
export function useLoad<T>(key: string, load: () => Promise<T>): Loaded<T> {
  const { tick, askToken } = useContext(Live);
  const [state, setState] = useState<{ key: string; data?: T; error?: Error }>({ key: "" });
  useEffect(() => {
    let current = true;
    load().then(
      (data) => current && setState({ key, data }),
      (error: Error) => {
        if (!current) return;
        if (error instanceof TokenNeeded) askToken();
        setState((old) => ({ key, data: old.key === key ? old.data : undefined, error }));
      },
    );
    return () => {
      current = false;
    };
  }, [key, tick]);
  const fresh = state.key === key;
  return { data: fresh ? state.data : undefined, error: fresh ? state.error : undefined, loading: !fresh };
}
