/**
 * Workspace trust: in Restricted Mode the commands that run generated code (validate,
 * repair) are refused with the reason, and generate runs without trust (phases 1 to 6:
 * the files are generated, nothing runs). No `vscode` import.
 */

export const PLAN = 'specloom.plan';
export const GENERATE = 'specloom.generate';
export const VALIDATE = 'specloom.validate';
export const REPAIR = 'specloom.repair';
export const CANCEL = 'specloom.cancel';
export const STATUS = 'specloom.status';

/** The server's commands that run the generated app when the workspace is trusted. */
export const RUNS_GENERATED_CODE: ReadonlySet<string> = new Set([VALIDATE, REPAIR]);

export interface Gate {
  allowed: boolean;
  /** Why it is refused, or a note on what runs (generate in Restricted Mode). */
  reason?: string;
}

export const RESTRICTED_REASON =
  'runs the generated app and its tests on this machine, which Restricted Mode does not allow. ' +
  'Trust this workspace to enable it.';

export const RESTRICTED_SUMMARY =
  'Specloom: Validate and Repair run the generated app and its tests on this machine, which ' +
  'Restricted Mode does not allow; Generate writes the app without verifying it. Trust this ' +
  'workspace to enable them.';

export const GENERATE_NOTE =
  'Restricted Mode: the app is generated but not verified (phases 7 to 10 run the generated ' +
  'code and are skipped). Trust this workspace to verify it.';

export function commandLabel(command: string): string {
  const name = command.startsWith('specloom.') ? command.slice('specloom.'.length) : command;
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** May `command` run now? */
export function gate(command: string, workspaceTrusted: boolean): Gate {
  if (workspaceTrusted) {
    return { allowed: true };
  }
  if (RUNS_GENERATED_CODE.has(command)) {
    return { allowed: false, reason: `Specloom: ${commandLabel(command)} ${RESTRICTED_REASON}` };
  }
  if (command === GENERATE) {
    return { allowed: true, reason: GENERATE_NOTE };
  }
  return { allowed: true };
}
