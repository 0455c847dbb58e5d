/** Loading API answers into views: the last answer stays on screen while the next one loads. */
import { createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import { TokenNeeded } from "./api.ts";

/** What every view reads: a refresh counter (bumped by the poll and by a new token) and the hook to ask for the token. */
export const Live = createContext<{ tick: number; askToken: () => void }>({ tick: 0, askToken: () => {} });

export interface Loaded<T> {
  /** The latest answer; while a new key loads, the previous key's (so the page does not flicker). */
  data: T | undefined;
  error: Error | undefined;
  /** True until the first answer for the current key: `data` (if any) is for an older key. */
  loading: boolean;
}

/**
 * Runs `load` whenever `key` or the refresh tick changes. An answer for a key no longer current
 * is dropped; the last data stays on screen (marked busy) until the new answer arrives.
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
        // A failed refresh keeps the numbers it had; a failed new question shows none.
        setState((old) => ({ key, data: old.key === key ? old.data : undefined, error }));
      },
    );
    return () => {
      current = false;
    };
  }, [key, tick]);
  const fresh = state.key === key;
  return { data: state.data, error: fresh ? state.error : undefined, loading: !fresh };
}
