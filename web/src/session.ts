/** The signed-in API key lives in sessionStorage: it ends with the tab, and no cookie carries it. */
const KEY = 'hookflow.apiKey';

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, key);
}
