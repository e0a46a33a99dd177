/**
 * The spec URI a command is about. Code lenses pass the URI as a string, the editor
 * title and the explorer pass a `vscode.Uri`, the command palette passes nothing (the
 * active editor's document then). No `vscode` import.
 */

export interface UriLike {
  scheme: string;
  toString(): string;
}

export function isUriLike(value: unknown): value is UriLike {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { scheme?: unknown }).scheme === 'string' &&
    typeof (value as { toString?: unknown }).toString === 'function'
  );
}

export function uriString(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') {
    return value;
  }
  if (isUriLike(value)) {
    return value.toString();
  }
  return undefined;
}

/** The arguments to send to the server: the spec URI as a string first, then the rest. */
export function commandArguments(
  args: readonly unknown[],
  activeUri: string | undefined,
): { uri: string; args: unknown[] } | undefined {
  const first = uriString(args[0]);
  if (first !== undefined) {
    return { uri: first, args: [first, ...args.slice(1)] };
  }
  if (activeUri !== undefined) {
    return { uri: activeUri, args: [activeUri] };
  }
  return undefined;
}

/** Whether a path looks like a spec (for the active-editor fallback and context keys). */
export function looksLikeSpec(pathOrUri: string, languageId?: string): boolean {
  return languageId === 'specloom' || /\.spec\.md$/i.test(pathOrUri);
}
