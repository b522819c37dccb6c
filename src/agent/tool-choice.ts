// Which tool_choice an agent turn sends, and what it forces. Pure, so that the loop that sends it and
// the check that judges the loop agree on what was asked.

import type { Case } from '../core/types.ts';

type ToolChoice = NonNullable<Case['params']['tool_choice']>;

/** The tool_choice a turn sends: the case's own (else `required`), and `none` on the last turn, so a loop that has gathered its results is asked for an answer. */
export function toolChoiceForTurn(testCase: Case, turn: number): ToolChoice {
  return turn < (testCase.agent?.maxTurns ?? 1) - 1 ? (testCase.params.tool_choice ?? 'required') : 'none';
}

/** The tool a tool_choice forces (`required` for any), or undefined when the model may answer without one. */
export function forcedToolName(choice: ToolChoice | undefined): string | undefined {
  if (choice === 'required') return 'required';
  return typeof choice === 'object' ? choice.function.name : undefined;
}

/** A tool_choice as a message shows it: `"required"`, `"auto"`, or the named tool's name. */
export function shownToolChoice(choice: ToolChoice): string {
  return typeof choice === 'string' ? `"${choice}"` : choice.function.name;
}
